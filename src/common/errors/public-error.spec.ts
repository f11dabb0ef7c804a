import { BadRequestException, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import {
  buildSchema,
  execute,
  GraphQLError,
  parse,
  type ExecutionResult,
  type GraphQLScalarType,
} from 'graphql';
import {
  ConflictError,
  DomainError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
} from './domain-error';
import { ErrorCode } from './error-code';
import { classifyError, INTERNAL_MESSAGE, toPublicError } from './public-error';

function resolverError(original: Error): GraphQLError {
  return new GraphQLError(original.message, { originalError: original, path: ['me'] });
}

describe('error mapping at the GraphQL edge', () => {
  it.each([
    [new UnauthenticatedError(), ErrorCode.UNAUTHENTICATED],
    [new NotFoundError('Order not found'), ErrorCode.NOT_FOUND],
    [new ConflictError('Duplicate clientOrderId'), ErrorCode.CONFLICT],
    [
      new DomainError(ErrorCode.CAPACITY_EXCEEDED, 'Feed capacity reached'),
      ErrorCode.CAPACITY_EXCEEDED,
    ],
  ])('maps a domain error to its own code: %s', (error, code) => {
    expect(toPublicError(resolverError(error), true)).toEqual({
      message: error.message,
      path: ['me'],
      extensions: { code },
    });
  });

  it('copies client-safe details into extensions', () => {
    const formatted = toPublicError(resolverError(new RateLimitedError(42)), true);
    expect(formatted.extensions).toEqual({ code: ErrorCode.RATE_LIMITED, retryAfterSeconds: 42 });
  });

  it('keeps the public code when details carry a "code" field', () => {
    const error = new DomainError(ErrorCode.CONFLICT, 'x', { code: 'spoofed' });
    expect(toPublicError(resolverError(error), true).extensions?.code).toBe(ErrorCode.CONFLICT);
  });

  it.each([
    [new UnauthorizedException(), ErrorCode.UNAUTHENTICATED],
    [new ForbiddenException(), ErrorCode.FORBIDDEN],
    [
      new BadRequestException(['quantity must be positive', 'price is required']),
      ErrorCode.BAD_USER_INPUT,
    ],
  ])('maps framework exceptions by status: %s', (error, code) => {
    expect(classifyError(resolverError(error), true).code).toBe(code);
  });

  it('joins validation messages', () => {
    const error = new BadRequestException(['quantity must be positive', 'price is required']);
    expect(classifyError(resolverError(error), true).message).toBe(
      'quantity must be positive; price is required',
    );
  });

  it('treats graphql-js request errors as BAD_USER_INPUT and hides suggestions in production', () => {
    const error = new GraphQLError('Cannot query field "mee" on type "Query". Did you mean "me"?');
    expect(toPublicError(error, true)).toEqual({
      message: 'Cannot query field "mee" on type "Query".',
      extensions: { code: ErrorCode.BAD_USER_INPUT },
    });
    expect(toPublicError(error, false).message).toMatch(/Did you mean "me"\?$/);
  });

  it('treats variables that fail coercion (unknown enum value, refused scalar) as BAD_USER_INPUT', () => {
    const schema = buildSchema('enum Seg { A B } scalar D type Query { q(s: Seg, d: D): Int }');
    (schema.getType('D') as GraphQLScalarType).parseValue = () => {
      throw new TypeError('not a date');
    };
    const result = execute({
      schema,
      document: parse('query ($s: Seg, $d: D) { q(s: $s, d: $d) }'),
      variableValues: { s: 'C', d: 'x' },
    }) as ExecutionResult;
    const errors = result.errors ?? [];
    expect(errors).toHaveLength(2);
    for (const error of errors) {
      const formatted = toPublicError(error, true);
      expect(formatted.extensions).toEqual({ code: ErrorCode.BAD_USER_INPUT });
      expect(formatted.message).toMatch(/^Variable "\$[sd]" got invalid value/);
      expect(formatted.message).not.toMatch(/Did you mean/);
    }
  });

  it('keeps a resolver-thrown GraphQLError with a path INTERNAL', () => {
    const inner = new GraphQLError('boom');
    const error = new GraphQLError('boom', { originalError: inner, path: ['me'] });
    expect(classifyError(error, true).code).toBe(ErrorCode.INTERNAL);
  });

  it('treats Mercurius request errors (depth, batch) as BAD_USER_INPUT', () => {
    const depth = Object.assign(new Error('Query depth exceeds 8'), {
      code: 'MER_ERR_GQL_QUERY_DEPTH',
    });
    expect(classifyError(resolverError(depth), true)).toEqual({
      code: ErrorCode.BAD_USER_INPUT,
      message: 'Query depth exceeds 8',
    });
  });

  it("treats Fastify's refusals of a request body as BAD_USER_INPUT, with their message", () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), {
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      statusCode: 413,
    });
    const mediaType = Object.assign(new Error('Unsupported Media Type'), {
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      statusCode: 415,
    });
    expect(classifyError(resolverError(tooLarge), true)).toEqual({
      code: ErrorCode.BAD_USER_INPUT,
      message: 'Request body is too large',
    });
    expect(classifyError(resolverError(mediaType), true).code).toBe(ErrorCode.BAD_USER_INPUT);
    // A Fastify code with a server status stays INTERNAL.
    const serverSide = Object.assign(new Error('x'), { code: 'FST_ERR_X', statusCode: 500 });
    expect(classifyError(resolverError(serverSide), true).code).toBe(ErrorCode.INTERNAL);
  });

  it('hides suggestions outside production when asked (callers not allowed to know the schema)', () => {
    const error = new GraphQLError('Cannot query field "mee" on type "Query". Did you mean "me"?');
    expect(toPublicError(error, false, { hideSuggestions: true }).message).toBe(
      'Cannot query field "mee" on type "Query".',
    );
    expect(toPublicError(error, false).message).toMatch(/Did you mean/);
  });

  it('hides unexpected errors in production: INTERNAL, fixed message, no stack', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'price')");
    const formatted = toPublicError(resolverError(bug), true);
    expect(formatted).toEqual({
      message: INTERNAL_MESSAGE,
      path: ['me'],
      extensions: { code: ErrorCode.INTERNAL },
    });
    expect(JSON.stringify(formatted)).not.toMatch(/price|stack/);
  });

  it('hides the driver message of unexpected errors in development too, still INTERNAL', () => {
    const bug = new Error('SqliteError: disk I/O error');
    expect(classifyError(resolverError(bug), false)).toEqual({
      code: ErrorCode.INTERNAL,
      message: INTERNAL_MESSAGE,
    });
  });

  it('never emits a code outside the public list', () => {
    const publicCodes = new Set(Object.values(ErrorCode));
    const samples: unknown[] = [
      new Error('x'),
      'a string',
      null,
      Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      new GraphQLError('x'),
      new UnauthenticatedError(),
    ];
    for (const sample of samples) {
      expect(publicCodes.has(classifyError(sample, true).code)).toBe(true);
    }
  });
});
