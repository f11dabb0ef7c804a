import {
  getNamedType,
  GraphQLError,
  isObjectType,
  isInterfaceType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/** Arguments that bound how many items a list field returns. */
const LIST_SIZE_ARGUMENTS = ['limit', 'first', 'last'] as const;

export interface CostLimits {
  /**
   * Estimated cost per operation: every field costs 1, and a field with a `limit` (`first`,
   * `last`) argument charges its selection once per item it may return. Unset: not checked.
   */
  maxCost?: number;
  /** Items assumed when the size argument is a variable (validation never sees variables). */
  sizeOfVariableLimit?: number;
}

interface Tally {
  fields: number;
  cost: number;
}

function rootType(context: ValidationContext, node: OperationDefinitionNode) {
  const schema = context.getSchema();
  if (node.operation === 'mutation') return schema.getMutationType() ?? undefined;
  if (node.operation === 'subscription') return schema.getSubscriptionType() ?? undefined;
  return schema.getQueryType() ?? undefined;
}

function fieldDefinition(
  parent: GraphQLNamedType | undefined,
  name: string,
): GraphQLField<unknown, unknown> | undefined {
  if (!parent || !(isObjectType(parent) || isInterfaceType(parent))) return undefined;
  return parent.getFields()[name];
}

/**
 * Rejects operations selecting more than `maxFields` fields in total, counting every alias and
 * every use of a fragment, so alias amplification ("a1: f, a2: f, ...") is bounded; and, with
 * `maxCost`, operations whose list fields would return too much ("a1: instruments(limit: 100)
 * ..."). Depth is limited separately (Mercurius `queryDepth`).
 */
export function costLimitRule(maxFields: number, limits: CostLimits = {}): ValidationRule {
  const maxCost = limits.maxCost ?? Number.POSITIVE_INFINITY;
  const variableSize = limits.sizeOfVariableLimit ?? 100;
  return (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        fragments.set(definition.name.value, definition);
      }
    }

    /** Items the field may return per its size argument (given, or the schema's default). */
    const multiplier = (node: FieldNode, field: GraphQLField<unknown, unknown> | undefined) => {
      for (const name of LIST_SIZE_ARGUMENTS) {
        const given = node.arguments?.find((argument) => argument.name.value === name);
        if (given) {
          if (given.value.kind === Kind.INT) return Math.max(1, Number(given.value.value));
          if (given.value.kind === Kind.VARIABLE) return variableSize;
          return 1;
        }
        const declared = field?.args.find((argument) => argument.name === name);
        if (declared && typeof declared.defaultValue === 'number') {
          return Math.max(1, declared.defaultValue);
        }
      }
      return 1;
    };

    const count = (
      selectionSet: SelectionSetNode,
      parent: GraphQLNamedType | undefined,
      visiting: Set<string>,
      budget: Tally,
    ): Tally => {
      const total: Tally = { fields: 0, cost: 0 };
      for (const selection of selectionSet.selections) {
        if (total.fields > budget.fields || total.cost > budget.cost) break;
        const left = { fields: budget.fields - total.fields, cost: budget.cost - total.cost };
        let inner: Tally = { fields: 0, cost: 0 };
        if (selection.kind === Kind.FIELD) {
          const field = fieldDefinition(parent, selection.name.value);
          total.fields += 1;
          total.cost += 1;
          if (selection.selectionSet) {
            const times = multiplier(selection, field);
            const child = count(
              selection.selectionSet,
              field ? getNamedType(field.type) : undefined,
              visiting,
              { fields: left.fields - 1, cost: (left.cost - 1) / times },
            );
            inner = { fields: child.fields, cost: child.cost * times };
          }
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const condition = selection.typeCondition
            ? context.getSchema().getType(selection.typeCondition.name.value)
            : parent;
          inner = count(selection.selectionSet, condition ?? undefined, visiting, left);
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          // Unknown or cyclic fragments are reported by graphql's own rules.
          if (!fragment || visiting.has(name)) continue;
          visiting.add(name);
          const condition = context.getSchema().getType(fragment.typeCondition.name.value);
          inner = count(fragment.selectionSet, condition ?? undefined, visiting, left);
          visiting.delete(name);
        }
        total.fields += inner.fields;
        total.cost += inner.cost;
      }
      return total;
    };

    return {
      OperationDefinition(node) {
        const total = count(node.selectionSet, rootType(context, node), new Set(), {
          fields: maxFields,
          cost: maxCost,
        });
        if (total.fields > maxFields) {
          context.reportError(
            new GraphQLError(
              `Query is too complex: it selects more than ${maxFields} fields (aliases and fragments included)`,
              { nodes: [node] },
            ),
          );
        } else if (total.cost > maxCost) {
          context.reportError(
            new GraphQLError(
              `Query is too complex: its estimated cost is more than ${maxCost} (a field with a limit counts its selection once per item it may return)`,
              { nodes: [node] },
            ),
          );
        }
      },
    };
  };
}
