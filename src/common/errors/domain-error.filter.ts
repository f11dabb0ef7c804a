import { type ArgumentsHost, Catch, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { DomainError } from './domain-error';
import { ErrorCode } from './error-code';

/**
 * Nest logs every error a resolver throws at error level with its stack. A DomainError with a
 * client code (BAD_USER_INPUT, NOT_FOUND, UNAUTHENTICATED, ...) is the caller's mistake, not
 * the server's: it goes back to GraphQL untouched, and the GraphQL edge logs it at info with
 * its code (errorFormatter). INTERNAL ones keep Nest's error line with the stack.
 */
@Catch(DomainError)
export class DomainErrorFilter extends BaseExceptionFilter {
  private static readonly errors = new Logger('ExceptionsHandler');

  override catch(exception: DomainError, host: ArgumentsHost): unknown {
    if (host.getType<string>() !== 'graphql') return super.catch(exception, host);
    if (exception.code === ErrorCode.INTERNAL) DomainErrorFilter.errors.error(exception);
    // A resolver that returns an Error is a field error in graphql-js, as if it had thrown.
    return exception;
  }
}
