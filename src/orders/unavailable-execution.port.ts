import { ExecutionUnavailableError, type ExecutionPort } from '../execution/execution.contract';

/**
 * The port when no execution module is loaded: every request "never left", so orders stay in
 * flight, are retried with backoff and end REJECTED (BROKER_UNAVAILABLE) after the last try.
 */
export const UNAVAILABLE_EXECUTION: ExecutionPort = {
  gatewayKind: 'paper',
  place: () => Promise.reject(new ExecutionUnavailableError('no execution gateway is loaded')),
  modify: () => Promise.reject(new ExecutionUnavailableError('no execution gateway is loaded')),
  cancel: () => Promise.reject(new ExecutionUnavailableError('no execution gateway is loaded')),
  lookup: () => Promise.reject(new ExecutionUnavailableError('no execution gateway is loaded')),
};
