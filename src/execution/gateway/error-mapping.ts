import {
  DhanAmbiguousError,
  DhanApiError,
  DhanError,
  DhanNetworkError,
  DhanRateLimitError,
} from '@app/dhan';
import {
  ExecutionAmbiguousError,
  ExecutionRejectedError,
  ExecutionUnavailableError,
} from '../execution.contract';

export type ExecutionError =
  ExecutionRejectedError | ExecutionAmbiguousError | ExecutionUnavailableError;

/**
 * A DhanHQ client error as one of the contract's errors.
 *
 * - Nothing left (client rate limit, connection refused, DNS): unavailable, safe to retry.
 * - The request left and no answer came (timeout, reset): ambiguous for a write, to be resolved
 *   by correlationId; for a read (`write` false) merely unavailable, since reads repeat safely.
 * - DhanHQ answered 5xx (DH-908/909 or HTTP 5xx): the broker may have acted, so ambiguous for
 *   a write (RELIABILITY O6/O7); unavailable for a read.
 * - DhanHQ answered 429 / DH-904: refused before acting; unavailable.
 * - Any other answer (DH-9xx, 4xx): a definite refusal, rejected with the DhanHQ code.
 */
export function mapDhanError(error: unknown, write: boolean): ExecutionError | Error {
  if (error instanceof DhanRateLimitError) {
    return new ExecutionUnavailableError(error.message, error.retryAfterMs);
  }
  if (error instanceof DhanNetworkError) return new ExecutionUnavailableError(error.message);
  if (error instanceof DhanAmbiguousError) {
    return write
      ? new ExecutionAmbiguousError(error.message)
      : new ExecutionUnavailableError(error.message);
  }
  if (error instanceof DhanApiError) {
    if (error.category === 'rate-limited') return new ExecutionUnavailableError(error.message);
    if (error.category === 'server') {
      return write
        ? new ExecutionAmbiguousError(error.message)
        : new ExecutionUnavailableError(error.message);
    }
    return new ExecutionRejectedError(error.message, error.errorCode);
  }
  if (error instanceof DhanError) return new ExecutionUnavailableError(error.message);
  return error instanceof Error ? error : new Error(String(error));
}
