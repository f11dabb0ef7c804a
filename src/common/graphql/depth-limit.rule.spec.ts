import { buildSchema, getIntrospectionQuery, parse, specifiedRules, validate } from 'graphql';
import { depthLimitRule } from './depth-limit.rule';

const schema = buildSchema(`
  type Leaf { id: ID! }
  type Node { id: ID! child: Node leaf: Leaf }
  type Query { node: Node }
`);

const rule = depthLimitRule({
  maxDepth: 4,
  introspection: { maxDepth: 20, maxListNesting: 3 },
});
const strict = depthLimitRule({ maxDepth: 4 });

function errors(query: string, r = rule): string[] {
  return validate(schema, parse(query), [...specifiedRules, r]).map((e) => e.message);
}

describe('depthLimitRule', () => {
  it('counts fields and inline fragments as Mercurius does, fragments spreads not', () => {
    expect(errors('{ node { child { child { id } } } }')).toEqual([]);
    expect(errors('{ node { child { child { child { id } } } } }')).toEqual([
      'Query depth (5) exceeds the query depth limit of 4',
    ]);
    expect(errors('query Q { node { ... on Node { child { child { id } } } } }')).toEqual([
      'Q query depth (5) exceeds the query depth limit of 4',
    ]);
    expect(
      errors('{ node { ...F } } fragment F on Node { child { child { child { id } } } }'),
    ).toEqual(['Query depth (5) exceeds the query depth limit of 4']);
  });

  it('lets the standard IntrospectionQuery through outside production, all options on', () => {
    const full = getIntrospectionQuery({
      descriptions: true,
      inputValueDeprecation: true,
      schemaDescription: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
    });
    expect(errors(full)).toEqual([]);
    // Without the introspection bound (production), it is held to the plain limit.
    expect(errors(full, strict)).toEqual([
      'IntrospectionQuery query depth (15) exceeds the query depth limit of 4',
    ]);
  });

  it('still bounds introspection: its depth and its nested lists', () => {
    const ofTypes = 'ofType { '.repeat(19) + 'name' + ' }'.repeat(19);
    expect(errors(`{ __type(name: "Query") { ${ofTypes} } }`)).toEqual([
      'Introspection depth (21) exceeds the limit of 20',
    ]);
    expect(
      errors('{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }'),
    ).toContain('Introspection nests 4 lists; the limit is 3');
    // The rest of the operation keeps its own limit.
    expect(
      errors(
        '{ __typename a: __schema { queryType { name } } node { child { child { child { id } } } } }',
      ),
    ).toEqual(['Query depth (5) exceeds the query depth limit of 4']);
  });
});
