import {
  GraphQLError,
  Kind,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/** Introspection fields that return lists: each nesting multiplies the work by a schema's size. */
const INTROSPECTION_LISTS = new Set([
  'types',
  'fields',
  'args',
  'inputFields',
  'interfaces',
  'possibleTypes',
  'enumValues',
  'directives',
]);

export interface DepthLimits {
  /** Levels per operation, counted as Mercurius' `queryDepth` counts them. */
  maxDepth: number;
  /**
   * When set, a `__schema` or `__type` field counts as one level of its operation and its own
   * subtree is held to these bounds instead: the standard IntrospectionQuery (15 levels, three
   * nested lists) passes, while the field count and cost limits still apply to it. Unset (in
   * production, where introspection is refused anyway), introspection counts like any field.
   */
  introspection?: { maxDepth: number; maxListNesting: number };
}

interface Extent {
  depth: number;
  lists: number;
}

function isIntrospectionRoot(name: string): boolean {
  return name === '__schema' || name === '__type';
}

/**
 * Refuses operations deeper than `maxDepth` (a field or an inline fragment adds a level, a
 * fragment spread does not, as Mercurius counts), with introspection bounded on its own.
 */
export function depthLimitRule(limits: DepthLimits): ValidationRule {
  return (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        fragments.set(definition.name.value, definition);
      }
    }
    const memo = new Map<string, Extent>();
    const visiting = new Set<string>();
    /** The deepest introspection subtree seen in the current operation. */
    let introspection: Extent = { depth: 0, lists: 0 };

    const measure = (selectionSet: SelectionSetNode, inIntrospection: boolean): Extent => {
      const extent: Extent = { depth: 0, lists: 0 };
      const widen = (inner: Extent) => {
        extent.depth = Math.max(extent.depth, inner.depth);
        extent.lists = Math.max(extent.lists, inner.lists);
      };
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FRAGMENT_SPREAD) {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          // Unknown or cyclic fragments are reported by graphql's own rules.
          if (!fragment || visiting.has(name)) continue;
          const key = `${inIntrospection ? 'i' : 'o'}:${name}`;
          let inner = memo.get(key);
          if (inner === undefined) {
            visiting.add(name);
            inner = measure(fragment.selectionSet, inIntrospection);
            visiting.delete(name);
            memo.set(key, inner);
          }
          widen(inner);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const inner = measure(selection.selectionSet, inIntrospection);
          widen({ depth: inner.depth + 1, lists: inner.lists });
        } else if (
          !inIntrospection &&
          limits.introspection &&
          isIntrospectionRoot(selection.name.value)
        ) {
          const inner = selection.selectionSet
            ? measure(selection.selectionSet, true)
            : { depth: 0, lists: 0 };
          introspection = {
            depth: Math.max(introspection.depth, inner.depth + 1),
            lists: Math.max(introspection.lists, inner.lists),
          };
          widen({ depth: 1, lists: 0 });
        } else {
          const inner = selection.selectionSet
            ? measure(selection.selectionSet, inIntrospection)
            : { depth: 0, lists: 0 };
          const list = inIntrospection && INTROSPECTION_LISTS.has(selection.name.value) ? 1 : 0;
          widen({ depth: inner.depth + 1, lists: inner.lists + list });
        }
      }
      return extent;
    };

    return {
      OperationDefinition(node) {
        introspection = { depth: 0, lists: 0 };
        const { depth } = measure(node.selectionSet, false);
        const name = node.name ? `${node.name.value} query` : 'Query';
        if (depth > limits.maxDepth) {
          context.reportError(
            new GraphQLError(
              `${name} depth (${depth}) exceeds the query depth limit of ${limits.maxDepth}`,
              { nodes: [node] },
            ),
          );
        }
        const bound = limits.introspection;
        if (bound && introspection.depth > bound.maxDepth) {
          context.reportError(
            new GraphQLError(
              `Introspection depth (${introspection.depth}) exceeds the limit of ${bound.maxDepth}`,
              { nodes: [node] },
            ),
          );
        } else if (bound && introspection.lists > bound.maxListNesting) {
          context.reportError(
            new GraphQLError(
              `Introspection nests ${introspection.lists} lists; the limit is ${bound.maxListNesting}`,
              { nodes: [node] },
            ),
          );
        }
      },
    };
  };
}
