import type { ResolvedAppConfig } from '../../config/app-config';
import { RequestRefusedError } from '../errors/domain-error';
import { ErrorCode } from '../errors/error-code';
import { RequestLimiter } from './request-limiter';

function limiter(rateLimit: number, maxInFlight: number): RequestLimiter {
  return new RequestLimiter({
    requestLimits: { rateLimit, rateWindowSeconds: 60, maxInFlight, executionBudgetMs: 1000 },
  } as ResolvedAppConfig);
}

async function refusal(promise: Promise<unknown>): Promise<RequestRefusedError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RequestRefusedError);
    return error as RequestRefusedError;
  }
  throw new Error('expected a refusal');
}

describe('RequestLimiter', () => {
  it('refuses a caller over its rate with RATE_LIMITED 429 and a retry delay', async () => {
    const limits = limiter(2, 10);
    (await limits.admit('user:a'))();
    (await limits.admit('user:a'))();
    const refused = await refusal(limits.admit('user:a'));
    expect(refused.code).toBe(ErrorCode.RATE_LIMITED);
    expect(refused.statusCode).toBe(429);
    expect(refused.details?.retryAfterSeconds).toBeGreaterThan(0);
    // Another caller has its own allowance.
    await expect(limits.admit('user:b')).resolves.toEqual(expect.any(Function));
  });

  it('caps operations in flight per caller; a release frees one slot, once', async () => {
    const limits = limiter(100, 2);
    const first = await limits.admit('user:a');
    await limits.admit('user:a');
    const refused = await refusal(limits.admit('user:a'));
    expect(refused.message).toMatch(/at once/);
    await expect(limits.admit('user:b')).resolves.toEqual(expect.any(Function));

    first();
    first(); // idempotent: does not free a second slot
    await limits.admit('user:a');
    await refusal(limits.admit('user:a'));
  });

  it('admits concurrent requests only up to the cap', async () => {
    const limits = limiter(100, 3);
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => limits.admit('user:a')),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
  });
});
