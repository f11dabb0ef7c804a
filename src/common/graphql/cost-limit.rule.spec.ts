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
