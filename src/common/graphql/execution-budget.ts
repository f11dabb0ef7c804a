import {
  defaultFieldResolver,
  isObjectType,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql';
import { DomainError } from '../errors/domain-error';
import { ErrorCode } from '../errors/error-code';
import { markPropertyReader } from './property-fields';

/** When (performance.now()) the operation's time is up; set per HTTP query (not mutations). */
export const EXECUTION_DEADLINE = Symbol('graphql:executionDeadline');
const BUDGET_ERROR = Symbol('graphql:budgetError');

export interface BudgetContext {
  [EXECUTION_DEADLINE]?: number;
  [BUDGET_ERROR]?: DomainError;
}

/**
 * Gives every field of the schema a deadline check: once an operation's time budget is spent,
 * fields that have not started yet are not resolved and fail with CAPACITY_EXCEEDED (the
 * server's capacity for one operation), the same error for all of them, so the answer carries
 * it once (see the error formatter). What already runs is not interrupted. Operations without a
 * deadline in their context (subscription events) are not affected.
 */
export function withExecutionBudget(schema: GraphQLSchema, budgetMs: number): GraphQLSchema {
  const subscriptionType = schema.getSubscriptionType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || type === subscriptionType) continue;
    for (const field of Object.values(type.getFields())) {
      const original = field.resolve;
      const resolve: GraphQLFieldResolver<unknown, unknown> = original ?? defaultFieldResolver;
      const budgeted: GraphQLFieldResolver<unknown, BudgetContext | undefined> = (
        source,
        args,
        context,
        info,
      ) => {
        const deadline = context?.[EXECUTION_DEADLINE];
        if (context && deadline !== undefined && performance.now() >= deadline) {
          context[BUDGET_ERROR] ??= new DomainError(
            ErrorCode.CAPACITY_EXCEEDED,
            `The operation ran out of its time budget (${budgetMs} ms): fields not started by then were not resolved; ask for less`,
            { limit: 'executionTimeMs', budgetMs },
          );
          throw context[BUDGET_ERROR];
        }
        return resolve(source, args, context, info);
      };
      // Pre-compiled serialisers (option chain frames) still see a property read as one.
      field.resolve = markPropertyReader(
        budgeted as GraphQLFieldResolver<unknown, unknown>,
        original,
      );
    }
  }
  return schema;
}
