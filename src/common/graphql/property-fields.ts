import { defaultFieldResolver, type GraphQLField, type GraphQLFieldResolver } from 'graphql';

/** Set on a resolver that only reads `source[field]` (wrapped or not): see propertyField. */
const READS_PROPERTY = Symbol('graphql:readsProperty');

type Resolver = GraphQLFieldResolver<unknown, unknown>;

/**
 * Whether a resolver only reads the source object's property of the field's name: none,
 * graphql-js' default, the code-first schema builder's own reader (named `rootFieldResolver`;
 * a field with middleware or a field resolver of its own gets another function), or a wrapper
 * marked with markPropertyReader.
 */
export function readsProperty(resolve: Resolver | undefined): boolean {
  if (resolve === undefined || resolve === defaultFieldResolver) return true;
  if ((resolve as { [READS_PROPERTY]?: boolean })[READS_PROPERTY] === true) return true;
  return resolve.name === 'rootFieldResolver';
}

/** Marks `wrapper` as reading a property when the resolver it wraps does. */
export function markPropertyReader(wrapper: Resolver, wrapped: Resolver | undefined): Resolver {
  if (readsProperty(wrapped)) {
    Object.defineProperty(wrapper, READS_PROPERTY, { value: true });
  }
  return wrapper;
}

/**
 * A field whose value is the source object's property of its name, so a pre-compiled
 * serialiser may read it directly (the same value graphql-js would resolve).
 */
export function propertyField(field: GraphQLField<unknown, unknown>): boolean {
  return readsProperty(field.resolve);
}
