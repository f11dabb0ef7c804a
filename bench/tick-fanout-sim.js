/*
 * Feed side of bench/tick-fanout.bench.js, run as a worker thread (its own event loop and heap,
 * pinned with the client fleet to core 1): the DhanHQ simulator from dist/ with `feedSize`
 * instruments ranked by the simulator's activity model (ATM strikes of near expiries and top
 * stocks first) and ticking Zipf(s) by rank, capped at one tick per timer round, scaled so
 * that all of them together tick at `rate` per second. Every frame the simulator sends is
 * stamped into the shared side table (tick-fanout-stamps.js), and each instrument's last LTP
 * sent is kept: `freeze` stops every feed connection's ticks (pings still answered) and replies
 * those final values, for the fleet's freshness check; `thaw` resumes them.
 */
'use strict';

const fs = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const WebSocket = require('ws');
const { openTable, nowMs } = require('./tick-fanout-stamps');

require('./harness').useBuild(undefined, workerData.dist);
const { DhanSimulator } = require('@app/dhan-simulator');

const { rate: RATE, feedSize: FEED, skew: SKEW, tickIntervalMs: TICK_MS } = workerData;
const table = openTable(workerData.table);
// --native-fleet: every stamp also goes to the C fleet through a FIFO, as 16-byte records
// (int32 security id, int32 LTP in paise, float64 send time in ms); read-write and
// non-blocking, so opening never waits for the reader and a full pipe drops (counted).
const fifo = workerData.stampFifo
  ? fs.openSync(workerData.stampFifo, fs.constants.O_RDWR | fs.constants.O_NONBLOCK)
  : -1;
const fifoRecords = Buffer.alloc(16 * 4096);
let fifoDropped = 0;
/** Each instrument's last LTP sent (paise) and when. */
const finalPaise = new Map();
const finalAt = new Map();

// ---- stamps: every server-side socket send of a packet frame ----
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data, options, cb) {
  if (this._isServer && Buffer.isBuffer(data) && data.length >= 16) stamp(data);
  return send.call(this, data, options, cb);
};
function stamp(frame) {
  const now = nowMs();
  let records = 0;
  for (let o = 0; o + 8 <= frame.length;) {
    const code = frame[o];
    const len = frame.readUInt16LE(o + 1);
    if (len < 8 || o + len > frame.length) break;
    if ((code === 2 || code === 4 || code === 8) && len >= 12) {
      const id = frame.readInt32LE(o + 4);
      const paise = Math.round(frame.readFloatLE(o + 8) * 100);
      table.record(id, paise, now);
      finalPaise.set(id, paise);
      finalAt.set(id, now);
      if (fifo >= 0 && records < 4096) {
        fifoRecords.writeInt32LE(id, records * 16);
        fifoRecords.writeInt32LE(paise, records * 16 + 4);
        fifoRecords.writeDoubleLE(now, records * 16 + 8);
        records++;
      }
    }
    o += len;
  }
  if (records > 0) {
    try {
      fs.writeSync(fifo, fifoRecords, 0, records * 16);
    } catch {
      fifoDropped += records;
    }
  }
}

/** C such that sum over ranks of min(cap, C / rank^s) = total. */
function zipfScale(n, s, cap, total) {
  let lo = 0;
  let hi = total * 10;
  for (let it = 0; it < 100; it++) {
    const c = (lo + hi) / 2;
    let sum = 0;
    for (let k = 1; k <= n; k++) sum += Math.min(cap, c / Math.pow(k, s));
    if (sum < total) lo = c;
    else hi = c;
  }
  return lo;
}

async function main() {
  const rates = new Map();
  const sim = new DhanSimulator({
    seed: 42,
    host: '127.0.0.1',
    tickIntervalMs: TICK_MS,
    market: { tickRate: (inst) => rates.get(inst.index) ?? 0 },
  });
  const ranked = sim.universe.instruments
    .filter((i) => i.segment !== 'IDX_I')
    .map((inst) => ({ inst, a: sim.market.activityOf(inst) }))
    .sort((x, y) => y.a - x.a || x.inst.index - y.inst.index)
    .slice(0, FEED)
    .map((x) => x.inst);
  const cap = 1000 / TICK_MS;
  const c = zipfScale(ranked.length, SKEW, cap, RATE);
  let capped = 0;
  let top500 = 0;
  ranked.forEach((inst, k) => {
    const r = Math.min(cap, c / Math.pow(k + 1, SKEW));
    if (r >= cap) capped++;
    if (k < 500) top500 += r;
    rates.set(inst.index, r);
  });
  const urls = await sim.start();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const totals = () => {
    let packets = 0;
    let subscribed = 0;
    const info = sim.feed.connectionInfo();
    for (const i of info) {
      packets += i.packetsSent;
      subscribed += i.subscriptions.total;
    }
    return { packets, subscribed, connections: info.length };
  };
  parentPort.on('message', async (msg) => {
    if (msg.cmd === 'count') {
      parentPort.postMessage({ reply: msg.id, ...totals() });
    } else if (msg.cmd === 'mark') {
      loop.reset();
      loop.enable();
      parentPort.postMessage({ reply: msg.id, ...totals(), stampsDropped: fifoDropped });
    } else if (msg.cmd === 'stop') {
      loop.disable();
      parentPort.postMessage({
        reply: msg.id,
        ...totals(),
        loopP99Ms: loop.percentile(99) / 1e6,
        skippedBackpressure: sim.feed.stats.ticksSkippedBackpressure,
        stampsDropped: fifoDropped,
      });
    } else if (msg.cmd === 'freeze') {
      for (const c of sim.feed.connectionInfo()) sim.feed.goSilent(c.id, { answerPings: true });
      const n = finalPaise.size;
      const records = Buffer.alloc(16 * n);
      let k = 0;
      for (const [id, paise] of finalPaise) {
        records.writeInt32LE(id, k * 16);
        records.writeInt32LE(paise, k * 16 + 4);
        records.writeDoubleLE(finalAt.get(id), k * 16 + 8);
        k++;
      }
      parentPort.postMessage({ reply: msg.id, instruments: n, records });
    } else if (msg.cmd === 'thaw') {
      for (const c of sim.feed.connectionInfo()) sim.feed.resume(c.id);
      parentPort.postMessage({ reply: msg.id });
    } else if (msg.cmd === 'exit') {
      await sim.stop();
      parentPort.postMessage({ reply: msg.id });
    }
  });
  parentPort.postMessage({
    ready: true,
    urls,
    credentials: sim.credentials,
    universeSize: sim.universe.instruments.length,
    ranked: ranked.map((i) => ({ segment: i.segment, securityId: String(i.id) })),
    capped,
    top500Share: top500 / RATE,
    cap,
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
