import { ErrorCode } from '../common/errors/error-code';
import { LOGIN_LIMITS, LoginThrottle } from './login-throttle';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'allowed',
    (error: { code?: string }) => error.code ?? 'no code',
  );
}

/** One login that fails, as AuthService runs it: check first, count the failure after. */
async function failedLogin(throttle: LoginThrottle, username: string, address: string) {
  const verdict = await codeOf(throttle.beforeAttempt(username, address));
  if (verdict === 'allowed') await throttle.onFailure(username, address);
  return verdict;
}

describe('LoginThrottle', () => {
  it('blocks a username from the address that guessed, with a retry hint, case-insensitively', async () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < LOGIN_LIMITS.failuresPerPair; i += 1) {
      expect(await failedLogin(throttle, 'Alice', '10.0.0.1')).toBe('allowed');
    }
    const refusal = await throttle
      .beforeAttempt('alice', '10.0.0.1')
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: ErrorCode.RATE_LIMITED });
    expect(
      (refusal as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds,
    ).toBeGreaterThan(0);
    // Another user from that address is not blocked by alice's pair.
    expect(await codeOf(throttle.beforeAttempt('bob', '10.0.0.1'))).toBe('allowed');
  });

  it('does not let an attacker elsewhere lock the user out (the dealer logs in from another address)', async () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < LOGIN_LIMITS.failuresPerPair * 3; i += 1) {
      await failedLogin(throttle, 'dealer', '203.0.113.66');
    }
    expect(await codeOf(throttle.beforeAttempt('dealer', '203.0.113.66'))).toBe(
      ErrorCode.RATE_LIMITED,
    );
    expect(await codeOf(throttle.beforeAttempt('dealer', '192.0.2.10'))).toBe('allowed');
  });

  it("forgets a pair's failures after a success", async () => {
    const throttle = new LoginThrottle();
    for (let i = 0; i < LOGIN_LIMITS.failuresPerPair - 1; i += 1) {
      await failedLogin(throttle, 'carol', '10.0.0.1');
    }
    await throttle.onSuccess('carol', '10.0.0.1');
    for (let i = 0; i < LOGIN_LIMITS.failuresPerPair - 1; i += 1) {
      await failedLogin(throttle, 'carol', '10.0.0.1');
    }
    expect(await codeOf(throttle.beforeAttempt('carol', '10.0.0.1'))).toBe('allowed');
  });

  it('stops an address spraying many usernames, after many more failures than a pair', async () => {
    // Spread over the day: the per-minute brake is not what this scenario is about.
    const throttle = new LoginThrottle({ ...LOGIN_LIMITS, attemptsPerAddressPerMinute: 10_000 });
    for (let i = 0; i < LOGIN_LIMITS.failuresPerAddressPerDay; i += 1) {
      expect(await failedLogin(throttle, `user-${i}`, '203.0.113.7')).toBe('allowed');
    }
    expect(await codeOf(throttle.beforeAttempt('someone-new', '203.0.113.7'))).toBe(
      ErrorCode.RATE_LIMITED,
    );
    expect(await codeOf(throttle.beforeAttempt('someone-new', '203.0.113.8'))).toBe('allowed');
  });

  it('slows, without locking, a username guessed from many addresses; known addresses pass', async () => {
    const limits = { ...LOGIN_LIMITS, attemptsPerAddressPerMinute: 10_000 };
    const throttle = new LoginThrottle(limits);
    await throttle.onSuccess('erin', '192.0.2.10');
    // A botnet: each address stays under its own limits.
    let address = 0;
    for (let i = 0; i < limits.failuresPerUsernamePerDay; i += 1) {
      address = i;
      expect(await failedLogin(throttle, 'erin', `198.18.${i >> 8}.${i & 255}`)).toBe('allowed');
    }
    // From now on new addresses share a small per-minute allowance for erin...
    const verdicts: string[] = [];
    for (let i = 1; i <= limits.slowedAttemptsPerUsernamePerMinute + 5; i += 1) {
      const next = address + i;
      verdicts.push(await failedLogin(throttle, 'erin', `198.18.${next >> 8}.${next & 255}`));
    }
    expect(verdicts.filter((v) => v === 'allowed')).toHaveLength(
      limits.slowedAttemptsPerUsernamePerMinute,
    );
    expect(verdicts.slice(limits.slowedAttemptsPerUsernamePerMinute)).toEqual(
      Array(5).fill(ErrorCode.RATE_LIMITED),
    );
    // ...while erin, from the address she logs in from, is never slowed.
    expect(await codeOf(throttle.beforeAttempt('erin', '192.0.2.10'))).toBe('allowed');
    // And another username is untouched.
    expect(await codeOf(throttle.beforeAttempt('frank', '198.18.9.9'))).toBe('allowed');
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
