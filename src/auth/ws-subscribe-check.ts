import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { BadUserInputError } from '../common/errors/domain-error';
import { documentDepth, subscribedField, type ClientMessage, type JsonObject } from './ws-protocol';

/** Subscription documents are small; longer ones are refused before they are parsed. */
export const SUBSCRIPTION_MAX_QUERY_LENGTH = 16_384;
/** Parser token limit for subscription documents (graphql `maxTokens`). */
export const SUBSCRIPTION_MAX_TOKENS = 2_000;

/** What an endpoint's schema contributes: validation of subscription documents. */
export interface SubscriptionSchema {
  schema: GraphQLSchema;
  /** Rules beyond graphql's specified rules (the HTTP edge's own: cost, introspection). */
  rules: readonly ValidationRule[];
  depthLimit: number;
}

export type SubscribeMessage = Extract<ClientMessage, { type: 'subscribe' }>;

/** An admitted subscribe: its root field, and the message to hand Mercurius. */
export interface CheckedSubscribe {
  field: string;
  /** The subscribe with only the declared variables (Mercurius keeps it for the stream's life). */
  forward: string;
}

export function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { originalError: new BadUserInputError(message) });
}

/**
 * Checks a subscribe as the HTTP edge checks an operation (length, tokens, the endpoint's
 * validation rules, one subscription operation, depth, variables) before Mercurius sees it.
 * Returns the request errors, or the admitted subscription.
 */
export function checkSubscribe(
  endpoint: SubscriptionSchema | undefined,
  message: SubscribeMessage,
): CheckedSubscribe | readonly GraphQLError[] {
  const { id, payload } = message;
  if (!endpoint?.schema.getSubscriptionType()) {
    return [badInput('This endpoint has no subscriptions')];
  }
  if (payload.query.length > SUBSCRIPTION_MAX_QUERY_LENGTH) {
    return [
      badInput(
        `A subscription document may have at most ${SUBSCRIPTION_MAX_QUERY_LENGTH} characters`,
      ),
    ];
  }
  let document: DocumentNode;
  try {
    document = parse(payload.query, { maxTokens: SUBSCRIPTION_MAX_TOKENS });
  } catch (error) {
    return [error instanceof GraphQLError ? error : badInput('Syntax error')];
  }
  let errors: readonly GraphQLError[];
  try {
    errors = validate(endpoint.schema, document, [...specifiedRules, ...endpoint.rules]);
  } catch (error) {
    // graphql-js 16's SingleFieldSubscriptionsRule throws for `@skip(if: $var)` on a root
    // field (it evaluates the directive without variables): a request error all the same.
    return [error instanceof GraphQLError ? error : badInput('Invalid document')];
  }
  if (errors.length > 0) return errors;
  const operation = getOperationAST(document, payload.operationName);
  if (!operation) {
    return [
      badInput(
        payload.operationName === undefined
          ? 'The document must contain exactly one operation, or name one with operationName'
          : `Unknown operation named "${payload.operationName}"`,
      ),
    ];
  }
  if (operation.operation !== 'subscription') {
    return [
      badInput('Only subscriptions run over the WebSocket; send queries and mutations over HTTP'),
    ];
  }
  const depth = documentDepth(document);
  if (depth > endpoint.depthLimit) {
    return [badInput(`The document is ${depth} levels deep; the limit is ${endpoint.depthLimit}`)];
  }
  const coerced = getVariableValues(
    endpoint.schema,
    operation.variableDefinitions ?? [],
    payload.variables ?? {},
    { maxErrors: 10 },
  );
  if (coerced.errors) return coerced.errors;
  const field = subscribedField(document, operation, coerced.coerced);
  if (field === undefined) return [badInput('The subscription selects no field')];

  const declared = new Set(
    (operation.variableDefinitions ?? []).map((definition) => definition.variable.name.value),
  );
  const variables: JsonObject = {};
  for (const [name, value] of Object.entries(payload.variables ?? {})) {
    if (declared.has(name)) variables[name] = value;
  }
  return {
    field,
    forward: JSON.stringify({
      id,
      type: 'subscribe',
      payload: { query: payload.query, variables, operationName: payload.operationName },
    }),
  };
}
