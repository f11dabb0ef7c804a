import type { Redis } from 'ioredis';
import { connectTestRedis, describeWithRedis, uniqueKey } from './__tests__/test-redis';
import { RedisLock } from './redis-lock';

describeWithRedis('RedisLock (real Redis)', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await connectTestRedis();
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it('is taken by one holder at a time, with a fencing token that only grows', async () => {
    const key = uniqueKey('lock');
    const a = new RedisLock(redis, key, 10_000, 'a');
    const b = new RedisLock(redis, key, 10_000, 'b');
    const first = await a.tryAcquire();
    expect(first).toEqual({ value: `a/${first!.fence}`, fence: 1 });
    expect(await b.tryAcquire()).toBeUndefined();
    expect(await a.holds(first!)).toBe(true);
    expect(await b.currentFence()).toBe(1);

    expect(await a.release(first!)).toBe(true);
    const second = await b.tryAcquire();
    expect(second?.fence).toBe(2);
    expect(await a.holds(first!)).toBe(false);
  });

  it('renews only its own holding and extends the TTL', async () => {
    const key = uniqueKey('lock');
    const a = new RedisLock(redis, key, 2_000, 'a');
    const holding = (await a.tryAcquire())!;
    await redis.pexpire(key, 100);
    expect(await a.renew(holding)).toBe(true);
    expect(await redis.pttl(key)).toBeGreaterThan(1_000);
    expect(await a.renew({ value: 'a/999', fence: 999 })).toBe(false);
  });

  it('is lost when its TTL runs out: no renewal then, and another takes it with a higher fence', async () => {
    const key = uniqueKey('lock');
    const a = new RedisLock(redis, key, 200, 'a');
    const b = new RedisLock(redis, key, 10_000, 'b');
    const old = (await a.tryAcquire())!;
    // Wait for Redis to expire the key (the condition, polled; not a fixed sleep).
    while ((await redis.exists(key)) === 1) await new Promise((r) => setTimeout(r, 20));
    expect(await a.renew(old)).toBe(false);
    const next = (await b.tryAcquire())!;
    expect(next.fence).toBeGreaterThan(old.fence);
    // The stale holder can neither renew, nor free, nor pass the fencing check.
    expect(await a.renew(old)).toBe(false);
    expect(await a.release(old)).toBe(false);
    expect(await a.holds(old)).toBe(false);
    expect(await b.holds(next)).toBe(true);
  });
});
