import * as net from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { connectTestRedis, describeWithRedis, uniqueKey } from '../../cluster/__tests__/test-redis';
import { OrderGovernor, SendPriority, type SendPermit } from './order-governor';
import type { SendLimit } from './send-window';
import { SharedOrderBudget, type SharedOrderBudgetOptions } from './shared-order-budget';
import { SharedSendWindows, type SharedSendWindowsOptions } from './shared-send-window';

const PER_SECOND: SendLimit[] = [{ limit: 10, intervalMs: 1_000 }];
const OPEN_ACCOUNT: SendLimit[] = [{ limit: 1_000, intervalMs: 1_000 }];

function windowsOn(redis: Redis, options: Partial<SharedSendWindowsOptions> = {}) {
  return new SharedSendWindows(redis, {
    prefix: uniqueKey('budget'),
    perSegment: PER_SECOND,
    account: OPEN_ACCOUNT,
    guardMs: 0,
    pendingLapseMs: 15_000,
    pollMs: 50,
    ...options,
  });
}

/** Every key of a prefix's windows (segment and account), committed and pending members. */
async function members(redis: Redis, key: string): Promise<Array<[string, number]>> {
  const flat = await redis.zrange(key, 0, -1, 'WITHSCORES');
  const out: Array<[string, number]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], Number(flat[i + 1])]);
  return out;
}

async function redisMs(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Number(us) / 1000;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithRedis('SharedSendWindows (real Redis)', () => {
  let a: Redis;
  let b: Redis;
  beforeAll(async () => {
    a = await connectTestRedis();
    b = await connectTestRedis();
  });
  afterAll(async () => {
    await Promise.all([a?.quit(), b?.quit()]);
  });

  it('concurrent reserves from two clients take exactly the limit, the rest are told to wait', async () => {
    const prefix = uniqueKey('atomic');
    const onA = windowsOn(a, { prefix });
    const onB = windowsOn(b, { prefix });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? onA : onB).reserve('NSE_EQ', `m${i}`)),
    );
    expect(answers.filter((w) => w === 0)).toHaveLength(10);
    // Only pending sends fill the window: ask again after the poll.
    expect(answers.filter((w) => w > 0).every((w) => w <= 50)).toBe(true);
    const pending = await members(a, `${prefix}:segment:NSE_EQ:0:1000:p`);
    expect(pending).toHaveLength(10);
  });

  it('commit moves the stamp from the grant to the answer; a full window says when it frees', async () => {
    const prefix = uniqueKey('commit');
    const w = windowsOn(a, { prefix, perSegment: [{ limit: 1, intervalMs: 1_000 }] });
    expect(await w.reserve('NSE_EQ', 'one')).toBe(0);
    const [[, lapseAt]] = await members(a, `${prefix}:segment:NSE_EQ:0:1000:p`);
    const before = await redisMs(a);
    expect(lapseAt).toBeGreaterThan(before + 14_000);
    await w.commit('NSE_EQ', 'one');
    const after = await redisMs(a);
    expect(await members(a, `${prefix}:segment:NSE_EQ:0:1000:p`)).toEqual([]);
    const [[member, stamp]] = await members(a, `${prefix}:segment:NSE_EQ:0:1000:c`);
    expect(member).toBe('one');
    expect(stamp).toBeGreaterThanOrEqual(before);
    expect(stamp).toBeLessThanOrEqual(after);
    // The account window took it too.
    expect(await members(a, `${prefix}:account:0:1000:c`)).toHaveLength(1);
    // Full: the wait is until the committed send leaves its window, from its stamp.
    const asked = await redisMs(a);
    const wait = await w.reserve('NSE_EQ', 'two');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(Math.ceil(stamp + 1_000 - asked));
    expect(wait).toBeGreaterThan(50);
  });

  it('release frees the place at once', async () => {
    const w = windowsOn(a, { perSegment: [{ limit: 1, intervalMs: 1_000 }] });
    expect(await w.reserve('NSE_EQ', 'held')).toBe(0);
    expect(await w.reserve('NSE_EQ', 'next')).toBeGreaterThan(0);
    await w.release('NSE_EQ', 'held');
    expect(await w.reserve('NSE_EQ', 'next')).toBe(0);
  });

  it('a pending send whose instance died lapses by itself after the bound', async () => {
    const w = windowsOn(a, {
      perSegment: [{ limit: 1, intervalMs: 1_000 }],
      pendingLapseMs: 300,
      pollMs: 5_000,
    });
    expect(await w.reserve('NSE_EQ', 'orphan')).toBe(0);
    const wait = await w.reserve('NSE_EQ', 'next');
    // Told to come back when the orphan lapses, not after the poll.
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(300);
    await sleep(wait);
    expect(await w.reserve('NSE_EQ', 'next')).toBe(0);
  });

  it('the account limits hold across segments and across windows', async () => {
    const w = windowsOn(a, {
      perSegment: [{ limit: 10, intervalMs: 1_000 }],
      account: [
        { limit: 15, intervalMs: 1_000 },
        { limit: 12, intervalMs: 60_000 },
      ],
    });
    for (let i = 0; i < 10; i++) {
      expect(await w.reserve('NSE_EQ', `eq${i}`)).toBe(0);
      await w.commit('NSE_EQ', `eq${i}`);
    }
    // The segment is full; another segment still has room, up to the minute's 12.
    expect(await w.reserve('NSE_EQ', 'eq10')).toBeGreaterThan(0);
    expect(await w.reserve('NSE_FNO', 'fno0')).toBe(0);
    await w.commit('NSE_FNO', 'fno0');
    expect(await w.reserve('NSE_FNO', 'fno1')).toBe(0);
    await w.commit('NSE_FNO', 'fno1');
    const wait = await w.reserve('NSE_FNO', 'fno2');
    // The minute window decides: far longer than a second.
    expect(wait).toBeGreaterThan(50_000);
  });

  it('sends recorded afterwards count from when they were made; heartbeats count instances', async () => {
    const prefix = uniqueKey('record');
    const w = windowsOn(a, { prefix, perSegment: [{ limit: 3, intervalMs: 1_000 }] });
    const before = await redisMs(a);
    await w.record('NSE_EQ', [
      { member: 'old', ageMs: 5_000 },
      { member: 'recent', ageMs: 400 },
      { member: 'unanswered', ageMs: -1 },
    ]);
    const committed = await members(a, `${prefix}:segment:NSE_EQ:0:1000:c`);
    expect(committed.map(([m]) => m)).toEqual(['recent']);
    expect(committed[0][1]).toBeGreaterThanOrEqual(before - 400);
    expect(committed[0][1]).toBeLessThan(before);
    expect((await members(a, `${prefix}:segment:NSE_EQ:0:1000:p`)).map(([m]) => m)).toEqual([
      'unanswered',
    ]);
    expect(await w.reserve('NSE_EQ', 'third')).toBe(0);
    expect(await w.reserve('NSE_EQ', 'fourth')).toBeGreaterThan(0);

    const other = windowsOn(b, { prefix });
    expect(await w.heartbeat('i1', 5_000, 5_000)).toEqual({ live: 1, recent: 1 });
    expect(await other.heartbeat('i2', 5_000, 5_000)).toEqual({ live: 2, recent: 2 });
    await other.leave('i2');
    expect((await w.heartbeat('i1', 5_000, 5_000)).live).toBe(1);
  });
});

/**
 * A TCP proxy to TEST_REDIS_URL that can be made to hang: while hung, requests are held (not
 * forwarded); resumed, they go on, so late answers arrive as they would from a Redis that
 * stalled.
 */
async function stallingProxy(): Promise<{
  port: number;
  hang: () => void;
  resume: () => void;
  close: () => Promise<void>;
}> {
  const target = new URL(process.env.TEST_REDIS_URL as string);
  const sockets = new Set<net.Socket>();
  let hung = false;
  const held: Array<() => void> = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (d) => {
      if (hung) held.push(() => upstream.write(d));
      else upstream.write(d);
    });
    upstream.on('data', (d) => client.write(d));
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    hang: () => {
      hung = true;
    },
    resume: () => {
      hung = false;
      for (const send of held.splice(0)) send();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describeWithRedis('SharedOrderBudget (real Redis)', () => {
  let redis: Redis;
  const budgets: SharedOrderBudget[] = [];
  beforeAll(async () => {
    redis = await connectTestRedis();
  });
  afterAll(async () => {
    await Promise.all(budgets.map((b) => b.close()));
    await redis?.quit();
  });

  function budget(
    windows: SharedSendWindows,
    options: Partial<SharedOrderBudgetOptions> & { instanceId: string },
  ): SharedOrderBudget {
    const made = new SharedOrderBudget({
      windows,
      perSegment: [{ limit: 4, intervalMs: 1_000 }],
      account: OPEN_ACCOUNT,
      guardMs: 0,
      connected: () => true,
      timeoutMs: 200,
      heartbeatMs: 60_000,
      liveMs: 5_000,
      pollMs: 50,
      now: () => performance.now(),
      ...options,
    });
    budgets.push(made);
    return made;
  }

  it('two instances share one budget; Redis slow: the fallback keeps to the share, then records its sends when Redis is back', async () => {
    const prefix = uniqueKey('fallback');
    const limits = { perSegment: [{ limit: 4, intervalMs: 1_000 }], account: OPEN_ACCOUNT };
    const proxy = await stallingProxy();
    const viaProxy = new Redis({ port: proxy.port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    viaProxy.on('error', () => undefined);
    await once(viaProxy, 'ready');
    // Instance one reaches Redis through the proxy.
    const one = budget(windowsOn(viaProxy, { prefix, ...limits }), {
      instanceId: 'one',
      connected: () => viaProxy.status === 'ready',
    });
    const two = budget(windowsOn(redis, { prefix, ...limits }), { instanceId: 'two' });
    await one.heartbeat();
    await two.heartbeat();
    await one.heartbeat();
    expect(one.instances).toBe(2);

    // Shared: 4 in all, whichever instance asks.
    const answers = await Promise.all([
      one.reserve('NSE_EQ'),
      two.reserve('NSE_EQ'),
      one.reserve('NSE_EQ'),
      two.reserve('NSE_EQ'),
      one.reserve('NSE_EQ'),
      two.reserve('NSE_EQ'),
    ]);
    const slots = answers.filter((x) => typeof x !== 'number');
    expect(slots).toHaveLength(4);
    for (const s of slots) s.release();
    expect(one.state).toBe('SHARED');

    // Redis hangs for instance one: after the timeout it keeps to its share, floor(4 / 2) = 2,
    // and its first second starts full (no burst across the switch).
    proxy.hang();
    const first = await one.reserve('NSE_EQ');
    expect(one.state).toBe('FALLBACK');
    expect(one.shareOf(4)).toBe(2);
    expect(typeof first).toBe('number');
    const made: string[] = [];
    const deadline = performance.now() + 5_000;
    let refusedAfterShare = false;
    while (performance.now() < deadline && !refusedAfterShare) {
      const answer = await one.reserve('NSE_EQ');
      if (typeof answer === 'number') {
        if (made.length === 2) refusedAfterShare = true;
        else await sleep(answer);
      } else {
        answer.commit();
        made.push('sent');
      }
    }
    expect(made).toHaveLength(2);
    expect(refusedAfterShare).toBe(true);

    // Redis answers again: the next heartbeat writes the two sends down and shares again.
    proxy.resume();
    await one.heartbeat();
    expect(one.state).toBe('SHARED');
    const committed = await members(redis, `${prefix}:segment:NSE_EQ:0:1000:c`);
    expect(committed.filter(([m]) => m.startsWith('one:'))).toHaveLength(2);
    expect(one.fallbacks).toBe(1);
    // The reserve given up on when Redis hung was released when its late answer came.
    const pending = await members(redis, `${prefix}:segment:NSE_EQ:0:1000:p`);
    expect(pending.filter(([m]) => m.startsWith('one:'))).toEqual([]);
    viaProxy.disconnect();
    await proxy.close();
  }, 20_000);

  it('an OrderGovernor on the shared budget: two instances together never pass the limit, every request granted once', async () => {
    const prefix = uniqueKey('governors');
    const perSegment = [{ limit: 3, intervalMs: 1_000 }];
    const grants: Array<{ id: string; at: number }> = [];
    const governors = ['g1', 'g2'].map((name) => {
      const gate = budget(windowsOn(redis, { prefix, perSegment }), {
        instanceId: name,
        perSegment,
      });
      return new OrderGovernor({
        perSegment,
        account: OPEN_ACCOUNT,
        guardMs: 0,
        maxWaitMs: 20_000,
        now: () => performance.now(),
        setTimer: (fn, ms) => {
          const t = setTimeout(fn, ms);
          return () => clearTimeout(t);
        },
        gate,
      });
    });
    const done = Promise.all(
      governors.flatMap((g, gi) =>
        Array.from({ length: 4 }, async (_, i) => {
          const request = {
            id: `${gi}-${i}`,
            dealer: `d${i % 2}`,
            segment: 'NSE_EQ',
            priority: SendPriority.NEW,
          };
          expect(g.tryAcquire(request)).toBeUndefined();
          const now = await g.acquire(request);
          const permit =
            now ??
            (await new Promise<SendPermit>((resolve, reject) =>
              g.enqueue(request, { granted: resolve, refused: (r) => reject(new Error(r)) }),
            ));
          grants.push({ id: request.id, at: performance.now() });
          permit.commit();
        }),
      ),
    );
    await done;
    for (const g of governors) g.close();
    expect(new Set(grants.map((g) => g.id)).size).toBe(8);
    // 8 sends at 3 a second between two instances: never more than 3 in any second.
    const stamps = grants.map((g) => g.at).sort((x, y) => x - y);
    for (let i = 3; i < stamps.length; i++) {
      expect(stamps[i] - stamps[i - 3]).toBeGreaterThanOrEqual(1_000 - 5);
    }
  }, 20_000);
});
