import {
  classifyDhanError,
  DhanAmbiguousError,
  DhanNetworkError,
  DhanRateLimitError,
} from '@app/dhan';
import {
  ExecutionAmbiguousError,
  ExecutionRejectedError,
  ExecutionUnavailableError,
} from '../execution.contract';
import { mapDhanError } from './error-mapping';

describe('DhanHQ errors as execution errors', () => {
  it('a DH-9xx refusal is a rejection carrying the DhanHQ code', () => {
    const refused = classifyDhanError(400, {
      errorType: 'Order_Error',
      errorCode: 'DH-906',
      errorMessage: 'Incorrect order quantity',
    });
    const mapped = mapDhanError(refused, true);
    expect(mapped).toBeInstanceOf(ExecutionRejectedError);
    expect(mapped).toMatchObject({ brokerCode: 'DH-906' });
    expect((mapped as ExecutionRejectedError).reason).toMatch(/Incorrect order quantity/);
    const input = mapDhanError(classifyDhanError(400, { errorCode: 'DH-905' }), true);
    expect(input).toMatchObject({ brokerCode: 'DH-905' });
  });

  it('no answer after the request left is ambiguous for a write, unavailable for a read', () => {
    const lost = new DhanAmbiguousError('reset', 'POST', '/orders', 'UND_ERR_SOCKET');
    expect(mapDhanError(lost, true)).toBeInstanceOf(ExecutionAmbiguousError);
    expect(mapDhanError(lost, false)).toBeInstanceOf(ExecutionUnavailableError);
  });

  it('a 5xx answer is ambiguous for a write (the broker may have acted)', () => {
    const server = classifyDhanError(500, { errorCode: 'DH-908', errorMessage: 'Internal' });
    expect(mapDhanError(server, true)).toBeInstanceOf(ExecutionAmbiguousError);
    expect(mapDhanError(server, false)).toBeInstanceOf(ExecutionUnavailableError);
  });

  it('nothing sent (refused connection, client rate limit, 429) is unavailable', () => {
    expect(mapDhanError(new DhanNetworkError('refused', 'ECONNREFUSED'), true)).toBeInstanceOf(
      ExecutionUnavailableError,
    );
    const limited = mapDhanError(new DhanRateLimitError('order', 250), true);
    expect(limited).toBeInstanceOf(ExecutionUnavailableError);
    expect(limited).toMatchObject({ retryAfterMs: 250 });
    expect(mapDhanError(classifyDhanError(429, {}), true)).toBeInstanceOf(
      ExecutionUnavailableError,
    );
  });

  it('anything else passes through unchanged', () => {
    const bug = new TypeError('x');
    expect(mapDhanError(bug, true)).toBe(bug);
  });
});
