import { defaultFieldResolver, type GraphQLFieldResolver } from 'graphql';
import { markPropertyReader, readsProperty } from './property-fields';

type Resolver = GraphQLFieldResolver<unknown, unknown>;

describe('property-reading resolvers (what a pre-compiled serialiser may skip)', () => {
  it('none, graphql-js default and the schema builder s own reader read a property', () => {
    const rootFieldResolver: Resolver = (root) => (root as Record<string, unknown>).x;
    expect(readsProperty(undefined)).toBe(true);
    expect(readsProperty(defaultFieldResolver)).toBe(true);
    expect(readsProperty(rootFieldResolver)).toBe(true);
  });

  it('a resolver of its own does not, and a wrapper is marked only when what it wraps reads one', () => {
    const computed: Resolver = () => 42;
    expect(readsProperty(computed)).toBe(false);
    const wrapsDefault = markPropertyReader(() => undefined, undefined);
    const wrapsComputed = markPropertyReader(() => undefined, computed);
    expect(readsProperty(wrapsDefault)).toBe(true);
    expect(readsProperty(wrapsComputed)).toBe(false);
    // Wrapping a marked wrapper keeps the mark.
    expect(readsProperty(markPropertyReader(() => undefined, wrapsDefault))).toBe(true);
  });
});
