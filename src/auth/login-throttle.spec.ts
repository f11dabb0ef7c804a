import { ErrorCode } from '../common/errors/error-code';
import { LOGIN_LIMITS, LoginThrottle } from './login-throttle';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'allowed',
    (error: { code?: string }) => error.code ?? 'no code',
  );
}

describe('LoginThrottle', () => {
  it('refuses a username after its failures, case-insensitively, with a retry hint', async () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < LOGIN_LIMITS.failuresPerUsername; i += 1) {
      await throttle.beforeAttempt('Alice', `10.0.0.${i}`);
      await throttle.onFailure('Alice', `10.0.0.${i}`);
    }
    const refusal = await throttle
      .beforeAttempt('alice', '10.9.9.9')
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: ErrorCode.RATE_LIMITED });
    expect(
      (refusal as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds,
    ).toBeGreaterThan(0);
    expect(await codeOf(throttle.beforeAttempt('bob', '10.9.9.9'))).toBe('allowed');
  });

  it("forgets a username's failures after a success", async () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < LOGIN_LIMITS.failuresPerUsername - 1; i += 1) {
      await throttle.onFailure('carol', '10.0.0.1');
    }
    await throttle.onSuccess('carol');
    await throttle.onFailure('carol', '10.0.0.1');
    expect(await codeOf(throttle.beforeAttempt('carol', '10.0.0.2'))).toBe('allowed');
  });

  it('refuses an address spraying many usernames', async () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < LOGIN_LIMITS.failuresPerAddress; i += 1) {
      await throttle.onFailure(`user-${i}`, '203.0.113.7');
    }
    expect(await codeOf(throttle.beforeAttempt('someone-new', '203.0.113.7'))).toBe(
      ErrorCode.RATE_LIMITED,
    );
    expect(await codeOf(throttle.beforeAttempt('someone-new', '203.0.113.8'))).toBe('allowed');
  });

  it('caps attempts per address per minute, successful or not', async () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < LOGIN_LIMITS.attemptsPerAddressPerMinute; i += 1) {
      await throttle.beforeAttempt(`u${i}`, '198.51.100.1');
    }
    expect(await codeOf(throttle.beforeAttempt('u-last', '198.51.100.1'))).toBe(
      ErrorCode.RATE_LIMITED,
    );
  });
});
