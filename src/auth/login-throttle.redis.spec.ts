import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { connectTestRedis, describeWithRedis } from '../cluster/__tests__/test-redis';
import type { ClusterRedis } from '../cluster/cluster-redis';
import { ErrorCode } from '../common/errors/error-code';
import { LOGIN_LIMITS, LoginThrottle, type LoginLimits } from './login-throttle';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'allowed',
    (error: { code?: string }) => error.code ?? 'no code',
  );
}

describeWithRedis('LoginThrottle on Redis (two instances, one Redis)', () => {
  let redis: Redis;
  let two: [LoginThrottle, LoginThrottle];
  // Fresh names per run: the counters live in Redis beyond the test.
  const run = randomBytes(4).toString('hex');
  const user = `trader-${run}`;
  const address = `198.51.100.${parseInt(run.slice(0, 2), 16) % 250}-${run}`;

  function instances(limits: LoginLimits = LOGIN_LIMITS): [LoginThrottle, LoginThrottle] {
    const cluster = { client: redis } as ClusterRedis;
    return [new LoginThrottle(limits, cluster), new LoginThrottle(limits, cluster)];
  }

  beforeAll(async () => {
    redis = await connectTestRedis();
    two = instances();
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it('counts failures on either instance together: the pair is blocked on both', async () => {
    for (let i = 0; i < LOGIN_LIMITS.failuresPerPair; i += 1) {
      const instance = two[i % 2];
      expect(await codeOf(instance.beforeAttempt(user, address))).toBe('allowed');
      await instance.onFailure(user, address);
    }
    expect(await codeOf(two[0].beforeAttempt(user, address))).toBe(ErrorCode.RATE_LIMITED);
    expect(await codeOf(two[1].beforeAttempt(user.toUpperCase(), address))).toBe(
      ErrorCode.RATE_LIMITED,
    );
  });

  it('remembers an address a user logged in from on one instance when the other slows the user', async () => {
    const limits = {
      ...LOGIN_LIMITS,
      failuresPerUsernamePerDay: 2,
      slowedAttemptsPerUsernamePerMinute: 1,
    };
    const [a, b] = instances(limits);
    const victim = `victim-${run}`;
    await a.onSuccess(victim, `home-${run}`);
    for (const attacker of ['x', 'y', 'z']) await b.onFailure(victim, `${attacker}-${run}`);
    // Slowed on b from a new address (one attempt a minute), never from home, on either.
    expect(await codeOf(b.beforeAttempt(victim, `new-${run}`))).toBe('allowed');
    expect(await codeOf(a.beforeAttempt(victim, `new2-${run}`))).toBe(ErrorCode.RATE_LIMITED);
    for (let i = 0; i < 3; i++) {
      expect(await codeOf(b.beforeAttempt(victim, `home-${run}`))).toBe('allowed');
    }
  });
});
