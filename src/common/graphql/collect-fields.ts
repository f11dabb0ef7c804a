import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  getDirectiveValues,
  type FieldNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** One response key of a selection: its field name and every sub-selection merged under it. */
export interface CollectedField {
  key: string;
  name: string;
  sets: SelectionSetNode[];
}

/**
 * The fields under these selection sets merged by response key (alias or name) in first-seen
 * order, as graphql-js collects them: fragments (each once) and inline fragments expanded,
 * @skip/@include applied. The pre-serialised subscription paths compile their JSON from it.
 */
export function collectFields(
  sets: readonly SelectionSetNode[],
  fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  variables: Readonly<Record<string, unknown>>,
): CollectedField[] {
  const out = new Map<string, CollectedField>();
  const included = (node: { directives?: FieldNode['directives'] }) => {
    if (!node.directives || node.directives.length === 0) return true;
    const n = node as FieldNode;
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
        const name = s.name.value;
        const fragment = fragments[name];
        if (!fragment || visited.has(name)) continue;
        visited.add(name);
        walk(fragment.selectionSet, visited);
      }
    }
  };
  for (const set of sets) walk(set, new Set());
  return [...out.values()];
}
