#!/usr/bin/env node
/*
 * The tick relay's wire format (docs/BENCHMARKS.md, "Tick relay through Redis"): one drain of
 * the leader's tick store (`--records`, default 250: 25,000 ticks/s conflated per 10 ms phase;
 * `--depth` of them with five-level depth) encoded on the leader and applied to a follower's
 * store, in the chosen binary format (float64 records, src/market-data/relay/tick-codec.ts)
 * against pre-serialised JSON (JSON.stringify of the same fields, JSON.parse and assignment on
 * the follower). Reports bytes per message and microseconds per message for each side.
 *
 *   npx nest build && node bench/tick-relay-codec.bench.js [--records 250] [--depth 0.3]
 *       [--rounds 20000] [--quick]
 */
'use strict';

const { useBuild, arg, quick: QUICK } = require('./harness');

const build = useBuild();
const { TickStore } = build.load('src/market-data/ticks/tick-store.js');
const { encodeTicks, applyTicks, RELAYED_FIELDS } = build.load(
  'src/market-data/relay/tick-codec.js',
);
const { instrumentKey } = build.load('libs/dhan/src/types.js');

const RECORDS = arg('records', 250);
const DEPTH_SHARE = Number(arg('depth', 0.3));
const ROUNDS = arg('rounds', QUICK ? 2_000 : 20_000);

const FIELDS = RELAYED_FIELDS;

const leader = new TickStore();
const records = [];
for (let i = 0; i < RECORDS; i++) {
  const r = leader.ensure(instrumentKey(1, 1000 + i));
  r.ltp = 100 + i / 20;
  r.ltt = 1_765_000_000 + i;
  r.ltq = 10;
  r.atp = 100.5;
  r.volume = 123_456 + i;
  r.totalBuyQty = 5_000;
  r.totalSellQty = 6_000;
  r.open = 99;
  r.high = 102;
  r.low = 98.5;
  r.close = 99.5;
  r.prevClose = 99.5;
  r.change = 0.5;
  r.changePercent = 0.5;
  r.hasData = true;
  r.stale = false;
  if (i < RECORDS * DEPTH_SHARE) {
    for (let d = 0; d < r.depth.length; d++) r.depth[d] = 100 + d / 100;
    r.hasDepth = true;
  }
  records.push(r);
}

function jsonEncode(list) {
  const out = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    const o = { k: r.key, s: r.stale, h: r.hasData, r: r.fromRest };
    for (const f of FIELDS) o[f] = Number.isNaN(r[f]) ? null : r[f];
    if (r.hasDepth) o.d = Array.from(r.depth);
    out[i] = o;
  }
  return JSON.stringify(out);
}

function jsonApply(text, store) {
  const list = JSON.parse(text);
  for (const o of list) {
    const rec = store.ensure(o.k);
    rec.stale = o.s;
    rec.hasData = o.h;
    rec.fromRest = o.r;
    for (const f of FIELDS) rec[f] = o[f] === null ? NaN : o[f];
    if (o.d) {
      rec.depth.set(o.d);
      rec.hasDepth = true;
    }
    store.relayed(rec);
  }
  return list.length;
}

function time(fn) {
  for (let i = 0; i < Math.min(500, ROUNDS); i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1e3 / ROUNDS;
}

const follower = new TickStore();
const binary = encodeTicks(records, 1);
const json = Buffer.from(jsonEncode(records));
const rows = [
  {
    format: 'binary float64 (chosen)',
    bytes: binary.byteLength,
    encodeUs: time(() => encodeTicks(records, 1)).toFixed(1),
    applyUs: time(() => {
      applyTicks(binary, follower);
      follower.drainDirty();
    }).toFixed(1),
  },
  {
    format: 'pre-serialised JSON',
    bytes: json.byteLength,
    encodeUs: time(() => Buffer.from(jsonEncode(records))).toFixed(1),
    applyUs: time(() => {
      jsonApply(json.toString(), follower);
      follower.drainDirty();
    }).toFixed(1),
  },
];
console.log(
  `node ${process.version}, ${RECORDS} records per message (${Math.round(RECORDS * DEPTH_SHARE)} with depth), ${ROUNDS} rounds`,
);
console.table(rows);
