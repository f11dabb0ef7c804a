import { once } from 'node:events';
import type { Redis } from 'ioredis';
import { connectTestRedis, describeWithRedis, uniqueKey } from './__tests__/test-redis';
import { LeaderElection } from './leader-election';

describeWithRedis('LeaderElection (real Redis, rounds driven by the test)', () => {
  let redis: Redis;
  const elections: LeaderElection[] = [];
  beforeAll(async () => {
    redis = await connectTestRedis();
  });
  afterEach(async () => {
    await Promise.all(elections.splice(0).map((e) => e.stop()));
  });
  afterAll(async () => {
    await redis?.quit();
  });

  /** intervalMs 0: no timer, the test runs each round (tick) itself. */
  function anElection(key: string, owner: string, ttlMs: number, now?: () => number) {
    const election = new LeaderElection({ redis, key, ttlMs, owner, intervalMs: 0, now });
    elections.push(election);
    return election;
  }

  it('elects one instance; the other follows and takes over when the leader stops', async () => {
    const key = uniqueKey('leader');
    const a = anElection(key, 'a', 5_000);
    const b = anElection(key, 'b', 5_000);
    const acquired = once(a, 'acquired');
    await a.start();
    expect(await acquired).toEqual([1]);
    await b.start();
    expect([a.role, b.role]).toEqual(['LEADER', 'FOLLOWER']);
    expect(await a.confirm()).toBe(true);
    expect(await b.confirm()).toBe(false);

    const lost = once(a, 'lost');
    await a.stop();
    expect(await lost).toEqual(['shutting down']);
    const bAcquired = once(b, 'acquired');
    await b.tick();
    expect(await bAcquired).toEqual([2]);
    expect(b.role).toBe('LEADER');
  });

  it('renews within the TTL and stays the leader', async () => {
    const key = uniqueKey('leader');
    let t = 0;
    const a = anElection(key, 'a', 3_000, () => t);
    await a.start();
    for (let i = 0; i < 5; i++) {
      t += 1_000;
      await a.tick();
      expect(a.isLeader()).toBe(true);
    }
    expect(await redis.pttl(key)).toBeGreaterThan(2_000);
  });

  it('a leader paused past its TTL steps down on waking, before any round, and its fence is refused', async () => {
    const key = uniqueKey('leader');
    let t = 0;
    const a = anElection(key, 'a', 300, () => t);
    const b = anElection(key, 'b', 5_000);
    await a.start();
    expect(a.fence).toBe(1);
    // "Paused": a runs no round while its lock expires and b takes over.
    while ((await redis.exists(key)) === 1) await new Promise((r) => setTimeout(r, 20));
    await b.tick();
    expect(b.fence).toBe(2);
    // "Woken": its monotonic clock has moved past the lease.
    t += 1_000;
    expect(a.isLeader()).toBe(false);
    expect(a.fence).toBeUndefined();
    const lost = once(a, 'lost');
    expect(await a.confirm()).toBe(false);
    expect(await lost).toEqual(['lease ran out']);
    await a.tick();
    expect(a.role).toBe('FOLLOWER');
    expect(b.role).toBe('LEADER');
  });

  it('fencing refuses a leader whose lock was taken even while its local lease still runs', async () => {
    const key = uniqueKey('leader');
    const a = anElection(key, 'a', 10_000);
    const b = anElection(key, 'b', 10_000);
    await a.start();
    // The lock vanished behind a's back (Redis failover, a manual flush): b takes it.
    await redis.del(key);
    await b.tick();
    expect(a.isLeader()).toBe(true);
    const lost = once(a, 'lost');
    expect(await a.confirm()).toBe(false);
    expect(await lost).toEqual(['lock held by another instance']);
    expect(a.isLeader()).toBe(false);
    // Its next renewal fails too: it stays a follower.
    await a.tick();
    expect(a.role).toBe('FOLLOWER');
    expect(await b.confirm()).toBe(true);
  });
});
