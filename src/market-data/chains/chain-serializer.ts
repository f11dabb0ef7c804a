import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getDirectiveValues,
  getNamedType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql';

/** JSON text of one value for a selection. */
export type JsonOf = (value: unknown) => string;

interface Collected {
  key: string;
  name: string;
  sets: SelectionSetNode[];
}

/** Fields under these selection sets merged by response key (first-seen order), as graphql-js does. */
function collect(
  sets: readonly SelectionSetNode[],
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  variables: Readonly<Record<string, unknown>>,
): Collected[] {
  const out = new Map<string, Collected>();
  const included = (node: FieldNode | { directives?: FieldNode['directives'] }) => {
    const n = node as FieldNode;
    if (!n.directives || n.directives.length === 0) return true;
    if (getDirectiveValues(GraphQLSkipDirective, n, variables)?.if === true) return false;
    return getDirectiveValues(GraphQLIncludeDirective, n, variables)?.if !== false;
  };
  const walk = (set: SelectionSetNode, visited: Set<string>) => {
    for (const s of set.selections) {
      if (!included(s)) continue;
      if (s.kind === Kind.FIELD) {
        const key = s.alias?.value ?? s.name.value;
        let entry = out.get(key);
        if (!entry) {
          entry = { key, name: s.name.value, sets: [] };
          out.set(key, entry);
        }
        if (s.selectionSet) entry.sets.push(s.selectionSet);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        walk(s.selectionSet, visited);
      } else {
        const fragment = fragments[s.name.value];
        if (!fragment || visited.has(s.name.value)) continue;
        visited.add(s.name.value);
        walk(fragment.selectionSet, visited);
      }
    }
  };
  for (const set of sets) walk(set, new Set());
  return [...out.values()];
}

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
  const parts = collect(sets, fragments, variables).map((f) => {
    const prefix = JSON.stringify(f.key) + ':';
    if (f.name === '__typename') {
      const name = JSON.stringify(type.name);
      return { prefix, emit: () => name };
    }
    const def = fields[f.name];
    if (!def) throw new Error(`${type.name} has no field ${f.name}`);
    if (def.resolve) throw new Error(`${type.name}.${f.name} has a resolver`);
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
    collect(sets, info.fragments, info.variableValues as Record<string, unknown>)
      .map((f) => `${f.key}:${f.name}${f.sets.length ? `{${walk(f.sets)}}` : ''}`)
      .join(' ');
  return walk(node?.selectionSet ? [node.selectionSet] : []);
}
