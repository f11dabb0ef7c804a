'use strict';
// Feed decoder micro-benchmark (docs/BENCHMARKS.md, "Feed decoder").
// Build first, then run on one core:
//   npx nest build
//   taskset -c 1 node bench/decoder.bench.js
// Throughput is measured in this process with default V8 flags. Bytes allocated per packet are
// measured in a child process with --expose-gc and a 64 MB young generation, so no scavenge
// runs inside a sample and heapUsed deltas are exact.
// Compares the library decoder (allocating, and with reused packet objects) against a naive
// decoder that makes a slice and a DataView per packet, on synthetic 1M-packet buffers.

const path = require('node:path');
const os = require('node:os');
const { spawnSync } = require('node:child_process');
const { FeedDecoder } = require(path.join(__dirname, '../dist/libs/dhan/src/feed/feed-decoder.js'));
const { report, check } = require('./harness');

const PACKETS = Number(process.env.BENCH_PACKETS || 1_000_000);
const REPS = Number(process.env.BENCH_REPS || 5);
const ALLOC_ONLY = process.argv.includes('--alloc-only');
const IST = 19800;

function tickerBuffer(n) {
  const b = Buffer.alloc(n * 16);
  for (let i = 0, o = 0; i < n; i++, o += 16) {
    b.writeUInt8(2, o);
    b.writeUInt16LE(16, o + 1);
    b.writeUInt8(2, o + 3);
    b.writeUInt32LE(35000 + (i % 25000), o + 4);
    b.writeFloatLE(24000 + (i % 1000) * 0.05, o + 8);
    b.writeInt32LE(1_764_050_400 + IST + (i >> 10), o + 12);
  }
  return b;
}

function fullBuffer(n) {
  const b = Buffer.alloc(n * 162);
  for (let i = 0, o = 0; i < n; i++, o += 162) {
    b.writeUInt8(8, o);
    b.writeUInt16LE(162, o + 1);
    b.writeUInt8(2, o + 3);
    b.writeUInt32LE(35000 + (i % 25000), o + 4);
    b.writeFloatLE(24000 + (i % 1000) * 0.05, o + 8);
    b.writeUInt16LE(75, o + 12);
    b.writeInt32LE(1_764_050_400 + IST, o + 14);
    b.writeFloatLE(23990, o + 18);
    b.writeUInt32LE(1_000_000 + i, o + 22);
    b.writeUInt32LE(50_000, o + 26);
    b.writeUInt32LE(60_000, o + 30);
    b.writeUInt32LE(150_000, o + 34);
    b.writeUInt32LE(170_000, o + 38);
    b.writeUInt32LE(140_000, o + 42);
    for (let k = 0; k < 4; k++) b.writeFloatLE(24000 + k, o + 46 + k * 4);
    for (let l = 0; l < 5; l++) {
      const p = o + 62 + l * 20;
      b.writeUInt32LE(750 + l, p);
      b.writeUInt32LE(800 + l, p + 4);
      b.writeUInt16LE(3, p + 8);
      b.writeUInt16LE(4, p + 10);
      b.writeFloatLE(24000 - l * 0.05, p + 12);
      b.writeFloatLE(24000.05 + l * 0.05, p + 16);
    }
  }
  return b;
}

/** Frames as ws delivers them: Buffers over a larger allocation, several packets each. */
function frames(buf, packetSize, perFrame) {
  const out = [];
  const step = packetSize * perFrame;
  for (let o = 0; o < buf.length; o += step)
    out.push(buf.subarray(o, Math.min(o + step, buf.length)));
  return out;
}

// The naive decoder: a slice and a DataView per packet, a fresh object per packet.
const SEGMENTS = [
  'IDX_I',
  'NSE_EQ',
  'NSE_FNO',
  'NSE_CURRENCY',
  'BSE_EQ',
  'MCX_COMM',
  undefined,
  'BSE_CURRENCY',
  'BSE_FNO',
];
function naiveDecode(frame, cb) {
  let off = 0;
  while (off + 8 <= frame.length) {
    const len = frame.readUInt16LE(off + 1);
    if (len < 8 || off + len > frame.length) return;
    const pkt = frame.slice(off, off + len);
    const dv = new DataView(pkt.buffer, pkt.byteOffset, pkt.byteLength);
    const code = dv.getUint8(0);
    const head = { segment: SEGMENTS[dv.getUint8(3)], securityId: dv.getUint32(4, true) };
    if (code === 2) {
      cb({ type: 2, ...head, ltp: dv.getFloat32(8, true), ltt: dv.getInt32(12, true) - IST });
    } else if (code === 8) {
      const depth = [];
      for (let l = 0; l < 5; l++) {
        const lv = new DataView(pkt.buffer, pkt.byteOffset + 62 + l * 20, 20);
        depth.push({
          bidQty: lv.getUint32(0, true),
          askQty: lv.getUint32(4, true),
          bidOrders: lv.getUint16(8, true),
          askOrders: lv.getUint16(10, true),
          bidPrice: lv.getFloat32(12, true),
          askPrice: lv.getFloat32(16, true),
        });
      }
      cb({
        type: 8,
        ...head,
        ltp: dv.getFloat32(8, true),
        ltq: dv.getUint16(12, true),
        ltt: dv.getInt32(14, true) - IST,
        atp: dv.getFloat32(18, true),
        volume: dv.getUint32(22, true),
        totalSellQty: dv.getUint32(26, true),
        totalBuyQty: dv.getUint32(30, true),
        oi: dv.getUint32(34, true),
        oiDayHigh: dv.getUint32(38, true),
        oiDayLow: dv.getUint32(42, true),
        open: dv.getFloat32(46, true),
        close: dv.getFloat32(50, true),
        high: dv.getFloat32(54, true),
        low: dv.getFloat32(58, true),
        depth,
      });
    }
    off += len;
  }
}

let sink = 0;
// Keeping a reference, as a tick store would, stops V8 from optimising the packet away.
let last = null;
const consume = (p) => {
  sink += p.ltp;
  last = p;
};

const decoders = {
  library: () => {
    const d = new FeedDecoder();
    return (f) => d.decode(f, consume);
  },
  'library (reuseObjects)': () => {
    const d = new FeedDecoder({ reuseObjects: true });
    return (f) => d.decode(f, consume);
  },
  'naive (slice + DataView per packet)': () => (f) => naiveDecode(f, consume),
};

function throughput(makeDecode, fs, packets) {
  const decode = makeDecode();
  for (let i = 0; i < Math.min(fs.length, 2000); i++) decode(fs[i]); // warm-up
  const rates = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < fs.length; i++) decode(fs[i]);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    rates.push(packets / s);
  }
  rates.sort((a, b) => a - b);
  return {
    median: rates[Math.floor(rates.length / 2)],
    min: rates[0],
    max: rates[rates.length - 1],
  };
}

function allocationPerPacket(makeDecode, fs, perFrame, samplePackets) {
  const decode = makeDecode();
  const n = Math.ceil(samplePackets / perFrame);
  const measure = (fn) => {
    for (let i = 0; i < n; i++) fn(fs[i]); // warm-up, same frames
    global.gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) fn(fs[i]);
    return { delta: process.memoryUsage().heapUsed - before };
  };
  // The same loop without decoding: what the harness itself allocates.
  const base = measure((f) => {
    sink += f.length;
  });
  const m = measure(decode);
  return (m.delta - base.delta) / (n * perFrame);
}

function fmt(n) {
  return (n / 1e6).toFixed(2) + ' M/s';
}

const CASES = [
  { label: 'ticker (16 B)', make: tickerBuffer, size: 16, perFrame: 64, allocSample: 40_000 },
  { label: 'full (162 B)', make: fullBuffer, size: 162, perFrame: 8, allocSample: 10_000 },
];

function allocations() {
  const out = {};
  for (const c of CASES) {
    const fs = frames(c.make(c.allocSample), c.size, c.perFrame);
    out[c.label] = {};
    for (const [name, make] of Object.entries(decoders))
      out[c.label][name] = allocationPerPacket(make, fs, c.perFrame, c.allocSample);
  }
  return out;
}

if (ALLOC_ONLY) {
  process.stdout.write(JSON.stringify(allocations()));
} else {
  const child = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--min-semi-space-size=64',
      '--max-semi-space-size=64',
      __filename,
      '--alloc-only',
    ],
    { encoding: 'utf8' },
  );
  if (child.status !== 0) throw new Error(`allocation child failed: ${child.stderr}`);
  const alloc = JSON.parse(child.stdout);
  console.log(
    `node ${process.version}, ${os.cpus()[0].model}, nproc ${os.cpus().length}, reps ${REPS}`,
  );
  const figures = {};
  for (const c of CASES) {
    const buf = c.make(PACKETS);
    const fs = frames(buf, c.size, c.perFrame);
    console.log(
      `\n${c.label}: ${PACKETS.toLocaleString('en-US')} packets, ${c.perFrame} per frame, ${fs.length.toLocaleString('en-US')} frames`,
    );
    const rate = {};
    for (const [name, make] of Object.entries(decoders)) {
      const t = throughput(make, fs, PACKETS);
      rate[name] = t.median;
      console.log(
        `  ${name.padEnd(38)} median ${fmt(t.median)} (min ${fmt(t.min)}, max ${fmt(t.max)}); heap ${alloc[c.label][name].toFixed(1)} B/packet`,
      );
    }
    const naive = rate['naive (slice + DataView per packet)'];
    figures[c.label] = { packetsPerSecond: rate, heapBytesPerPacket: alloc[c.label] };
    console.log(
      `  ratio library / naive: ${(rate.library / naive).toFixed(2)}x; reuseObjects / naive: ${(rate['library (reuseObjects)'] / naive).toFixed(2)}x`,
    );
  }
  console.log(`\n(checksum ${sink.toFixed(0)}, last type ${last && last.type})`);
  const ticker = Object.keys(figures).find((label) => label.startsWith('ticker'));
  report('decoder', {
    figures,
    checks: [
      check(
        'ticker packets decoded per second, one core',
        ticker ? figures[ticker].packetsPerSecond.library : NaN,
        '>=',
        5e6,
        '/s',
      ),
    ],
  });
}
