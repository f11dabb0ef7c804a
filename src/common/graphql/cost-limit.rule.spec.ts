import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { costLimitRule } from './cost-limit.rule';

const schema = buildSchema(`
  type Quote { ltp: Float close: Float depth: [Level] }
  type Level { price: Float qty: Int }
  type Query { quote: Quote me: String }
`);

function errors(query: string, maxFields: number): string[] {
  return validate(schema, parse(query), [...specifiedRules, costLimitRule(maxFields)]).map(
    (error) => error.message,
  );
}

describe('costLimitRule', () => {
  it('accepts an operation at the limit', () => {
    // quote, ltp, close, depth, price = 5 fields
    expect(errors('{ quote { ltp close depth { price } } }', 5)).toEqual([]);
  });

  it('refuses one field above the limit, with a clear message', () => {
    expect(errors('{ quote { ltp close depth { price qty } } }', 5)).toEqual([
      'Query is too complex: it selects more than 5 fields (aliases and fragments included)',
    ]);
  });

  it('counts every alias of the same field', () => {
    const aliases = Array.from({ length: 11 }, (_, i) => `a${i}: me`).join(' ');
    expect(errors(`{ ${aliases} }`, 10)).toHaveLength(1);
    expect(errors(`{ ${aliases} }`, 11)).toEqual([]);
  });

  it('counts a fragment once per use, including inline fragments', () => {
    const query = `
      fragment Q on Quote { ltp close }
      { a: quote { ...Q } b: quote { ...Q } c: quote { ... on Quote { ltp } } }
    `;
    // a, ltp, close, b, ltp, close, c, ltp = 8
    expect(errors(query, 8)).toEqual([]);
    expect(errors(query, 7)).toHaveLength(1);
  });

  it('survives a fragment cycle (reported by graphql itself, not looping here)', () => {
    const query = `
      fragment A on Quote { ltp ...B }
      fragment B on Quote { close ...A }
      { quote { ...A } }
    `;
    const messages = errors(query, 100);
    expect(messages.some((message) => /Cannot spread fragment/.test(message))).toBe(true);
  });

  it('checks each operation of a document on its own', () => {
    const query = 'query One { me } query Two { a: me b: me c: me }';
    expect(errors(query, 2)).toHaveLength(1);
  });
});

describe('costLimitRule with a cost budget (list fields charged by their limit)', () => {
  const listSchema = buildSchema(`
    type Instrument { symbol: String name: String }
    type Query {
      instruments(search: String!, limit: Int = 20): [Instrument!]!
      me: String
    }
  `);

  function costErrors(query: string, maxCost: number): string[] {
    return validate(listSchema, parse(query), [
      ...specifiedRules,
      costLimitRule(300, { maxCost, sizeOfVariableLimit: 100 }),
    ]).map((error) => error.message);
  }

  it('charges a selection once per item its limit allows', () => {
    // instruments 1 + 50 x (symbol, name) = 101
    expect(costErrors('{ instruments(search: "E", limit: 50) { symbol name } }', 101)).toEqual([]);
    expect(costErrors('{ instruments(search: "E", limit: 50) { symbol name } }', 100)).toEqual([
      'Query is too complex: its estimated cost is more than 100 (a field with a limit counts its selection once per item it may return)',
    ]);
  });

  it("uses the schema's default limit when none is given, and the maximum for a variable", () => {
    // 1 + 20 x 1 = 21
    expect(costErrors('{ instruments(search: "E") { symbol } }', 21)).toEqual([]);
    expect(costErrors('{ instruments(search: "E") { symbol } }', 20)).toHaveLength(1);
    // 1 + 100 x 1 = 101
    const withVariable = 'query ($n: Int) { instruments(search: "E", limit: $n) { symbol } }';
    expect(costErrors(withVariable, 101)).toEqual([]);
    expect(costErrors(withVariable, 100)).toHaveLength(1);
  });

  it('refuses the aliased search flood that stays under the field limit', () => {
    const aliases = Array.from(
      { length: 149 },
      (_, i) => `a${i}: instruments(search: "E", limit: 100) { symbol }`,
    ).join(' ');
    expect(costErrors(`{ ${aliases} }`, 3000)).toHaveLength(1);
    // The field count alone (298) lets it through.
    const fieldsOnly = validate(listSchema, parse(`{ ${aliases} }`), [
      ...specifiedRules,
      costLimitRule(300),
    ]);
    expect(fieldsOnly).toEqual([]);
  });

  it('charges fragments by their use inside a limited list', () => {
    const query = `
      fragment I on Instrument { symbol name }
      { instruments(search: "E", limit: 10) { ...I } }
    `;
    // 1 + 10 x 2 = 21
    expect(costErrors(query, 21)).toEqual([]);
    expect(costErrors(query, 20)).toHaveLength(1);
  });
});
