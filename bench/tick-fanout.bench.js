#!/usr/bin/env node
/*
 * End-to-end tick fan-out (BENCHMARK.md, quick point): the app from dist/ (pinned to core 0)
 * against the DhanHQ simulator, N graphql-ws clients x 50 instruments (simulator and clients in
 * this process, pinned to core 1); in the same run, with the same feed and clients, the bare `ws`
 * reference (B0, bench/tick-fanout-reference.js, same conflation) and the plain graphql-ws peer
 * (B1, bench/tick-fanout-graphql-ws.js, no conflation), each on core 0. `--rotate K` rotates
 * the order B3, B0, B1 by K.
 *
 * Latency: this process wraps the simulator's socket sends and keeps a side table
 * (securityId, LTP) -> send time; a client looks each received tick up on arrival.
 *
 *   npx nest build && node bench/tick-fanout.bench.js [--clients 200] [--per-client 50]
 *       [--rate 25000] [--seconds 30] [--warmup 10] [--rotate 0] [--quick]
 */
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const crypto = require('node:crypto');
const Module = require('node:module');
const { spawn, spawnSync } = require('node:child_process');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const WebSocket = require('ws');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const aliases = [
  ['@app/dhan-simulator', path.join(dist, 'libs/dhan-simulator/src')],
  ['@app/dhan', path.join(dist, 'libs/dhan/src')],
];
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  for (const [alias, target] of aliases) {
    if (request === alias || request.startsWith(alias + '/')) {
      return resolveFilename.call(this, target + request.slice(alias.length), ...rest);
    }
  }
  return resolveFilename.call(this, request, ...rest);
};
const { DhanSimulator } = require('@app/dhan-simulator');

const argv = process.argv.slice(2);
const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
function arg(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
}
const CLIENTS = arg('clients', 200);
const PER_CLIENT = arg('per-client', 50);
const RATE = arg('rate', 25_000);
const SECONDS = arg('seconds', quick ? 20 : 30);
const WARMUP = arg('warmup', quick ? 8 : 10);
const ROTATE = arg('rotate', 0);
const INTERVAL = 100;
const hasTaskset = spawnSync('taskset', ['-c', '1', 'true']).status === 0;
if (hasTaskset) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)]);

// ---- latency side table: (securityId, LTP in paise) -> send time of the simulator frame ----
const sentAt = new Map();
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data, options, cb) {
  if (this._isServer && Buffer.isBuffer(data) && data.length >= 16) stamp(data);
  return send.call(this, data, options, cb);
};
function stamp(frame) {
  const now = performance.now();
  for (let o = 0; o + 8 <= frame.length;) {
    const code = frame[o];
    const len = frame.readUInt16LE(o + 1);
    if (len < 8 || o + len > frame.length) break;
    if ((code === 2 || code === 4 || code === 8) && len >= 12) {
      const id = frame.readInt32LE(o + 4);
      const ltp = Math.round(frame.readFloatLE(o + 8) * 100);
      sentAt.set(id * 1e8 + ltp, now);
    }
    o += len;
  }
}
setInterval(() => {
  if (sentAt.size > 2_000_000) sentAt.clear();
}, 5_000).unref();

// ---- helpers ----
function cpuTicks(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}
function rssMb(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
const TICK_HZ = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startChild(args, env) {
  const cmd = hasTaskset ? 'taskset' : process.execPath;
  const full = hasTaskset ? ['-c', '0', process.execPath, ...args] : args;
  const child = spawn(cmd, full, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.setEncoding('utf8');
  return child;
}
function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

async function waitHttp(url, ok) {
  for (let i = 0; i < 600; i++) {
    try {
      const r = await fetch(url);
      const body = await r.text();
      if (ok(r, body)) return;
    } catch {
      /* not up yet */
    }
    await sleep(200);
  }
  throw new Error(`${url} never became ready`);
}

function zipfPicker(n, s) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s);
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  return () => {
    const x = rand() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const FIELDS =
  'segment securityId ltp lastTradeTime lastTradeQty avgPrice volume totalBuyQty totalSellQty ' +
  'open high low close prevClose change changePercent oi ' +
  'depth { bidQty bidOrders bidPrice askQty askOrders askPrice } stale';
const QUERY = `subscription T($instruments: [InstrumentInput!]!) { ticks(instruments: $instruments) { ${FIELDS} } }`;

const SEGMENT_KEY = Buffer.from('{"segment":');
let parseTurn = 0;

function runClients(url, token, watchlists) {
  const stats = {
    messages: 0,
    updates: 0,
    bytes: 0,
    lat: new Float64Array(4_000_000),
    n: 0,
    open: 0,
  };
  const sockets = [];
  // Every client connects and is acknowledged first; then all subscribe at once, so a server
  // that falls behind on events cannot starve the handshakes of the clients still connecting.
  const subscribe = [];
  const ready = watchlists.map(
    (instruments, i) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
        sockets.push(ws);
        ws.on('open', () =>
          ws.send(
            JSON.stringify({
              type: 'connection_init',
              payload: { authorization: `Bearer ${token}` },
            }),
          ),
        );
        ws.on('error', reject);
        ws.on('message', (data) => {
          const now = performance.now();
          // Most batches are only counted (a scan, no parse), so the load generator stays
          // well below its core; every 8th is parsed for latency samples.
          if (data.length > 200 && ++parseTurn % 8 !== 0) {
            stats.messages++;
            stats.bytes += data.length;
            let n = 0;
            for (
              let at = data.indexOf(SEGMENT_KEY);
              at >= 0;
              at = data.indexOf(SEGMENT_KEY, at + 12)
            )
              n++;
            stats.updates += n;
            return;
          }
          const msg = JSON.parse(data);
          if (msg.type === 'connection_ack') {
            stats.open++;
            subscribe.push(() =>
              ws.send(
                JSON.stringify({
                  id: String(i),
                  type: 'subscribe',
                  payload: { query: QUERY, variables: { instruments } },
                }),
              ),
            );
            resolve();
          } else if (msg.type === 'next') {
            stats.messages++;
            stats.bytes += data.length;
            const ticks = msg.payload.data.ticks;
            stats.updates += ticks.length;
            for (const t of ticks) {
              if (t.ltp === null) continue;
              const at = sentAt.get(Number(t.securityId) * 1e8 + Math.round(t.ltp * 100));
              if (at !== undefined && stats.n < stats.lat.length) stats.lat[stats.n++] = now - at;
            }
          } else if (msg.type === 'ping') {
            ws.send('{"type":"pong"}');
          } else if (msg.type === 'error') {
            reject(new Error(JSON.stringify(msg.payload)));
          }
        });
      }),
  );
  const all = Promise.all(ready).then(() => {
    for (const fn of subscribe) fn();
  });
  return { stats, sockets, ready: all };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(label, pid, url, token, watchlists, sim) {
  const rssIdle = rssMb(pid);
  const clients = runClients(url, token, watchlists);
  await clients.ready;
  await sleep(WARMUP * 1000);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const c0 = cpuTicks(pid);
  const self0 = process.cpuUsage();
  const s = clients.stats;
  const m0 = s.messages;
  const u0 = s.updates;
  const b0 = s.bytes;
  s.n = 0;
  const p0 = sim.feed.connectionInfo().reduce((a, c) => a + c.packetsSent, 0);
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const dt = (performance.now() - t0) / 1000;
  const cpu = (cpuTicks(pid) - c0) / TICK_HZ / dt;
  const self = process.cpuUsage(self0);
  loop.disable();
  const p1 = sim.feed.connectionInfo().reduce((a, c) => a + c.packetsSent, 0);
  const lat = Array.from(s.lat.subarray(0, s.n)).sort((a, b) => a - b);
  const rssLoaded = rssMb(pid);
  const result = {
    label,
    ticksIn: Math.round((p1 - p0) / dt),
    messagesOut: Math.round((s.messages - m0) / dt),
    updatesOut: Math.round((s.updates - u0) / dt),
    mbOut: ((s.bytes - b0) / dt / 1e6).toFixed(1),
    p50: percentile(lat, 50).toFixed(1),
    p99: percentile(lat, 99).toFixed(1),
    samples: lat.length,
    serverCpu: (cpu * 100).toFixed(0) + '%',
    updatesPerCpuSec: Math.round((s.updates - u0) / dt / Math.max(cpu, 0.01)),
    rssIdleMb: rssIdle.toFixed(0),
    rssLoadedMb: rssLoaded.toFixed(0),
    kbPerSubscriber: (((rssLoaded - rssIdle) * 1024) / watchlists.length).toFixed(0),
    loadCpu: (((self.user + self.system) / 1e6 / dt) * 100).toFixed(0) + '%',
    loadLoopP99Ms: (loop.percentile(99) / 1e6).toFixed(1),
  };
  for (const ws of clients.sockets) ws.terminate();
  return result;
}

async function main() {
  const sim = new DhanSimulator({ seed: 42, host: '127.0.0.1', tickIntervalMs: INTERVAL });
  const urls = await sim.start();
  const universe = sim.universe.instruments.filter((i) => i.segment !== 'IDX_I');
  const pick = zipfPicker(universe.length, 1.1);
  const watchlists = Array.from({ length: CLIENTS }, () => {
    const set = new Set();
    while (set.size < PER_CLIENT) set.add(pick());
    return [...set].map((k) => ({
      segment: universe[k].segment,
      securityId: String(universe[k].id),
    }));
  });
  const distinct = new Set(watchlists.flat().map((i) => `${i.segment}:${i.securityId}`)).size;
  const perInstrument = RATE / distinct;
  // Every watched instrument ticks at the same rate: RATE ticks/s over the distinct set.
  sim.market.tickRateOverride = () => perInstrument;

  const creds = sim.credentials;
  const dhanEnv = {
    DHAN_CLIENT_ID: creds.clientId,
    DHAN_ACCESS_TOKEN: creds.accessToken,
    DHAN_FEED_URL: urls.feedUrl,
    DHAN_API_URL: urls.apiUrl,
    DHAN_ORDER_UPDATE_URL: urls.orderUpdateUrl,
    DHAN_INSTRUMENTS_URL: urls.instrumentsUrl,
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tick-bench-'));
  const password = crypto.randomBytes(12).toString('hex');
  const port = 38000 + Math.floor(Math.random() * 2000);
  const results = [];

  async function runApp() {
    const app = startChild([path.join(dist, 'src/main.js')], {
      ...dhanEnv,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: `sqlite:${path.join(dir, 'bench.sqlite')}`,
      JWT_SECRET: crypto.randomBytes(32).toString('hex'),
      ADMIN_USERNAME: 'bench-admin',
      ADMIN_PASSWORD: password,
      TIER_B_ENABLED: 'false',
      TICKS_INTERVAL_MS: String(INTERVAL),
    });
    app.stdout.resume();
    try {
      await waitHttp(`http://127.0.0.1:${port}/ready`, (r) => r.status === 200);
      const login = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query:
            'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }',
          variables: { u: 'bench-admin', p: password },
        }),
      }).then((r) => r.json());
      const token = login.data.login.accessToken;
      results.push(
        await measure(
          'app (B3)',
          app.pid,
          `ws://127.0.0.1:${port}/graphql`,
          token,
          watchlists,
          sim,
        ),
      );
    } finally {
      await stop(app);
    }
  }

  // B0 (bare ws reference) and B1 (plain graphql-ws peer): same feed and clients.
  async function runChild(label, script) {
    const ref = startChild([path.join(__dirname, script)], {
      ...dhanEnv,
      TICKS_INTERVAL_MS: String(INTERVAL),
    });
    try {
      const refPort = await new Promise((resolve, reject) => {
        ref.stdout.on('data', (d) => {
          const m = /READY (\d+)/.exec(d);
          if (m) resolve(Number(m[1]));
        });
        ref.once('exit', () => reject(new Error(`${script} exited`)));
      });
      results.push(
        await measure(label, ref.pid, `ws://127.0.0.1:${refPort}/`, '', watchlists, sim),
      );
    } finally {
      await stop(ref);
    }
  }

  const servers = [
    runApp,
    () => runChild('bare ws (B0)', 'tick-fanout-reference.js'),
    () => runChild('graphql-ws (B1)', 'tick-fanout-graphql-ws.js'),
  ];
  for (let i = 0; i < servers.length; i++) {
    await servers[(i + ROTATE) % servers.length]();
    await sleep(2000);
  }
  await sim.stop();
  fs.rmSync(dir, { recursive: true, force: true });

  console.log(
    `node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0].model}), ${CLIENTS} clients x ${PER_CLIENT}` +
      ` instruments (${distinct} distinct, Zipf 1.1 over ${universe.length}), target ${RATE} ticks/s,` +
      ` conflation ${INTERVAL} ms (B1: none), order rotated by ${ROTATE}, ${SECONDS} s after ${WARMUP} s warm-up, taskset ${hasTaskset}`,
  );
  console.table(results);
  const row = (id) => results.find((r) => r.label.includes(`(${id})`));
  const b3 = row('B3');
  for (const id of ['B0', 'B1']) {
    const x = row(id);
    console.log(
      `B3 / ${id}: updates/s out ${(b3.updatesOut / x.updatesOut).toFixed(2)}, ` +
        `updates per server CPU-second ${(b3.updatesPerCpuSec / x.updatesPerCpuSec).toFixed(2)}`,
    );
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
