import { ErrorCode } from './error-code';

/**
 * Base of every error a service throws on purpose. Services never throw HTTP or GraphQL
 * errors; the GraphQL edge maps `code` to `extensions.code` and shows `message` to the client,
 * so the message must be safe to show (no secrets, no internals).
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra client-safe fields copied into `extensions` (e.g. retryAfterSeconds). */
    readonly details?: Readonly<Record<string, string | number | boolean>>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message = 'Authentication required') {
    super(ErrorCode.UNAUTHENTICATED, message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'Not allowed') {
    super(ErrorCode.FORBIDDEN, message);
  }
}

export class NotFoundError extends DomainError {
  constructor(message = 'Not found') {
    super(ErrorCode.NOT_FOUND, message);
  }
}

/** Retryable: a part the request needs is not ready yet (warm-up). */
export class UnavailableError extends DomainError {
  constructor(message: string, retryAfterSeconds = 1) {
    super(ErrorCode.UNAVAILABLE, message, { retryable: true, retryAfterSeconds });
  }
}

export class ConflictError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.CONFLICT, message);
  }
}

export class BadUserInputError extends DomainError {
  constructor(message: string) {
    super(ErrorCode.BAD_USER_INPUT, message);
  }
}

export class RateLimitedError extends DomainError {
  constructor(retryAfterSeconds: number) {
    super(ErrorCode.RATE_LIMITED, 'Too many attempts, try again later', { retryAfterSeconds });
  }
}

/**
 * A request refused at the HTTP edge before it ran (too large, too many, wrong method or
 * content type); `statusCode` is the HTTP status of the answer.
 */
export class RequestRefusedError extends DomainError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly statusCode: number,
    details?: Readonly<Record<string, string | number | boolean>>,
  ) {
    super(code, message, details);
  }
}
