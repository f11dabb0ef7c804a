#!/usr/bin/env node
/*
 * The Redis hop of the tick relay alone (docs/BENCHMARKS.md, "Tick relay through Redis"): a
 * leader thread encodes one drain of `--records` changed instruments every 10 ms (one fan-out
 * phase) and publishes it on a redis-server of the bench's own; a follower thread, subscribed
 * with ioredis, applies each message to its own TickStore and drains it. Latency is the time
 * from before the leader's encode to after the follower's drain (one process-wide monotonic
 * clock through a SharedArrayBuffer), so it is what the hop adds before the follower's own
 * fan-out; reported with the CPU of the bench process (both threads) and of Redis.
 *
 *   npx nest build && node bench/tick-relay-hop.bench.js [--records 250] [--seconds 20] [--quick]
 */
'use strict';

const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');
const { spawn } = require('node:child_process');
const net = require('node:net');
const { useBuild, arg, quick: QUICK, percentile, cpuTicks } = require('./harness');

const RECORDS = arg('records', 250);
const SECONDS = arg('seconds', QUICK ? 8 : 20);
const EVERY_MS = 10;
const MAX = 1 << 16;

if (!isMainThread) {
  const build = useBuild();
  const { TickStore } = build.load('src/market-data/ticks/tick-store.js');
  const { encodeTicks, applyTicks, senderOf } = build.load('src/market-data/relay/tick-codec.js');
  const { instrumentKey } = build.load('libs/dhan/src/types.js');
  const { Redis } = require('ioredis');
  const sent = new Float64Array(workerData.sent);
  const got = new Float64Array(workerData.got);
  const redis = new Redis(workerData.url);
  if (workerData.role === 'follower') {
    const store = new TickStore();
    redis.on('messageBuffer', (_channel, message) => {
      const seq = senderOf(message);
      applyTicks(message, store);
      store.drainDirty();
      got[seq % MAX] = performance.timeOrigin + performance.now();
    });
    redis.subscribe('terminal:ticks').then(() => parentPort.postMessage({ ready: true }));
  } else {
    const store = new TickStore();
    const records = [];
    for (let i = 0; i < RECORDS; i++) {
      const r = store.ensure(instrumentKey(1, 1000 + i));
      Object.assign(r, { ltp: 100 + i, ltt: 1_765_000_000, volume: 1000, hasData: true });
      r.stale = false;
      if (i % 3 === 0) r.hasDepth = true;
      records.push(r);
    }
    let seq = 0;
    parentPort.on('message', (m) => {
      if (m.cmd !== 'run') return;
      const cpu0 = process.cpuUsage();
      const timer = setInterval(() => {
        seq++;
        sent[seq % MAX] = performance.timeOrigin + performance.now();
        for (const r of records) r.ltp += 0.05;
        redis.publish('terminal:ticks', encodeTicks(records, seq));
      }, EVERY_MS);
      setTimeout(() => {
        clearInterval(timer);
        setTimeout(() => parentPort.postMessage({ seq, cpu: process.cpuUsage(cpu0) }), 500);
      }, m.seconds * 1000);
    });
    parentPort.postMessage({ ready: true });
  }
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

async function freePort() {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

async function main() {
  const port = await freePort();
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve) => {
    let out = '';
    redis.stdout.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolve();
    });
  });
  const url = `redis://127.0.0.1:${port}`;
  const sent = new SharedArrayBuffer(MAX * 8);
  const got = new SharedArrayBuffer(MAX * 8);
  const start = (role) => {
    const w = new Worker(__filename, { workerData: { role, url, sent, got } });
    return new Promise((resolve) => w.once('message', () => resolve(w)));
  };
  const follower = await start('follower');
  const leader = await start('leader');
  const r0 = cpuTicks(redis.pid);
  const t0 = performance.now();
  leader.postMessage({ cmd: 'run', seconds: SECONDS });
  const done = await new Promise((r) => leader.once('message', r));
  const dt = (performance.now() - t0) / 1000;
  const s = new Float64Array(sent);
  const g = new Float64Array(got);
  const lat = [];
  let lost = 0;
  for (let i = 1; i <= Math.min(done.seq, MAX - 1); i++) {
    if (g[i] === 0) lost++;
    else lat.push(g[i] - s[i]);
  }
  lat.sort((a, b) => a - b);
  const redisCpu = (cpuTicks(redis.pid) - r0) / 100 / dt;
  const leaderCpu = (done.cpu.user + done.cpu.system) / 1e6 / dt;
  const bytes = RECORDS * 8 * (18 + 30 / 3) + 24;
  console.log(
    `node ${process.version}, ${RECORDS} records per message (a third with depth, ~${Math.round(bytes / 1024)} KB), ` +
      `one every ${EVERY_MS} ms for ${SECONDS} s`,
  );
  console.table([
    {
      messages: done.seq,
      lost,
      'p50 ms': percentile(lat, 50).toFixed(2),
      'p99 ms': percentile(lat, 99).toFixed(2),
      'max ms': lat[lat.length - 1].toFixed(2),
      // process.cpuUsage() is per process: both threads (and the idle main thread) together.
      'leader + follower CPU': `${(leaderCpu * 100).toFixed(0)}%`,
      'redis CPU': `${(redisCpu * 100).toFixed(0)}%`,
      'MB/s': ((bytes * done.seq) / dt / 1e6).toFixed(1),
    },
  ]);
  await leader.terminate();
  await follower.terminate();
  redis.kill('SIGKILL');
}
