import { HttpException } from '@nestjs/common';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { DomainError } from './domain-error';
import { ErrorCode } from './error-code';

export const INTERNAL_MESSAGE = 'Internal server error';

const HTTP_STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: ErrorCode.BAD_USER_INPUT,
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  409: ErrorCode.CONFLICT,
  429: ErrorCode.RATE_LIMITED,
};

/** Mercurius errors whose messages describe the client's request and are safe to show. */
const REQUEST_ERROR_CODES = new Set([
  'MER_ERR_GQL_VALIDATION',
  'MER_ERR_GQL_QUERY_DEPTH',
  'MER_ERR_GQL_CSRF_PREVENTION',
  'MER_ERR_GQL_PERSISTED_QUERY_NOT_FOUND',
  'MER_ERR_GQL_PERSISTED_QUERY_NOT_SUPPORTED',
  'MER_ERR_GQL_PERSISTED_QUERY_MISMATCH',
  'MER_ERR_GQL_SUBSCRIPTION_INVALID_OPERATION',
  'MER_ERR_GQL_SUBSCRIPTION_MESSAGE_INVALID',
  'MER_ERR_INVALID_METHOD',
  'MER_ERR_METHOD_NOT_ALLOWED',
  'FST_ERR_VALIDATION',
]);

/**
 * Fastify's own refusals of a request body (too large, not JSON, a forbidden `__proto__` key,
 * an unsupported content type): client mistakes with generic, safe messages.
 */
function isFastifyClientError(error: unknown): boolean {
  const code = errorCodeOf(error);
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return (
    code !== undefined &&
    code.startsWith('FST_ERR_') &&
    typeof status === 'number' &&
    status >= 400 &&
    status < 500
  );
}

export interface PublicErrorOptions {
  /** Drop graphql-js "Did you mean ...?" hints (always in production). */
  hideSuggestions?: boolean;
}

export interface PublicErrorClassification {
  code: ErrorCode;
  message: string;
  details?: Readonly<Record<string, string | number | boolean>>;
}

function errorCodeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

function httpExceptionMessage(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'object' && response !== null && 'message' in response) {
    const message = (response as { message: unknown }).message;
    if (Array.isArray(message)) return message.join('; ');
    if (typeof message === 'string') return message;
  }
  return error.message;
}

/** Graphql-js "Did you mean ...?" hints let a client probe a schema it cannot introspect. */
function withoutSuggestions(message: string): string {
  return message.replace(/\s*Did you mean .*\?$/s, '');
}

/**
 * Decides the public code and message for anything that went wrong while serving a GraphQL
 * operation. The one mapping from internal errors to the public contract.
 */
export function classifyError(
  error: unknown,
  production: boolean,
  options: PublicErrorOptions = {},
): PublicErrorClassification {
  const hideSuggestions = production || options.hideSuggestions === true;
  const original =
    error instanceof GraphQLError && error.originalError ? error.originalError : error;
  if (original instanceof DomainError) {
    return { code: original.code, message: original.message, details: original.details };
  }
  if (original instanceof HttpException) {
    const code = HTTP_STATUS_CODES[original.getStatus()];
    if (code) return { code, message: httpExceptionMessage(original) };
  }
  const mercuriusCode = errorCodeOf(original);
  if (
    (mercuriusCode !== undefined && REQUEST_ERROR_CODES.has(mercuriusCode)) ||
    isFastifyClientError(original)
  ) {
    const message = (original as Error).message;
    return {
      code: ErrorCode.BAD_USER_INPUT,
      message: hideSuggestions ? withoutSuggestions(message) : message,
    };
  }
  // A GraphQLError of its own (parse, validation) describes the request; so does a variable
  // that failed coercion (an unknown enum value, a scalar's parseValue refusing it), which
  // graphql-js reports with no path and the coercion's own GraphQLError as the original.
  const variableCoercion =
    error instanceof GraphQLError &&
    error.path === undefined &&
    error.originalError instanceof GraphQLError;
  if (error instanceof GraphQLError && (error.originalError === undefined || variableCoercion)) {
    return {
      code: ErrorCode.BAD_USER_INPUT,
      message: hideSuggestions ? withoutSuggestions(error.message) : error.message,
    };
  }
  // Never the raw message, in any mode: it can carry driver, file and SQL details. The edge
  // logs the original error server-side.
  return { code: ErrorCode.INTERNAL, message: INTERNAL_MESSAGE };
}

/** Formats one error for the response body: public code, safe message, no stack. */
export function toPublicError(
  error: GraphQLError,
  production: boolean,
  options: PublicErrorOptions = {},
): GraphQLFormattedError {
  const { code, message, details } = classifyError(error, production, options);
  const formatted: {
    message: string;
    locations?: GraphQLFormattedError['locations'];
    path?: GraphQLFormattedError['path'];
    extensions: Record<string, unknown>;
  } = { message, extensions: { ...(details ?? {}), code } };
  if (error.locations) formatted.locations = error.locations;
  if (error.path) formatted.path = error.path;
  return formatted;
}
