import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLFloat,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  execute,
  parse,
  type GraphQLResolveInfo,
} from 'graphql';
import { compileSelection, selectionSignature } from './chain-serializer';

const Status = new GraphQLEnumType({ name: 'Status', values: { OK: {}, NO_PRICE: {} } });
const Instant = new GraphQLScalarType({
  name: 'Instant',
  serialize: (v) => (v as Date).toISOString(),
});
const Quote = new GraphQLObjectType({
  name: 'Quote',
  fields: { ltp: { type: GraphQLFloat }, at: { type: Instant }, stale: { type: GraphQLBoolean } },
});
const Side = new GraphQLObjectType({
  name: 'Side',
  fields: { quote: { type: Quote }, status: { type: new GraphQLNonNull(Status) } },
});
const Strike = new GraphQLObjectType({
  name: 'Strike',
  fields: { strike: { type: GraphQLFloat }, call: { type: Side }, put: { type: Side } },
});
const Chain = new GraphQLObjectType({
  name: 'Chain',
  fields: {
    underlying: { type: GraphQLString },
    atm: { type: GraphQLFloat },
    snapshot: { type: GraphQLBoolean },
    strikes: { type: new GraphQLList(new GraphQLNonNull(Strike)) },
  },
});

const value = {
  underlying: 'NIFTY',
  atm: 24500.5,
  snapshot: false,
  strikes: [
    {
      strike: 24500,
      call: {
        quote: { ltp: 101.05, at: new Date(Date.UTC(2026, 11, 4, 4, 0)), stale: false },
        status: 'OK',
      },
      put: null,
    },
    {
      strike: 24550,
      call: { quote: null, status: 'NO_PRICE' },
      put: { quote: { ltp: null, at: null, stale: true }, status: 'OK' },
    },
  ],
};

/** The selection's info as a resolver of `chain` would see it, and graphql-js's own answer. */
function both(query: string, variables: Record<string, unknown> = {}) {
  let info!: GraphQLResolveInfo;
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        chain: {
          type: Chain,
          resolve: (_root, _args, _ctx, i) => {
            info = i;
            return value;
          },
        },
      },
    }),
  });
  const result = execute({ schema, document: parse(query), variableValues: variables }) as {
    data: { [k: string]: unknown };
  };
  const key = Object.keys(result.data)[0];
  return { ours: compileSelection(info)(value), theirs: JSON.stringify(result.data[key]), info };
}

describe('compileSelection (optionChainUpdates outside graphql-js)', () => {
  it.each([
    [
      'plain nested selection',
      '{ chain { underlying atm strikes { strike call { quote { ltp at stale } status } put { status } } } }',
    ],
    [
      'aliases, __typename and repeated fields merged',
      '{ c: chain { __typename u: underlying strikes { call { quote { ltp } } call { quote { at } status } s: strike } } }',
    ],
    [
      'fragments, inline fragments and directives',
      'query Q($no: Boolean!) { chain { ...F strikes { ... on Strike { strike @skip(if: $no) put @include(if: $no) { status } } } } } fragment F on Chain { snapshot atm }',
    ],
  ])('%s: the same JSON as graphql-js', (_name, query) => {
    const { ours, theirs } = both(query, { no: true });
    expect(ours).toBe(theirs);
    expect(JSON.parse(ours)).toEqual(JSON.parse(theirs));
  });

  it('gives the same signature to the same selection, whatever its spelling, and another to another', () => {
    const a = both('{ chain { atm strikes { strike } } }').info;
    const b = both('{ chain { ...F } } fragment F on Chain { atm strikes { strike } }').info;
    const c = both('{ chain { atm strikes { s: strike } } }').info;
    expect(selectionSignature(a)).toBe(selectionSignature(b));
    expect(selectionSignature(a)).not.toBe(selectionSignature(c));
  });
});
