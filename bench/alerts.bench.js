#!/usr/bin/env node
/*
 * Server-side alerts on the tick path (docs/BENCHMARKS.md, "Alerts"): the CPU the AlertBook
 * (src/alerts/alert-book.ts) spends evaluating 10,000 active alerts on a 25,000 ticks/s feed,
 * in process, on feed time (the ticks are applied as fast as the core allows; the figure is
 * CPU seconds per second of feed).
 *
 *   npx tsc -p tsconfig.build.json --outDir /tmp/alerts-dist
 *   ALERTS_DIST=/tmp/alerts-dist taskset -c 1 node bench/alerts.bench.js [--alerts 10000] [--rate 25000] [--seconds 60]
 *
 * Workload: 25,000 NSE_FNO instruments, ticks Zipf-distributed (s = 1.1) as in the fan-out
 * bench, 90 % ticker and 10 % full packets through the real TickStore; each instrument's price
 * random-walks around 100. Alerts sit on instruments drawn from the same Zipf distribution
 * (dealers watch the busy ones, the dearest case: most alerts where most ticks are), levels
 * within 5 % of 100, ABOVE or BELOW, metrics 70 % LTP, 10 % CHANGE_PERCENT, 10 % VOLUME,
 * 5 % OI, 5 % IV (from a map, as the chain analytics answer it). As the fan-out does, the
 * store is drained every 10 ms of feed (100 drains a second) and the book evaluates each drain.
 *
 * Measured: the CPU time inside AlertBook.evaluate (process.cpuUsage around each call, summed;
 * the two calls' own cost included), and the CPU of the whole run with and without evaluation
 * over the same stream: their difference is the evaluation's cost including its GC. Both over the feed seconds = share of
 * one core. Firings are counted (the real service then writes them to the database off this
 * path).
 */
'use strict';

const os = require('node:os');
const { useBuild, arg, quick: QUICK, seededRandom, zipfSampler } = require('./harness');

const build = useBuild('ALERTS_DIST');
const { TickStore } = build.load('src/market-data/ticks/tick-store.js');
const { AlertBook, AlertRule } = build.load('src/alerts/alert-book.js');

const ALERTS = arg('alerts', 10_000);
const RATE = arg('rate', 25_000);
const SECONDS = arg('seconds', QUICK ? 10 : 60);
const UNIVERSE = 25_000;
const DRAIN_MS = 10;
const PER_DRAIN = Math.round((RATE * DRAIN_MS) / 1000);
const DRAINS = Math.round((SECONDS * 1000) / DRAIN_MS);
const SEG = 'NSE_FNO';
const SEG_CODE = 2;
const key = (id) => SEG_CODE * 0x1_0000_0000 + id;

const rand = seededRandom(42);

const zipf = zipfSampler(UNIVERSE, 1.1, rand);

// The feed: which instrument each tick is for, whether it is a full packet, its price step.
const TICKS = PER_DRAIN * DRAINS;
const stream = new Int32Array(TICKS);
const isFull = new Uint8Array(TICKS);
const step = new Float32Array(TICKS);
for (let i = 0; i < TICKS; i++) {
  stream[i] = zipf();
  isFull[i] = rand() < 0.1 ? 1 : 0;
  step[i] = (rand() - 0.5) * 0.2;
}

const METRICS = [
  ['LTP', 0.7],
  ['CHANGE_PERCENT', 0.8],
  ['VOLUME', 0.9],
  ['OI', 0.95],
  ['IV', 1],
];
function alertsBook() {
  const book = new AlertBook();
  for (let a = 0; a < ALERTS; a++) {
    const id = zipf();
    const u = rand();
    const metric = METRICS.find(([, upTo]) => u < upTo)[0];
    const above = rand() < 0.5;
    const level =
      metric === 'LTP'
        ? 100 + (rand() - 0.5) * 10
        : metric === 'CHANGE_PERCENT'
          ? (rand() - 0.5) * 10
          : metric === 'IV'
            ? 10 + rand() * 10
            : rand() * 1e6;
    const band = Math.abs(level) * 0.001;
    book.add(
      new AlertRule(
        `a${a}`,
        `u${a % 100}`,
        key(id),
        metric,
        above ? 'ABOVE' : 'BELOW',
        level,
        band,
        false,
        true,
      ),
    );
  }
  return book;
}

const iv = new Map();
for (let id = 1; id <= UNIVERSE; id++) iv.set(key(id), 10 + rand() * 10);
const ivOf = (k) => iv.get(k) ?? NaN;

function run(evaluate) {
  const store = new TickStore({ staleAfterMs: 1e12 });
  const price = new Float64Array(UNIVERSE + 1).fill(100);
  for (let id = 1; id <= UNIVERSE; id++) {
    store.applyPrevClose({ type: 6, segment: SEG, securityId: id, prevClose: 100, prevOi: 0 });
  }
  store.drainDirty();
  const book = alertsBook();
  let fired = 0;
  let rearmed = 0;
  const sink = { fired: () => fired++, rearmed: () => rearmed++ };
  const ticker = { type: 2, segment: SEG, securityId: 0, ltp: 0, ltt: 0 };
  const full = {
    type: 8,
    segment: SEG,
    securityId: 0,
    ltp: 0,
    ltq: 75,
    ltt: 0,
    atp: 100,
    volume: 0,
    totalSellQty: 5000,
    totalBuyQty: 7000,
    oi: 0,
    open: 100,
    close: 100,
    high: 110,
    low: 90,
    depth: [],
  };
  let ltt = 1_790_000_000;
  let inEvaluateUs = 0;
  let changed = 0;
  const cpu0 = process.cpuUsage();
  let t = 0;
  for (let d = 0; d < DRAINS; d++) {
    if (d % 100 === 0) ltt++;
    for (let end = t + PER_DRAIN; t < end; t++) {
      const id = stream[t];
      let p = price[id] + step[t];
      if (p < 90 || p > 110) p = price[id] - step[t];
      price[id] = p;
      const ltp = Math.round(p * 20) / 20;
      if (isFull[t]) {
        full.securityId = id;
        full.ltp = ltp;
        full.ltt = ltt;
        full.volume = t;
        full.oi = t * 3;
        store.applyFull(full);
      } else {
        ticker.securityId = id;
        ticker.ltp = ltp;
        ticker.ltt = ltt;
        store.applyTicker(ticker);
      }
    }
    const dirty = store.drainDirty();
    changed += dirty.length;
    if (evaluate) {
      // CPU time, not wall time: on a shared machine the wall clock also counts preemption.
      const c0 = process.cpuUsage();
      book.evaluate(dirty, ivOf, sink);
      const c = process.cpuUsage(c0);
      inEvaluateUs += c.user + c.system;
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    cpuS: (cpu.user + cpu.system) / 1e6,
    evaluateS: inEvaluateUs / 1e6,
    fired,
    rearmed,
    changedPerDrain: changed / DRAINS,
    instruments: book.instruments,
  };
}

// Warm-up of both paths, then measured runs alternated (median of three each).
run(true);
run(false);
const withEval = [];
const without = [];
for (let r = 0; r < 3; r++) {
  withEval.push(run(true));
  without.push(run(false));
}
const median = (xs, f) => xs.map(f).sort((a, b) => a - b)[1];
const evalS = median(withEval, (x) => x.evaluateS);
const diffS = median(withEval, (x) => x.cpuS) - median(without, (x) => x.cpuS);
const w = withEval[0];
const pct = (s) => `${((s / SECONDS) * 100).toFixed(2)} %`;

console.log(
  `alerts: ${ALERTS} alerts on ${w.instruments} instruments, ${RATE} ticks/s for ${SECONDS} s of feed ` +
    `(${DRAINS} drains, ${w.changedPerDrain.toFixed(0)} changed instruments per drain)`,
);
console.log(`CPU in AlertBook.evaluate: ${evalS.toFixed(3)} s = ${pct(evalS)} of one core`);
console.log(
  `process CPU with minus without evaluation: ${diffS.toFixed(3)} s = ${pct(diffS)} of one core ` +
    `(feed path alone: ${pct(median(without, (x) => x.cpuS))})`,
);
console.log(`firings ${w.fired}, re-arms ${w.rearmed} (per run)`);
console.log(
  `node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
