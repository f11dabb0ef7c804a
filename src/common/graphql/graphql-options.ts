import type { Type } from '@nestjs/common';
import type { MercuriusDriverConfig } from '@nestjs/mercurius';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  getOperationAST,
  GraphQLError,
  Kind,
  Location,
  parse,
  NoSchemaIntrospectionCustomRule,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { DomainError, RequestRefusedError } from '../errors/domain-error';
import { ErrorCode } from '../errors/error-code';
import { toPublicError } from '../errors/public-error';
import { costLimitRule } from './cost-limit.rule';
import { depthLimitRule } from './depth-limit.rule';
import { withExecutionBudget, type BudgetContext, EXECUTION_DEADLINE } from './execution-budget';
import type { GraphQLEndpoint, GraphQLRequestContext, Principal } from './graphql-context';

/**
 * Bounds of one GraphQL request over HTTP. Memory per request is bounded whatever its content:
 * the body by `bodyBytes`, the document by `queryChars` and `maxTokens` (checked while
 * parsing, before any tree is built), and what Mercurius keeps between requests by
 * `cacheEntries`. Its cache (a QuickLRU: up to twice that many entries) holds valid documents,
 * each at most `maxTokens` tokens (about 250 bytes a token with locations), and a second one
 * refused documents, which keep only their text and validation messages (releaseRefused), so
 * a few tens of MB per endpoint at worst.
 */
export const GRAPHQL_LIMITS = {
  queryDepth: 8,
  /**
   * Outside production, an introspection field (`__schema`, `__type`) counts one level and its
   * own subtree is bounded here: the standard IntrospectionQuery is 15 levels deep with three
   * nested lists (types, fields, args), so GraphiQL, code generators and API tools work.
   */
  introspectionDepth: 20,
  introspectionListNesting: 3,
  /** Fields per operation, aliases and fragment uses included. */
  maxFields: 300,
  /** Estimated cost per operation: a field with a `limit` charges its selection per item. */
  maxCost: 3000,
  /** Items assumed for a `limit` given as a variable (an instrument search's largest). */
  sizeOfVariableLimit: 100,
  /** Request body, bytes (413 above). */
  bodyBytes: 256 * 1024,
  /** Query document, characters (413 above). */
  queryChars: 32 * 1024,
  /** Lexical tokens of a query document (graphql-js stops parsing above). */
  maxTokens: 2000,
  /** Validation errors reported per document (graphql-js stops validating above). */
  maxValidationErrors: 20,
  /** Parsed documents Mercurius keeps per endpoint: valid ones, and as many refused ones. */
  cacheEntries: 64,
} as const;

const OPERATION_TYPE = Symbol('graphql:operationType');
const COUNTED = Symbol('graphql:counted');
const DOCUMENT = Symbol('graphql:document');

/** Who sent an HTTP operation, as the edge sees it before any resolver runs. */
export interface EdgeCaller {
  id: string;
  admin: boolean;
}

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
  /** A client mistake (every code but INTERNAL): logged below error level, without a stack. */
  logRefusal: (refusal: { code: string; message: string; path?: string }) => void;
  /** The caller of a valid access token in this Authorization header; undefined: anonymous. */
  identifyCaller: (authorization: string | undefined) => Promise<EdgeCaller | undefined>;
  /** Admits one operation of a caller (rate and concurrency) or throws RATE_LIMITED. */
  admit: (caller: string) => Promise<() => void>;
  /** Time an operation may take before its remaining fields are no longer resolved. */
  executionBudgetMs: number;
}

type CountingContext = BudgetContext & {
  [OPERATION_TYPE]?: string;
  [COUNTED]?: boolean;
  /** The document parsed for this request (not when it came from Mercurius's cache). */
  [DOCUMENT]?: object;
  req?: FastifyRequest;
  reply?: FastifyReply;
  user?: Principal;
};

function operationTypeOf(document: DocumentNode): string {
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  return operation && operation.kind === Kind.OPERATION_DEFINITION
    ? operation.operation
    : 'unknown';
}

/** Does the document select `__schema` or `__type` anywhere (fragments included)? */
function introspects(document: DocumentNode): boolean {
  const pending: { selectionSet?: { selections: readonly unknown[] } }[] = [
    ...document.definitions,
  ] as { selectionSet?: { selections: readonly unknown[] } }[];
  while (pending.length > 0) {
    const node = pending.pop();
    for (const selection of (node?.selectionSet?.selections ?? []) as {
      kind: string;
      name?: { value: string };
      selectionSet?: { selections: readonly unknown[] };
    }[]) {
      if (
        selection.kind === Kind.FIELD &&
        (selection.name?.value === '__schema' || selection.name?.value === '__type')
      ) {
        return true;
      }
      if (selection.selectionSet) pending.push(selection);
    }
  }
  return false;
}

/**
 * Checks of a GET that Mercurius makes too late or not at all. It looks up the operation before
 * anything checks that it exists, and fails with a TypeError (INTERNAL) when the name matches
 * none or several operations are unnamed. A GET is at most a URL long: parsing it once more
 * here costs little.
 */
function checkGetOperation(source: string, query: unknown): void {
  // GET variables are a JSON string Mercurius parses later; graphql-js asserts (INTERNAL) that
  // they are an object. An empty string is falsy to Mercurius, which passes it on unparsed.
  const variables = (query as { variables?: unknown } | undefined)?.variables;
  if (typeof variables === 'string') {
    let parsed: unknown;
    try {
      parsed = variables === '' ? '' : JSON.parse(variables);
    } catch {
      parsed = undefined; // Mercurius reports it
    }
    if (
      parsed !== undefined &&
      parsed !== null &&
      (typeof parsed !== 'object' || Array.isArray(parsed))
    ) {
      throw new RequestRefusedError(
        ErrorCode.BAD_USER_INPUT,
        'variables must be a JSON object',
        400,
      );
    }
  }
  let document: DocumentNode;
  try {
    document = parse(source, { maxTokens: GRAPHQL_LIMITS.maxTokens });
  } catch {
    return; // Mercurius reports it
  }
  const name = (query as { operationName?: unknown } | undefined)?.operationName;
  // As Mercurius passes it on: an empty name is a name that no operation has.
  const operationName = typeof name === 'string' ? name : undefined;
  if (!getOperationAST(document, operationName)) {
    throw new RequestRefusedError(
      ErrorCode.BAD_USER_INPUT,
      operationName === undefined
        ? 'The query must hold one operation, or operationName must name the one to run'
        : `Unknown operation named "${operationName}"`,
      400,
    );
  }
}

/** Marks every document that fails validation (any rule), so its tree can be released. */
function markRefused(refused: WeakSet<object>): ValidationRule {
  return (context) => {
    const report = context.reportError.bind(context);
    context.reportError = (error: GraphQLError) => {
      refused.add(context.getDocument());
      report(error);
    };
    return {};
  };
}

/**
 * Mercurius keeps a refused document, with its validation errors, to answer it again without
 * work; only the errors' messages and locations are needed for that. The tree (and the token
 * list every node's location links to) is dropped, so a kept refused query costs its text and
 * a few messages (about 30 KB for 2,000 tokens instead of 600 KB).
 */
function releaseRefused(document: object, errors: readonly GraphQLError[]): void {
  const tree = document as { definitions?: unknown; loc?: unknown };
  tree.definitions = [];
  delete tree.loc;
  for (const error of errors) {
    const nested = (error.originalError as { errors?: unknown } | undefined)?.errors;
    for (const inner of Array.isArray(nested) ? nested : [error]) {
      if (inner instanceof GraphQLError) {
        (inner as { nodes?: unknown }).nodes = undefined;
        // V8 keeps an error's stack unformatted until read, with the frames' receivers (the
        // validation context, so the whole tree): set, it is a plain string.
        inner.stack = '';
      }
    }
  }
}

/**
 * Nested errors of a Mercurius request error (MER_ERR_GQL_VALIDATION, a GET mutation) are
 * reported one by one; plain ones describe the request too, so they become request errors.
 */
function flatten(errors: readonly GraphQLError[]): GraphQLError[] {
  const flat: GraphQLError[] = [];
  for (const error of errors) {
    const nested = (error.originalError as { errors?: unknown } | undefined)?.errors;
    if (Array.isArray(nested)) {
      for (const inner of nested) {
        flat.push(
          inner instanceof GraphQLError
            ? inner
            : new GraphQLError(inner instanceof Error ? inner.message : String(inner)),
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
  /** The caller of each HTTP request, identified once when it arrives (null: anonymous). */
  const callers = new WeakMap<FastifyRequest, EdgeCaller | null>();
  /** Documents that failed validation (kept by Mercurius in its cache of refused queries). */
  const refused = new WeakSet<object>();

  const callerOf = (context: CountingContext | undefined): EdgeCaller | undefined => {
    const seen = context?.req ? callers.get(context.req) : undefined;
    if (seen) return seen;
    // A subscription socket: its user passed connection_init (admins only on the admin endpoint).
    if (context?.user) return { id: context.user.id, admin: endpoint === 'admin' };
    return undefined;
  };

  /** "Did you mean ...?" only for callers allowed to know the schema. */
  const mayProbeSchema = (context: CountingContext | undefined): boolean => {
    const caller = callerOf(context);
    return caller !== undefined && (endpoint === 'user' || caller.admin);
  };

  const errorFormatter = (
    execution: ExecutionResult & { statusCode?: number },
    context: CountingContext,
  ) => {
    const parsed = context?.[DOCUMENT];
    if (parsed && refused.has(parsed)) releaseRefused(parsed, execution.errors ?? []);
    const hideSuggestions = !mayProbeSchema(context);
    const seen = new Set<unknown>();
    const errors = flatten(execution.errors ?? [])
      // The time budget stops every field left: one error says so.
      .filter((error) => {
        const original = error.originalError;
        if (!(original instanceof DomainError)) return true;
        if (seen.has(original)) return false;
        seen.add(original);
        return true;
      })
      .map((error) => {
        const formatted = toPublicError(error, production, { hideSuggestions });
        const code = formatted.extensions?.code;
        if (code === ErrorCode.INTERNAL) {
          options.logError(error.originalError ?? error, 'GraphQL operation failed');
        } else {
          options.logRefusal({
            code: String(code),
            message: formatted.message,
            ...(formatted.path ? { path: formatted.path.join('.') } : {}),
          });
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

  /** Identifies the caller and applies its rate and concurrency limits, before the body is read. */
  const scopeSetup = (scope: FastifyInstance) => {
    scope.addHook('onRequest', async (request, reply) => {
      // Only operations: not a WebSocket upgrade (its own limits).
      if (request.routeOptions.url !== options.path || (request as { ws?: boolean }).ws === true) {
        return;
      }
      const caller = await options
        .identifyCaller(request.headers.authorization)
        .catch(() => undefined);
      callers.set(request, caller ?? null);
      let release: () => void;
      try {
        release = await options.admit(caller ? `user:${caller.id}` : `address:${request.ip}`);
      } catch (error) {
        if (!(error instanceof RequestRefusedError)) throw error;
        const retryAfter = error.details?.retryAfterSeconds;
        if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
        options.countOperation(endpoint, 'unknown', 'rejected');
        return reply.code(error.statusCode).send({
          data: null,
          errors: [
            toPublicError(new GraphQLError(error.message, { originalError: error }), production),
          ],
        });
      }
      // 'close' follows the answer, or the client going away first: either way it is done.
      reply.raw.once('close', release);
    });
  };

  const refuse = (code: ErrorCode, message: string, statusCode: number): never => {
    throw new RequestRefusedError(code, message, statusCode);
  };

  /** Rules beyond graphql's own, shared by HTTP operations and WebSocket subscriptions. */
  const validationRules: ValidationRule[] = [
    costLimitRule(GRAPHQL_LIMITS.maxFields, {
      maxCost: GRAPHQL_LIMITS.maxCost,
      sizeOfVariableLimit: GRAPHQL_LIMITS.sizeOfVariableLimit,
    }),
    ...(production ? [NoSchemaIntrospectionCustomRule] : []),
  ];
  /** HTTP operations' depth (WebSocket subscriptions are measured by the gate). */
  const depthRule = depthLimitRule({
    maxDepth: GRAPHQL_LIMITS.queryDepth,
    introspection: production
      ? undefined
      : {
          maxDepth: GRAPHQL_LIMITS.introspectionDepth,
          maxListNesting: GRAPHQL_LIMITS.introspectionListNesting,
        },
  });

  return {
    path: options.path,
    include: options.include,
    scopeSetup,
    transformSchema: (schema: GraphQLSchema) =>
      withExecutionBudget(schema, options.executionBudgetMs),
    cache: GRAPHQL_LIMITS.cacheEntries,
    graphql: {
      parseOptions: { maxTokens: GRAPHQL_LIMITS.maxTokens },
      validateOptions: { maxErrors: GRAPHQL_LIMITS.maxValidationErrors },
    },
    additionalRouteOptions: { bodyLimit: GRAPHQL_LIMITS.bodyBytes },
    autoSchemaFile: production || options.schemaFile === undefined ? true : options.schemaFile,
    sortSchema: true,
    // Mercurius' own GraphiQL loads its scripts from a CDN: the server serves its own page
    // (src/graphiql) from installed packages instead.
    graphiql: false,
    // Depth is the validation rule above (Mercurius' own check cannot set introspection apart).
    allowBatchedQueries: false,
    validationRules: [markRefused(refused), depthRule, ...validationRules],
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
      preParsing: [
        async (_schema: unknown, source: string, context: CountingContext) => {
          if (source.length > GRAPHQL_LIMITS.queryChars) {
            refuse(
              ErrorCode.BAD_USER_INPUT,
              `Query document too long: at most ${GRAPHQL_LIMITS.queryChars} characters`,
              413,
            );
          }
          const request = context.reply?.request;
          if (request?.method === 'GET') checkGetOperation(source, request.query);
        },
      ],
      preValidation: [
        async (_schema: unknown, document: unknown, context: CountingContext) => {
          // Mercurius reads a query that is not GraphQL as a JSON syntax tree: never trusted.
          const loc = (document as { loc?: unknown } | null)?.loc;
          if (typeof document !== 'object' || document === null || !(loc instanceof Location)) {
            refuse(ErrorCode.BAD_USER_INPUT, 'The query must be a GraphQL document', 400);
          }
          context[DOCUMENT] = document as object;
        },
      ],
      preExecution: [
        async (_schema: unknown, document: DocumentNode, context: CountingContext) => {
          const http = context.reply !== undefined;
          if (
            http &&
            document.definitions.some(
              (d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === 'subscription',
            )
          ) {
            refuse(
              ErrorCode.BAD_USER_INPUT,
              'Subscriptions are served over WebSocket (graphql-transport-ws), not over HTTP',
              400,
            );
          }
          if (endpoint === 'admin' && introspects(document)) {
            const caller = callerOf(context);
            if (!caller) {
              refuse(
                ErrorCode.UNAUTHENTICATED,
                'Introspection of the admin schema needs an admin token',
                401,
              );
            } else if (!caller.admin) {
              refuse(ErrorCode.FORBIDDEN, 'Admin role required', 403);
            }
          }
          context[OPERATION_TYPE] = operationTypeOf(document);
          // Reads only: a mutation's effect is done once its field returns, and must be reported.
          const readOnly = document.definitions.every(
            (d) => d.kind !== Kind.OPERATION_DEFINITION || d.operation === 'query',
          );
          if (http && readOnly) {
            context[EXECUTION_DEADLINE] = performance.now() + options.executionBudgetMs;
          }
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
