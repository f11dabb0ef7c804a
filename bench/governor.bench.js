#!/usr/bin/env node
/*
 * Order governor overhead (docs/BENCHMARKS.md, "Order governor"): the CPU the OrderGovernor
 * (src/orders/governor/order-governor.ts) spends per order, in process, on a virtual clock.
 *
 *   npx tsc -p tsconfig.build.json --outDir /tmp/gov-dist
 *   GOVERNOR_DIST=/tmp/gov-dist taskset -c 1 node bench/governor.bench.js [--orders 200000] [--dealers 10]
 *
 * Two paths, each after a warm-up:
 * - free: the budget has room (allowance 1,000,000/s): tryAcquire + commit per order, each
 *   timed alone with process.hrtime.bigint() (p50/p99/max).
 * - queued: `dealers` dealers each burst orders/dealers orders into one segment at 10/s with
 *   the account's four windows; 1 in 20 is an exit (REDUCE) and 1 in 50 a cancel. Every order
 *   is enqueued, asked its queue position once, granted when the virtual clock reaches its
 *   slot and committed. The figure is the total CPU time of the run (enqueue, position,
 *   grants, commits, timers) over the orders: the governor's whole overhead per order.
 * - shared (only with GOVERNOR_REDIS_URL, e.g. redis://127.0.0.1:6379): the order budget shared
 *   by instances on Redis. One shared reserve + commit (SharedSendWindows: two scripts, two
 *   round trips, the segment window and the account's four), each pair timed alone, p50/p99;
 *   and OrderGovernor.acquire through the shared budget (the latency a free send gains). Open
 *   limits, so nothing is refused; keys under a prefix of the run, deleted afterwards.
 */
'use strict';

const os = require('node:os');
const { performance } = require('node:perf_hooks');
const { useBuild, arg, percentile, report, check } = require('./harness');

const build = useBuild('GOVERNOR_DIST');
const { OrderGovernor, SendPriority } = build.load('src/orders/governor/order-governor.js');
const REDIS_URL = process.env.GOVERNOR_REDIS_URL;
const SHARED_SENDS = arg('shared-sends', process.env.BENCH_QUICK ? 1_000 : 5_000);

const ORDERS = arg('orders', process.env.BENCH_QUICK ? 20_000 : 200_000);
const DEALERS = arg('dealers', 10);
const DAY = [
  { limit: 10, intervalMs: 1_000 },
  { limit: 1_000_000, intervalMs: 60_000 },
  { limit: 1_000_000, intervalMs: 3_600_000 },
  { limit: 10_000_000, intervalMs: 86_400_000 },
];

function virtualGovernor(perSecond, account) {
  const clock = { now: 0, timers: [] };
  const governor = new OrderGovernor({
    perSegment: [{ limit: perSecond, intervalMs: 1_000 }],
    account,
    guardMs: 10,
    maxWaitMs: 1e12,
    now: () => clock.now,
    setTimer: (fn, ms) => {
      const t = { at: clock.now + ms, fn, live: true };
      clock.timers.push(t);
      return () => (t.live = false);
    },
  });
  /** Fires due timers in time order, jumping the clock to each; false when none is left. */
  clock.step = () => {
    let next;
    for (const t of clock.timers) if (t.live && (next === undefined || t.at < next.at)) next = t;
    clock.timers = clock.timers.filter((t) => t.live && t !== next);
    if (next === undefined) return false;
    clock.now = Math.max(clock.now, next.at);
    next.live = false;
    next.fn();
    return true;
  };
  return { governor, clock };
}

function freePath(n) {
  const { governor } = virtualGovernor(1_000_000, [{ limit: 1_000_000, intervalMs: 1_000 }]);
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const request = { id: `f${i}`, dealer: `d${i % DEALERS}`, segment: 'NSE_EQ', priority: 2 };
    const t0 = process.hrtime.bigint();
    const permit = governor.tryAcquire(request);
    permit.commit();
    samples[i] = Number(process.hrtime.bigint() - t0) / 1_000;
  }
  return Array.from(samples).sort((a, b) => a - b);
}

function queuedPath(n) {
  const { governor, clock } = virtualGovernor(10, DAY);
  let granted = 0;
  const callbacks = {
    granted: (permit) => {
      granted++;
      permit.commit();
    },
    refused: () => {
      throw new Error('nothing may be refused here');
    },
  };
  const perDealer = Math.ceil(n / DEALERS);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < perDealer; i++) {
    for (let d = 0; d < DEALERS; d++) {
      const k = i * DEALERS + d;
      if (k >= n) break;
      const priority =
        k % 50 === 0 ? SendPriority.CANCEL : k % 20 === 0 ? SendPriority.REDUCE : SendPriority.NEW;
      const request = { id: `q${k}`, dealer: `d${d}`, segment: 'NSE_EQ', priority };
      const permit = governor.tryAcquire(request);
      if (permit) {
        granted++;
        permit.commit();
        continue;
      }
      governor.enqueue(request, callbacks);
      // Positions are read while the queue is long: the dearest read.
      if (k % 1_000 === 0) governor.position(request.id);
    }
  }
  while (clock.step());
  const wallUs = Number(process.hrtime.bigint() - t0) / 1_000;
  const cpu = process.cpuUsage(cpu0);
  if (granted !== n) throw new Error(`granted ${granted} of ${n}`);
  return { wallUs, cpuUs: cpu.user + cpu.system, virtualSeconds: clock.now / 1_000 };
}

function positionCost(n) {
  const { governor } = virtualGovernor(1, DAY);
  const noop = { granted: (p) => p.commit(), refused: () => undefined };
  governor.tryAcquire({ id: 'x', dealer: 'd0', segment: 'NSE_EQ', priority: 2 })?.commit();
  for (let k = 0; k < n; k++) {
    governor.enqueue(
      { id: `p${k}`, dealer: `d${k % DEALERS}`, segment: 'NSE_EQ', priority: 2 },
      noop,
    );
  }
  const samples = [];
  for (let k = 0; k < n; k += Math.max(1, Math.floor(n / 2_000))) {
    const t0 = process.hrtime.bigint();
    governor.position(`p${k}`);
    samples.push(Number(process.hrtime.bigint() - t0) / 1_000);
  }
  governor.close();
  return samples.sort((a, b) => a - b);
}

/** One shared reserve + commit per send, timed alone; then acquire through the governor. */
async function sharedPath(url, n) {
  const { Redis } = require('ioredis');
  const { SharedSendWindows } = build.load('src/orders/governor/shared-send-window.js');
  const { SharedOrderBudget } = build.load('src/orders/governor/shared-order-budget.js');
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const prefix = `bench:order-budget:${process.pid}:${Date.now()}`;
  const open = [{ limit: 1e9, intervalMs: 1_000 }];
  const account = [
    { limit: 1e9, intervalMs: 1_000 },
    { limit: 1e9, intervalMs: 60_000 },
    { limit: 1e9, intervalMs: 3_600_000 },
    { limit: 1e9, intervalMs: 86_400_000 },
  ];
  const limits = { perSegment: open, account, guardMs: 10 };
  const windows = new SharedSendWindows(redis, {
    ...limits,
    prefix,
    pendingLapseMs: 15_000,
    pollMs: 50,
  });
  const pairs = [];
  for (let i = 0; i < n + 500; i++) {
    const t0 = process.hrtime.bigint();
    if ((await windows.reserve('NSE_EQ', `r${i}`)) !== 0) throw new Error('refused');
    await windows.commit('NSE_EQ', `r${i}`);
    if (i >= 500) pairs.push(Number(process.hrtime.bigint() - t0) / 1_000);
  }
  const gate = new SharedOrderBudget({
    ...limits,
    windows,
    instanceId: 'bench',
    connected: () => redis.status === 'ready',
    timeoutMs: 1_000,
    heartbeatMs: 60_000,
    liveMs: 5_000,
    pollMs: 50,
    now: () => performance.now(),
  });
  const governor = new OrderGovernor({
    ...limits,
    maxWaitMs: 60_000,
    now: () => performance.now(),
    setTimer: (fn, ms) => {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    },
    gate,
  });
  const acquires = [];
  for (let i = 0; i < n + 500; i++) {
    const request = { id: `a${i}`, dealer: `d${i % DEALERS}`, segment: 'NSE_EQ', priority: 2 };
    const t0 = process.hrtime.bigint();
    const permit = await governor.acquire(request);
    if (!permit) throw new Error('not granted');
    if (i >= 500) acquires.push(Number(process.hrtime.bigint() - t0) / 1_000);
    permit.commit();
  }
  governor.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
  return {
    pairs: pairs.sort((a, b) => a - b),
    acquires: acquires.sort((a, b) => a - b),
  };
}

const fmt = (us) => `${us.toFixed(2)} µs`;

async function main() {
  freePath(20_000);
  queuedPath(Math.min(20_000, ORDERS));
  const free = freePath(ORDERS);
  const queued = queuedPath(ORDERS);
  const positions = positionCost(Math.min(ORDERS, 3_000));
  const shared = REDIS_URL ? await sharedPath(REDIS_URL, SHARED_SENDS) : undefined;

  console.log(`order governor, ${ORDERS} orders, ${DEALERS} dealers`);
  console.log(
    `free path (tryAcquire + commit): p50 ${fmt(percentile(free, 50))}  p99 ${fmt(percentile(free, 99))}  max ${fmt(free[free.length - 1])}`,
  );
  console.log(
    `queued path (enqueue, grant, commit, timers; 10/s): ${fmt(queued.cpuUs / ORDERS)} CPU per order, ` +
      `${fmt(queued.wallUs / ORDERS)} wall per order, ${queued.virtualSeconds.toFixed(0)} s of virtual time`,
  );
  console.log(
    `queuePosition with ${Math.min(ORDERS, 3_000)} queued: p50 ${fmt(percentile(positions, 50))}  p99 ${fmt(percentile(positions, 99))}`,
  );
  if (shared) {
    console.log(
      `shared (Redis) reserve + commit, ${SHARED_SENDS} sends: p50 ${fmt(percentile(shared.pairs, 50))}  p99 ${fmt(percentile(shared.pairs, 99))}`,
    );
    console.log(
      `acquire through the shared budget: p50 ${fmt(percentile(shared.acquires, 50))}  p99 ${fmt(percentile(shared.acquires, 99))}`,
    );
  }
  console.log(
    `node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );

  report('governor', {
    figures: {
      orders: ORDERS,
      dealers: DEALERS,
      freePathUs: { p50: percentile(free, 50), p99: percentile(free, 99) },
      queuedCpuUsPerOrder: queued.cpuUs / ORDERS,
      queuedWallUsPerOrder: queued.wallUs / ORDERS,
      queuePositionUs: { p50: percentile(positions, 50), p99: percentile(positions, 99) },
      ...(shared && {
        sharedReserveCommitUs: {
          p50: percentile(shared.pairs, 50),
          p99: percentile(shared.pairs, 99),
        },
        sharedAcquireUs: {
          p50: percentile(shared.acquires, 50),
          p99: percentile(shared.acquires, 99),
        },
      }),
    },
    checks: [
      check('governor CPU per queued order', queued.cpuUs / ORDERS, '<=', 50, 'µs'),
      check('governor free path p99', percentile(free, 99), '<=', 50, 'µs'),
    ],
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
