import {
  GraphQLError,
  Kind,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/**
 * Rejects operations selecting more than `maxFields` fields in total, counting every alias and
 * every use of a fragment, so alias amplification ("a1: f, a2: f, ...") is bounded. Depth is
 * limited separately (Mercurius `queryDepth`).
 */
export function costLimitRule(maxFields: number): ValidationRule {
  return (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        fragments.set(definition.name.value, definition);
      }
    }

    const count = (selectionSet: SelectionSetNode, visiting: Set<string>, budget: number) => {
      let total = 0;
      for (const selection of selectionSet.selections) {
        if (total > budget) break;
        if (selection.kind === Kind.FIELD) {
          total += 1;
          if (selection.selectionSet) {
            total += count(selection.selectionSet, visiting, budget - total);
          }
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          total += count(selection.selectionSet, visiting, budget - total);
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          // Unknown or cyclic fragments are reported by graphql's own rules.
          if (!fragment || visiting.has(name)) continue;
          visiting.add(name);
          total += count(fragment.selectionSet, visiting, budget - total);
          visiting.delete(name);
        }
      }
      return total;
    };

    return {
      OperationDefinition(node) {
        const total = count(node.selectionSet, new Set(), maxFields);
        if (total > maxFields) {
          context.reportError(
            new GraphQLError(
              `Query is too complex: it selects more than ${maxFields} fields (aliases and fragments included)`,
              { nodes: [node] },
            ),
          );
        }
      },
    };
  };
}
