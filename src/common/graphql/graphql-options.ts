import type { Type } from '@nestjs/common';
import type { MercuriusDriverConfig } from '@nestjs/mercurius';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { toPublicError } from '../errors/public-error';
import { ErrorCode } from '../errors/error-code';
import { costLimitRule } from './cost-limit.rule';
import type { GraphQLEndpoint, GraphQLRequestContext, Principal } from './graphql-context';

export const GRAPHQL_LIMITS = {
  queryDepth: 8,
  /** Fields per operation, aliases and fragment uses included. */
  maxFields: 300,
} as const;

const OPERATION_TYPE = Symbol('graphql:operationType');
const COUNTED = Symbol('graphql:counted');

export interface GraphqlEndpointOptions {
  endpoint: GraphQLEndpoint;
  path: string;
  include: Type[];
  /** Where the schema is written at boot outside production (reviewed in diffs); unset: nowhere. */
  schemaFile?: string;
  production: boolean;
  /** Full connection_init check (token, user, role); undefined refuses the socket. */
  authenticateConnection: (
    token: string | undefined,
    endpoint: GraphQLEndpoint,
  ) => Promise<Principal | undefined>;
  /** Reads the bearer token of connection_init params. */
  connectionToken: (params: Record<string, unknown>) => string | undefined;
  /**
   * Receives the endpoint's schema once Mercurius has it, with the validation the HTTP edge
   * applies, so the WebSocket gate validates and accounts subscriptions before they start.
   */
  registerSubscriptions: (
    schema: GraphQLSchema,
    rules: readonly ValidationRule[],
    depthLimit: number,
  ) => void;
  countOperation: (
    endpoint: string,
    operationType: string,
    result: 'success' | 'error' | 'rejected',
  ) => void;
  logError: (error: unknown, message: string) => void;
}

type CountingContext = {
  [OPERATION_TYPE]?: string;
  [COUNTED]?: boolean;
};

function operationTypeOf(document: DocumentNode): string {
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  return operation && operation.kind === Kind.OPERATION_DEFINITION
    ? operation.operation
    : 'unknown';
}

/** Nested validation errors (MER_ERR_GQL_VALIDATION) are reported one by one. */
function flatten(errors: readonly GraphQLError[]): GraphQLError[] {
  const flat: GraphQLError[] = [];
  for (const error of errors) {
    const nested = (error.originalError as { errors?: unknown } | undefined)?.errors;
    if (Array.isArray(nested)) {
      for (const inner of nested) {
        flat.push(
          inner instanceof GraphQLError
            ? inner
            : new GraphQLError((inner as Error).message, { originalError: inner as Error }),
        );
      }
    } else {
      flat.push(error);
    }
  }
  return flat;
}

/**
 * As Mercurius does by default: 200 when there is data; else the status the request error
 * carries (400 for a malformed or invalid document, a batch, too deep, too complex).
 */
function statusCodeOf(execution: ExecutionResult & { statusCode?: number }): number {
  if (execution.data) return 200;
  if (execution.statusCode !== undefined) return execution.statusCode;
  const errors = execution.errors ?? [];
  const carried = (errors[0]?.originalError as { statusCode?: unknown } | undefined)?.statusCode;
  return errors.length === 1 && typeof carried === 'number' ? carried : 200;
}

/** Mercurius options shared by the user and the admin endpoint: hardening, errors, auth. */
export function buildGraphqlOptions(options: GraphqlEndpointOptions): MercuriusDriverConfig {
  const { endpoint, production } = options;

  const errorFormatter = (
    execution: ExecutionResult & { statusCode?: number },
    context: CountingContext,
  ) => {
    const errors = flatten(execution.errors ?? []).map((error) => {
      const formatted = toPublicError(error, production);
      if (formatted.extensions?.code === ErrorCode.INTERNAL) {
        options.logError(error.originalError ?? error, 'GraphQL operation failed');
      }
      return formatted;
    });
    // Operations that reached execution are counted by onResolution, which runs after this.
    if (context && context[OPERATION_TYPE] === undefined && !context[COUNTED]) {
      context[COUNTED] = true;
      options.countOperation(endpoint, context[OPERATION_TYPE] ?? 'unknown', 'rejected');
    }
    return {
      statusCode: statusCodeOf(execution),
      response: { data: execution.data ?? null, errors },
    };
  };

  const validationRules: ValidationRule[] = [
    costLimitRule(GRAPHQL_LIMITS.maxFields),
    ...(production ? [NoSchemaIntrospectionCustomRule] : []),
  ];

  return {
    path: options.path,
    include: options.include,
    autoSchemaFile: production || options.schemaFile === undefined ? true : options.schemaFile,
    sortSchema: true,
    graphiql: !production,
    queryDepth: GRAPHQL_LIMITS.queryDepth,
    allowBatchedQueries: false,
    validationRules,
    errorFormatter: errorFormatter as unknown as MercuriusDriverConfig['errorFormatter'],
    context: (request: FastifyRequest, reply: FastifyReply): GraphQLRequestContext => ({
      endpoint,
      req: request,
      reply,
    }),
    subscription: {
      // No graphql-ws `ping` messages from Mercurius: the WebSocket gate sends WebSocket
      // pings, which also keep idle sockets alive through proxies and reveal dead peers.
      keepAlive: false,
      // The raw socket lets fast-path subscriptions (market-data `ticks`) write pre-serialised
      // graphql-ws frames without running graphql-js per event; Mercurius adds `id` per start.
      context: (socket: unknown): Partial<GraphQLRequestContext> & { socket: unknown } => ({
        endpoint,
        socket,
      }),
      onConnect: async (data: { payload?: unknown }) => {
        const params =
          typeof data.payload === 'object' && data.payload !== null
            ? (data.payload as Record<string, unknown>)
            : {};
        const token = options.connectionToken(params);
        const user = await options.authenticateConnection(token, endpoint);
        if (!user) return false;
        return { endpoint, user, accessToken: token } satisfies GraphQLRequestContext;
      },
    },
    // Runs inside the endpoint's Fastify scope, after Mercurius: hands its schema to the gate.
    plugins: [
      {
        plugin: async (scope: { graphql: { schema: GraphQLSchema } }) => {
          options.registerSubscriptions(
            scope.graphql.schema,
            validationRules,
            GRAPHQL_LIMITS.queryDepth,
          );
        },
      },
    ],
    hooks: {
      preExecution: [
        async (_schema: unknown, document: DocumentNode, context: CountingContext) => {
          context[OPERATION_TYPE] = operationTypeOf(document);
        },
      ],
      onResolution: [
        async (execution: ExecutionResult, context: CountingContext) => {
          context[COUNTED] = true;
          options.countOperation(
            endpoint,
            context[OPERATION_TYPE] ?? 'unknown',
            execution.errors && execution.errors.length > 0 ? 'error' : 'success',
          );
        },
      ],
      preSubscriptionExecution: [
        async () => {
          options.countOperation(endpoint, 'subscription', 'success');
        },
      ],
    },
  } as unknown as MercuriusDriverConfig;
}
