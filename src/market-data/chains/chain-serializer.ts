import {
  getNamedType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql';
import { collectFields } from '../../common/graphql/collect-fields';
import { propertyField } from '../../common/graphql/property-fields';

/** JSON text of one value for a selection. */
export type JsonOf = (value: unknown) => string;

function compileType(
  type: GraphQLOutputType,
  sets: readonly SelectionSetNode[],
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  variables: Readonly<Record<string, unknown>>,
): JsonOf {
  if (isNonNullType(type)) return compileType(type.ofType, sets, fragments, variables);
  if (isListType(type)) {
    const item = compileType(type.ofType, sets, fragments, variables);
    return (v) => {
      if (v === null || v === undefined) return 'null';
      const list = v as readonly unknown[];
      let out = '[';
      for (let i = 0; i < list.length; i++) out += (i === 0 ? '' : ',') + item(list[i]);
      return out + ']';
    };
  }
  if (isScalarType(type) || isEnumType(type)) {
    return (v) => (v === null || v === undefined ? 'null' : JSON.stringify(type.serialize(v)));
  }
  if (isObjectType(type)) return compileObject(type, sets, fragments, variables);
  throw new Error(`no fast serialiser for ${getNamedType(type).name}`);
}

function compileObject(
  type: GraphQLObjectType,
  sets: readonly SelectionSetNode[],
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  variables: Readonly<Record<string, unknown>>,
): JsonOf {
  const fields = type.getFields();
  const parts = collectFields(sets, fragments, variables).map((f) => {
    const prefix = JSON.stringify(f.key) + ':';
    if (f.name === '__typename') {
      const name = JSON.stringify(type.name);
      return { prefix, emit: () => name };
    }
    const def = fields[f.name];
    if (!def) throw new Error(`${type.name} has no field ${f.name}`);
    if (!propertyField(def)) throw new Error(`${type.name}.${f.name} has a resolver`);
    const inner = compileType(def.type, f.sets, fragments, variables);
    const name = f.name;
    return { prefix, emit: (o: Record<string, unknown>) => inner(o[name]) };
  });
  return (v) => {
    if (v === null || v === undefined) return 'null';
    const o = v as Record<string, unknown>;
    let out = '{';
    for (let i = 0; i < parts.length; i++) {
      out += (i === 0 ? '' : ',') + parts[i].prefix + parts[i].emit(o);
    }
    return out + '}';
  };
}

/**
 * A serialiser of the subscribed field's value for its selection, compiled once per
 * subscription from the schema: it writes what graphql-js would (scalars through their own
 * `serialize`, keys in selection order, aliases, fragments, @skip/@include, `__typename`) for
 * plain model objects whose fields have no resolvers. Throws at compile time otherwise.
 */
export function compileSelection(info: GraphQLResolveInfo): JsonOf {
  const node = info.fieldNodes[0];
  return compileType(
    info.returnType,
    node?.selectionSet ? [node.selectionSet] : [],
    info.fragments,
    info.variableValues as Record<string, unknown>,
  );
}

/** A stable signature of a selection (for grouping subscribers that share one serialisation). */
export function selectionSignature(info: GraphQLResolveInfo): string {
  const node = info.fieldNodes[0];
  const walk = (sets: readonly SelectionSetNode[]): string =>
    collectFields(sets, info.fragments, info.variableValues as Record<string, unknown>)
      .map((f) => `${f.key}:${f.name}${f.sets.length ? `{${walk(f.sets)}}` : ''}`)
      .join(' ');
  return walk(node?.selectionSet ? [node.selectionSet] : []);
}
