#!/usr/bin/env node
/*
 * In-process micro-benchmark of the market-data tick path: TickStore.apply + TickFanout.flush,
 * no sockets. 1,000 clients x 50 instruments (Zipf s=1.1 over 25,000 instruments), 25,000
 * updates/s (90 % ticker, 10 % full), flushed every 100 ms, against a naive fan-out that
 * serialises per client with JSON.stringify.
 *
 * Build first (`npx nest build`, or `npx tsc -p tsconfig.build.json`), then:
 *   node bench/fanout-core.bench.js [--clients 1000] [--per-client 50] [--rate 25000]
 *                                   [--interval 100] [--seconds 30] [--slow 0.01] [--naive 0]
 *                                   [--quick]
 */
'use strict';

const v8 = require('node:v8');
const { PerformanceObserver, performance } = require('node:perf_hooks');

if (typeof global.gc !== 'function') {
  // Allocation figures need a GC before each sample: re-run with --expose-gc.
  const { spawnSync } = require('node:child_process');
  const r = spawnSync(process.execPath, ['--expose-gc', __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

const {
  useBuild,
  arg,
  quick: QUICK,
  percentile,
  report,
  check,
  seededRandom,
  zipfSampler,
} = require('./harness');

const build = useBuild();
const { TickStore } = build.load('src/market-data/ticks/tick-store.js');
const { TickSerializer } = build.load('src/market-data/ticks/tick-serializer.js');
const { TickFanout } = build.load('src/market-data/ticks/tick-fanout.js');
const { SubscriptionRegistry } = build.load('src/market-data/feed/subscription-registry.js');

const CLIENTS = arg('clients', 1000);
const PER_CLIENT = arg('per-client', 50);
const RATE = arg('rate', 25_000);
const INTERVAL = arg('interval', 100);
// --quick (or BENCH_QUICK=1, as `npm run bench -- --quick` sets): a 5 s point.
const SECONDS = arg('seconds', QUICK ? 5 : 30);
const SLOW = arg('slow', 0);
const NAIVE = arg('naive', 1);
const yieldToLoop = () => new Promise((r) => setImmediate(r));
const UNIVERSE = 25_000;
const WARMUP_FLUSHES = 50;
const FLUSHES = Math.round((SECONDS * 1000) / INTERVAL);
const PER_FLUSH = Math.round((RATE * INTERVAL) / 1000);
const SEG = 'NSE_FNO';
const SEG_CODE = 2;
const key = (id) => SEG_CODE * 0x1_0000_0000 + id;

const rand = seededRandom(42);

const zipf = zipfSampler(UNIVERSE, 1.1, rand);

const watch = [];
for (let c = 0; c < CLIENTS; c++) {
  const set = new Set();
  while (set.size < PER_CLIENT) set.add(zipf());
  watch.push([...set]);
}

// The workload: PER_FLUSH packets per interval, one reused packet object per type.
const ticker = { type: 2, segment: SEG, securityId: 0, ltp: 0, ltt: 0 };
const depth = Array.from({ length: 5 }, () => ({
  bidQty: 10,
  askQty: 12,
  bidOrders: 1,
  askOrders: 2,
  bidPrice: 0,
  askPrice: 0,
}));
const full = {
  type: 8,
  segment: SEG,
  securityId: 0,
  ltp: 0,
  ltq: 75,
  ltt: 0,
  atp: 101.2,
  volume: 0,
  totalSellQty: 5000,
  totalBuyQty: 7000,
  oi: 123456,
  open: 100,
  close: 0,
  high: 110,
  low: 95,
  depth,
};
const ALLOC_SAMPLES = 10;
const stream = new Int32Array(PER_FLUSH * (FLUSHES + WARMUP_FLUSHES + ALLOC_SAMPLES));
for (let i = 0; i < stream.length; i++) stream[i] = zipf();
const isFull = new Uint8Array(stream.length);
for (let i = 0; i < stream.length; i++) isFull[i] = rand() < 0.1 ? 1 : 0;
let cursor = 0;
let ltt = 1_790_000_000;

function applyBatch(store) {
  const end = cursor + PER_FLUSH;
  ltt++;
  for (; cursor < end; cursor++) {
    const id = stream[cursor % stream.length];
    const price = 100 + (cursor % 500) * 0.05;
    if (isFull[cursor % stream.length]) {
      full.securityId = id;
      full.ltp = price;
      full.ltt = ltt;
      full.volume = cursor;
      for (let l = 0; l < 5; l++) {
        depth[l].bidPrice = price - 0.05 * (l + 1);
        depth[l].askPrice = price + 0.05 * (l + 1);
      }
      store.applyFull(full);
    } else {
      ticker.securityId = id;
      ticker.ltp = price;
      ticker.ltt = ltt;
      store.applyTicker(ticker);
    }
  }
}

let gcMs = 0;
let gcCount = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMs += e.duration;
    gcCount++;
  }
});

async function runOurs() {
  cursor = 0;
  const store = new TickStore({ staleAfterMs: 1e12 });
  const serializer = new TickSerializer();
  const fanout = new TickFanout(store, serializer, {
    maxInstrumentsPerSubscription: 10_000,
    hardCapBytes: Infinity,
    maxOverHighMs: Infinity,
  });
  let bytesOut = 0;
  let updatesOut = 0;
  let batchesOut = 0;
  const slowCount = Math.round(CLIENTS * SLOW);
  for (let c = 0; c < CLIENTS; c++) {
    const slow = c < slowCount;
    fanout.addClient('c' + c, {
      unsentBytes: () => (slow ? 1e9 : 0),
      close: () => undefined,
    });
    fanout.subscribe('c' + c, 's', watch[c].map(key), (payload, count) => {
      bytesOut += payload.length;
      updatesOut += count;
      batchesOut++;
    });
  }
  for (let i = 0; i < WARMUP_FLUSHES; i++) {
    applyBatch(store);
    fanout.flush();
  }
  // Allocation sample: a few flushes, each after a full GC, outside the timed run.
  const alloc = [];
  for (let i = 0; i < ALLOC_SAMPLES; i++) {
    applyBatch(store);
    global.gc();
    const h0 = v8.getHeapStatistics().used_heap_size;
    fanout.flush();
    const grew = v8.getHeapStatistics().used_heap_size - h0;
    if (grew > 0) alloc.push(grew);
  }
  bytesOut = updatesOut = batchesOut = 0;
  const ser0 = serializer.serializations;
  const flushMs = [];
  let applyCpu = 0;
  let flushCpu = 0;
  gcMs = gcCount = 0;
  obs.observe({ entryTypes: ['gc'] });
  for (let i = 0; i < FLUSHES; i++) {
    let c0 = process.cpuUsage();
    applyBatch(store);
    let c1 = process.cpuUsage(c0);
    applyCpu += c1.user + c1.system;
    c0 = process.cpuUsage();
    const t0 = performance.now();
    fanout.flush();
    flushMs.push(performance.now() - t0);
    c1 = process.cpuUsage(c0);
    flushCpu += c1.user + c1.system;
    await yieldToLoop();
  }
  await yieldToLoop();
  obs.disconnect();
  flushMs.sort((a, b) => a - b);
  alloc.sort((a, b) => a - b);
  return {
    name: 'TickFanout (shared UTF-8 fragments, one copy per batch)',
    flushCpuMs: flushCpu / 1000 / FLUSHES,
    flushP50: percentile(flushMs, 50),
    flushP99: percentile(flushMs, 99),
    applyNsPerUpdate: (applyCpu * 1000) / (FLUSHES * PER_FLUSH),
    updatesOutPerS: updatesOut / ((FLUSHES * INTERVAL) / 1000),
    batchesPerFlush: batchesOut / FLUSHES,
    bytesOutPerS: bytesOut / ((FLUSHES * INTERVAL) / 1000),
    serialisationsPerFlush: (serializer.serializations - ser0) / FLUSHES,
    allocPerFlushKiB: alloc.length ? percentile(alloc, 50) / 1024 : 0,
    gcMsPerS: gcMs / SECONDS,
    slowHeld: fanout.stats().heldFlushes,
  };
}

// The naive peer: same store and conflation, but each client's batch is built from objects and
// JSON.stringify'd per client (what a resolver per subscriber amounts to, without graphql-js).
async function runNaive() {
  cursor = 0;
  const store = new TickStore({ staleAfterMs: 1e12 });
  const wantedBy = new Map();
  const pending = watch.map(() => new Set());
  watch.forEach((ids, c) => {
    for (const id of ids) {
      const k = key(id);
      if (!wantedBy.has(k)) wantedBy.set(k, []);
      wantedBy.get(k).push(c);
    }
  });
  let bytesOut = 0;
  let updatesOut = 0;
  const toObject = (r) => ({
    segment: r.segment,
    securityId: r.securityId,
    ltp: r.ltp,
    lastTradeTime: new Date(r.ltt * 1000).toISOString(),
    lastTradeQty: Number.isNaN(r.ltq) ? null : r.ltq,
    avgPrice: Number.isNaN(r.atp) ? null : r.atp,
    volume: Number.isNaN(r.volume) ? null : r.volume,
    totalBuyQty: Number.isNaN(r.totalBuyQty) ? null : r.totalBuyQty,
    totalSellQty: Number.isNaN(r.totalSellQty) ? null : r.totalSellQty,
    open: Number.isNaN(r.open) ? null : r.open,
    high: Number.isNaN(r.high) ? null : r.high,
    low: Number.isNaN(r.low) ? null : r.low,
    close: Number.isNaN(r.close) ? null : r.close,
    prevClose: null,
    change: null,
    changePercent: null,
    oi: Number.isNaN(r.oi) ? null : r.oi,
    depth: r.hasDepth
      ? [0, 1, 2, 3, 4].map((l) => ({
          bidQty: r.depth[l * 6],
          bidOrders: r.depth[l * 6 + 1],
          bidPrice: r.depth[l * 6 + 2],
          askQty: r.depth[l * 6 + 3],
          askOrders: r.depth[l * 6 + 4],
          askPrice: r.depth[l * 6 + 5],
        }))
      : null,
    stale: r.stale,
  });
  const flush = () => {
    for (const r of store.drainDirty()) {
      const cs = wantedBy.get(r.key);
      if (cs) for (const c of cs) pending[c].add(r);
    }
    for (let c = 0; c < pending.length; c++) {
      if (pending[c].size === 0) continue;
      const payload = JSON.stringify([...pending[c]].map(toObject));
      // ws.send(string) encodes to a Buffer per client: count that work too.
      bytesOut += Buffer.from(payload).length;
      updatesOut += pending[c].size;
      pending[c].clear();
    }
  };
  for (let i = 0; i < WARMUP_FLUSHES; i++) {
    applyBatch(store);
    flush();
  }
  bytesOut = updatesOut = 0;
  const flushMs = [];
  let flushCpu = 0;
  gcMs = gcCount = 0;
  obs.observe({ entryTypes: ['gc'] });
  for (let i = 0; i < FLUSHES; i++) {
    applyBatch(store);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    flush();
    flushMs.push(performance.now() - t0);
    const c1 = process.cpuUsage(c0);
    flushCpu += c1.user + c1.system;
    await yieldToLoop();
  }
  await yieldToLoop();
  obs.disconnect();
  flushMs.sort((a, b) => a - b);
  return {
    name: 'naive (objects + JSON.stringify + encode per client)',
    flushCpuMs: flushCpu / 1000 / FLUSHES,
    flushP50: percentile(flushMs, 50),
    flushP99: percentile(flushMs, 99),
    updatesOutPerS: updatesOut / ((FLUSHES * INTERVAL) / 1000),
    bytesOutPerS: bytesOut / ((FLUSHES * INTERVAL) / 1000),
    gcMsPerS: gcMs / SECONDS,
  };
}

function allocPerUpdate() {
  cursor = 0;
  const store = new TickStore({ staleAfterMs: 1e12 });
  for (let id = 1; id <= UNIVERSE; id++) store.ensure(key(id));
  for (let i = 0; i < 40; i++) {
    applyBatch(store);
    store.drainDirty();
  }
  global.gc();
  const h0 = v8.getHeapStatistics().used_heap_size;
  let n = 0;
  for (let i = 0; i < 20; i++) {
    applyBatch(store);
    n += PER_FLUSH;
  }
  const grew = v8.getHeapStatistics().used_heap_size - h0;
  return Math.max(0, grew) / n;
}

function registryFill() {
  const refs = (from, n, kind, holder) =>
    Array.from({ length: n }, (_, i) => ({
      segment: SEG,
      securityId: String(from + i),
      kind,
      holderId: holder,
      mode: 'QUOTE',
    }));
  let messages = 0;
  const port = { subscribe: () => messages++, unsubscribe: () => messages++ };
  // Minimum over rounds: the least disturbed run on a shared machine.
  const out = { oneCallMs: Infinity, singleCallsMs: Infinity, evict1000Ms: Infinity, spread: 0 };
  const all = refs(1, UNIVERSE, 'CLIENT', 'bench');
  const positions = Array.from({ length: 1000 }, (_, i) => refs(100_000 + i, 1, 'POSITION', 'p'));
  for (let round = 0; round < 5; round++) {
    let reg = new SubscriptionRegistry(port);
    let t0 = performance.now();
    reg.acquire(all);
    out.oneCallMs = Math.min(out.oneCallMs, performance.now() - t0);
    reg = new SubscriptionRegistry(port);
    t0 = performance.now();
    for (const r of all) reg.acquire([r]);
    out.singleCallsMs = Math.min(out.singleCallsMs, performance.now() - t0);
    t0 = performance.now();
    for (const p of positions) reg.acquire(p);
    out.evict1000Ms = Math.min(out.evict1000Ms, performance.now() - t0);
    out.spread = Math.max(...reg.stats().byConnection) - Math.min(...reg.stats().byConnection);
  }
  return out;
}

async function main() {
  const fmt = (x, d = 2) => (typeof x === 'number' ? x.toFixed(d) : String(x));
  const fill = registryFill();
  const bytesPerUpdate = allocPerUpdate();
  const ours = await runOurs();
  const naive = NAIVE ? await runNaive() : null;
  const budget = INTERVAL;
  console.log(
    `workload: ${CLIENTS} clients x ${PER_CLIENT} instruments (Zipf 1.1 over ${UNIVERSE}), ` +
      `${RATE} updates/s in (90% ticker / 10% full), flush every ${INTERVAL} ms, ` +
      `${SECONDS} s simulated, ${Math.round(SLOW * 100)}% held clients; ` +
      'every batch ends as a Buffer (ours: built as one; naive: Buffer.from as ws.send does)',
  );
  console.log(`node ${process.version}, ${require('node:os').cpus()[0].model}`);
  console.log('');
  console.log(
    '| implementation | flush CPU ms | flush p50 / p99 ms | share of one core | updates/s out | MB/s out | GC ms/s |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of naive ? [ours, naive] : [ours]) {
    console.log(
      `| ${r.name} | ${fmt(r.flushCpuMs)} | ${fmt(r.flushP50)} / ${fmt(r.flushP99)} | ` +
        `${fmt((100 * r.flushCpuMs) / budget, 1)} % | ${Math.round(r.updatesOutPerS)} | ` +
        `${fmt(r.bytesOutPerS / 1e6, 1)} | ${fmt(r.gcMsPerS, 1)} |`,
    );
  }
  console.log('');
  console.log(
    `TickStore.apply: ${fmt(ours.applyNsPerUpdate, 0)} ns CPU per update, ` +
      `${fmt(bytesPerUpdate, 1)} bytes heap growth per update`,
  );
  console.log(
    `fan-out: ${fmt(ours.serialisationsPerFlush, 0)} serialisations per flush ` +
      `(one per changed wanted instrument), ${fmt(ours.batchesPerFlush, 0)} batches per flush, ` +
      `~${fmt(ours.allocPerFlushKiB, 0)} KiB allocated per flush (median of sampled flushes)`,
  );
  console.log(
    `SubscriptionRegistry (best of 5): 25,000 instruments in one acquire ${fmt(fill.oneCallMs, 1)} ms, ` +
      `in 25,000 single acquires ${fmt(fill.singleCallsMs, 1)} ms, then 1,000 evicting ` +
      `acquires ${fmt(fill.evict1000Ms, 1)} ms; connection spread ${fill.spread}`,
  );
  if (naive)
    console.log(`ratio: naive / ours flush CPU = ${fmt(naive.flushCpuMs / ours.flushCpuMs, 1)}x`);
  report('fanout-core', {
    figures: {
      clients: CLIENTS,
      perClient: PER_CLIENT,
      rate: RATE,
      ours,
      naive,
      fill,
      bytesPerUpdate,
    },
    checks: [
      check(
        `in-process tick path at ${RATE} updates/s, ${CLIENTS} clients`,
        (100 * ours.flushCpuMs) / budget,
        '<=',
        25,
        '% of a core',
      ),
    ],
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
