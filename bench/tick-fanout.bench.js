#!/usr/bin/env node
/*
 * End-to-end tick fan-out (docs/BENCHMARKS.md): the app from dist/ (B3) against the DhanHQ simulator,
 * N graphql-ws clients x 50 instruments, and in the same run, with the same feed and clients,
 * the bare `ws` reference (B0, bench/tick-fanout-reference.js, same conflation) and the plain
 * graphql-ws peer (B1, bench/tick-fanout-graphql-ws.js, no conflation). Each server runs alone
 * on core 0; `--rotate K` rotates the order B3, B0, B1 by K.
 *
 * B3R: the app through Redis (REDIS_URL): a leader instance holds the feed, the clients
 * connect to a follower instance that gets every tick through a redis-server of the bench's own.
 *
 * Load side on core 1, as two worker threads of this process (own event loops and heaps):
 * the simulator (bench/tick-fanout-sim.js) with `--feed` instruments (default 25,000) on the
 * feed for every server, ticking Zipf(1.1)-by-activity at `--rate` ticks/s in total; the client
 * fleet (bench/tick-fanout-clients.js), which scans frames instead of parsing them. B0 and B1
 * put the whole feed set on their feed connections at start; the app gets it through ordinary
 * `ticks` subscriptions of a few background graphql-ws connections (chunks of 500 instruments,
 * 20 subscriptions per connection, selecting only securityId). Watchlists are drawn Zipf(1.1)
 * over the same ranking, so clients watch the hot instruments.
 *
 * Latency: the simulator thread stamps every frame it sends into a shared side table
 * (securityId, LTP) -> send time (bench/tick-fanout-stamps.js); the fleet looks each received
 * tick up on arrival. Guard: this process's CPU (simulator + fleet) and the
 * fleet's event-loop p99 are printed for every server; a row over 80 % or 5 ms is flagged.
 * The clients run in C where `cc` is found (bench/native/tick-fleet.c, one epoll loop; stamps
 * reach it through a FIFO; `--node-fleet` for the Node fleet): its CPU is added to the load
 * side's and its loop figure is the p99 of its loop's turns (the time a ready socket can wait).
 *
 *   npx nest build && node bench/tick-fanout.bench.js [--clients 200] [--per-client 50]
 *       [--rate 25000] [--feed 25000] [--seconds 30] [--warmup 10] [--rotate 0]
 *       [--only B3,B3R,B0] [--leader-core 1] [--sample-every 1] [--json out.json] [--autogroup-nice -10]
 *       [--native-fleet | --node-fleet] [--quick]
 *       [--slo [--slo-max 4000] [--slo-start B3=500,B0=500,B1=1]]
 *
 * Freshness (C fleet): after each measured window the simulator stops ticking and the fleet
 * counts the (client, instrument) pairs whose last LTP is the simulator's final one after one
 * conflation interval + 100 ms, and the largest staleness; the feed then resumes.
 *
 * `--slo`, the saturation headline: per server, clients doubled from `--slo-start` (halved
 * when that point misses; then one step halfway into the gap) until a point misses the SLO
 * (p99 over the conflation interval + 100 ms, freshness under 99.9 %, the server's event-loop
 * p99 over 50 ms, or a client not served); the largest count that met it is the server's
 * clients at SLO. A fresh server process per point. A point whose load side broke its guard
 * ends the search (the count is then a lower bound), as does `--slo-max`.
 */
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const crypto = require('node:crypto');
const { Worker } = require('node:worker_threads');
const { spawn, spawnSync } = require('node:child_process');
const { createTable } = require('./tick-fanout-stamps');
const { report, check, APP_NODE_ARGS, cpuTicks } = require('./harness');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

const argv = process.argv.slice(2);
const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
function arg(name, fallback) {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
}
const CLIENTS = Number(arg('clients', 200));
const PER_CLIENT = Number(arg('per-client', 50));
const RATE = Number(arg('rate', 25_000));
const FEED = Number(arg('feed', 25_000));
const SECONDS = Number(arg('seconds', quick ? 20 : 30));
const WARMUP = Number(arg('warmup', quick ? 8 : 10));
const ROTATE = Number(arg('rotate', 0));
/** Latency is sampled on every Kth frame (all its ticks); counting covers every frame. */
const SAMPLE_EVERY = Number(arg('sample-every', 4));
const ONLY = arg('only', 'B3,B3R,B0,B1').split(',');
/** B3R: the core of the leader instance (the follower measured is on core 0, as every server). */
const LEADER_CORE = arg('leader-core', '1');
const JSON_OUT = arg('json', '');
const INTERVAL = 100;
/** Simulator timer: one tick per instrument per round at most, so 100 ticks/s for the hottest. */
const SIM_TICK_MS = 10;
/** The app's per-subscription and per-connection limits (TICKS_MAX_INSTRUMENTS / _SUBSCRIPTIONS). */
const BG_CHUNK = 500;
const BG_PER_SOCKET = 20;
const GUARD_CPU = 80;
const GUARD_LOOP_MS = 5;
const SLO = argv.includes('--slo');
const SLO_MAX = Number(arg('slo-max', 4000));
const SLO_START = {
  B3: 500,
  B0: 500,
  B1: 1,
  ...Object.fromEntries(
    arg('slo-start', '')
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('='))
      .map(([k, v]) => [k, Number(v)]),
  ),
};
const SLO_P99_MS = INTERVAL + 100;
const SLO_FRESH_PCT = 99.9;
const SLO_LOOP_MS = 50;

const hasTaskset = spawnSync('taskset', ['-c', '1', 'true']).status === 0;
if (hasTaskset) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)]);
// On a machine shared with other work, `--autogroup-nice -10` raises this session's scheduling
// group (the bench, its workers and the servers it starts) above the others' groups.
const AUTOGROUP_NICE = arg('autogroup-nice', '');
/**
 * The client fleet in C (bench/native/tick-fleet.c, built here with `cc`): the default where a
 * C compiler is found (`--native-fleet` insists on it); `--node-fleet` runs the Node fleet.
 */
const NATIVE_FLEET =
  argv.includes('--native-fleet') ||
  (!argv.includes('--node-fleet') && spawnSync('cc', ['--version']).status === 0);
if (AUTOGROUP_NICE !== '') {
  try {
    fs.writeFileSync('/proc/self/autogroup', AUTOGROUP_NICE);
  } catch (e) {
    console.error(`autogroup nice not set: ${e.message}`);
  }
}

function rssMb(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
/** [busy, total] jiffies of core `n` from /proc/stat. */
function coreTimes(n) {
  const line = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${n} `));
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + v[4];
  const total = v.reduce((a, b) => a + b, 0);
  return [total - idle, total];
}
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const TICK_HZ = 100;
const started = Date.now();
const log = (msg) =>
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A worker with request/reply messages. */
function worker(file, data) {
  const w = new Worker(path.join(__dirname, file), { workerData: data });
  let next = 0;
  const waiting = new Map();
  let ready;
  const readyP = new Promise((resolve, reject) => {
    ready = resolve;
    w.once('error', reject);
  });
  w.on('message', (m) => {
    if (m.ready) return ready(m);
    const cb = waiting.get(m.reply);
    waiting.delete(m.reply);
    if (m.error) cb?.reject(new Error(m.error));
    else cb?.resolve(m);
  });
  w.on('error', (e) => {
    for (const cb of waiting.values()) cb.reject(e);
    waiting.clear();
  });
  return {
    ready: readyP,
    call: (cmd, extra = {}) =>
      new Promise((resolve, reject) => {
        const id = ++next;
        waiting.set(id, { resolve, reject });
        w.postMessage({ cmd, id, ...extra });
      }),
    terminate: () => w.terminate(),
  };
}

/** BENCH_SERVER_NODE_ARGS: node flags for the servers only, e.g. `--cpu-prof`. */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** The app runs with production's node flags (APP_NODE_ARGS); the reference servers with node's defaults. */
function startChild(script, env, core = '0') {
  const app = script.endsWith(path.join('src', 'main.js'));
  const args = [...SERVER_NODE_ARGS, ...(app ? APP_NODE_ARGS : []), script];
  const cmd = hasTaskset ? 'taskset' : process.execPath;
  const full = hasTaskset ? ['-c', core, process.execPath, ...args] : args;
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

/** --native-fleet: the C fleet built into a temporary folder, and the FIFO of send stamps. */
function nativeFleet() {
  if (!NATIVE_FLEET) return {};
  const { execFileSync } = require('node:child_process');
  const at = fs.mkdtempSync(path.join(os.tmpdir(), 'tick-fleet-bin-'));
  const binary = path.join(at, 'tick-fleet');
  execFileSync('cc', ['-O2', '-o', binary, path.join(__dirname, 'native', 'tick-fleet.c')]);
  const stampFifo = path.join(at, 'stamps.fifo');
  execFileSync('mkfifo', [stampFifo]);
  return { binary, stampFifo };
}

async function main() {
  const table = createTable();
  const native = nativeFleet();
  const sim = worker('tick-fanout-sim.js', {
    dist,
    table,
    stampFifo: native.stampFifo,
    rate: RATE,
    feedSize: FEED,
    skew: 1.1,
    tickIntervalMs: SIM_TICK_MS,
  });
  const feed = await sim.ready;
  const ranked = feed.ranked;
  const pick = zipfPicker(ranked.length, 1.1);
  const watchlists = Array.from({ length: SLO ? Math.max(CLIENTS, SLO_MAX) : CLIENTS }, () => {
    const set = new Set();
    while (set.size < PER_CLIENT) set.add(pick());
    return [...set].map((k) => ranked[k]);
  });
  const distinct = new Set(watchlists.flat().map((i) => `${i.segment}:${i.securityId}`)).size;
  const background = [];
  for (let i = 0; i < ranked.length; i += BG_CHUNK) background.push(ranked.slice(i, i + BG_CHUNK));

  const creds = feed.credentials;
  const dhanEnv = {
    DHAN_CLIENT_ID: creds.clientId,
    DHAN_ACCESS_TOKEN: creds.accessToken,
    DHAN_FEED_URL: feed.urls.feedUrl,
    DHAN_API_URL: feed.urls.apiUrl,
    DHAN_ORDER_UPDATE_URL: feed.urls.orderUpdateUrl,
    DHAN_INSTRUMENTS_URL: feed.urls.instrumentsUrl,
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tick-bench-'));
  const feedFile = path.join(dir, 'feed.json');
  fs.writeFileSync(feedFile, JSON.stringify(ranked));
  const password = crypto.randomBytes(12).toString('hex');
  const port = 38000 + Math.floor(Math.random() * 2000);
  const results = [];

  /** Waits until the simulator has the whole feed set subscribed by the server under test. */
  async function feedFilled() {
    for (let i = 0; i < 600; i++) {
      const t = await sim.call('count');
      if (t.subscribed >= FEED) return t.subscribed;
      if (i % 25 === 0) log(`feed: ${t.subscribed} subscribed on ${t.connections} connections`);
      await sleep(200);
    }
    throw new Error('the feed never reached its instrument count');
  }

  /**
   * The app's own series over the measured window (`metricsUrl`: its /metrics): the event
   * loop's delay p99 (the gauge covers the time since the previous scrape, so one scrape at the
   * start opens the window), garbage-collection pauses by kind, and the fan-out's flushes, so a
   * latency tail can be put down to what stalled the server's loop.
   */
  async function scrapeMetrics(metricsUrl) {
    const text = await fetch(metricsUrl).then((r) => r.text());
    const series = new Map();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const space = line.lastIndexOf(' ');
      // Labels in one order (name{a="..",b=".."}, sorted), whatever order the registry prints.
      const key = line.slice(0, space).replace(/\{(.*)\}$/, (_, labels) => {
        const pairs = labels.match(/[a-zA-Z_]+="[^"]*"/g) ?? [];
        return `{${pairs.sort().join(',')}}`;
      });
      series.set(key, Number(line.slice(space + 1)));
    }
    return series;
  }

  function serverSeries(before, after) {
    const delta = (key) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    const gc = {};
    // The kinds as node's performance entries number them.
    const kinds = { 1: 'scavenge', 2: 'markCompact', 4: 'incremental', 8: 'weakCallbacks' };
    for (const [kind, name] of Object.entries(kinds)) {
      const count = delta(`nodejs_gc_pause_seconds_count{kind="${kind}"}`);
      if (count === 0) continue;
      const sum = delta(`nodejs_gc_pause_seconds_sum{kind="${kind}"}`);
      const under = (le) => delta(`nodejs_gc_pause_seconds_bucket{kind="${kind}",le="${le}"}`);
      gc[name] = {
        pauses: count,
        ms: Math.round(sum * 1000),
        over10ms: count - under('0.01'),
        over25ms: count - under('0.025'),
        over50ms: count - under('0.05'),
      };
    }
    const flushes = delta('ticks_fanout_flush_duration_seconds_count');
    const flushUnder = (le) => delta(`ticks_fanout_flush_duration_seconds_bucket{le="${le}"}`);
    const flushBuckets = [...after.keys()]
      .filter((k) => k.startsWith('ticks_fanout_flush_duration_seconds_bucket'))
      .map((k) => k.match(/le="([^"]+)"/)?.[1]);
    const over = (le) => (flushBuckets.includes(le) ? flushes - flushUnder(le) : undefined);
    return {
      loopDelayP99Ms: Number(
        ((after.get('nodejs_eventloop_delay_p99_seconds') ?? 0) * 1000).toFixed(1),
      ),
      gc,
      flushes,
      flushMsMean:
        flushes > 0
          ? Number(((delta('ticks_fanout_flush_duration_seconds_sum') / flushes) * 1000).toFixed(2))
          : 0,
      flushesOver25ms: over('0.025'),
      flushesOver50ms: over('0.05'),
      flushesOver100ms: over('0.1'),
      heldFlushes: delta('ticks_fanout_held_flushes_total'),
    };
  }

  /**
   * Freshness after the measured window (C fleet only): the simulator stops ticking and hands
   * over each instrument's final LTP; after one conflation interval + 100 ms the fleet counts
   * the (client, instrument) pairs whose last value is the final one. The feed resumes after.
   */
  async function freshness(fleet) {
    if (!NATIVE_FLEET) return undefined;
    const finals = await sim.call('freeze');
    try {
      const file = path.join(dir, 'finals.bin');
      fs.writeFileSync(file, Buffer.from(finals.records));
      await sleep(INTERVAL + 100);
      const f = await fleet.call(`fresh ${file}`);
      return {
        freshPct: f.pairs > 0 ? Number(((f.fresh / f.pairs) * 100).toFixed(3)) : NaN,
        pairs: f.pairs,
        stalePairs: f.pairs - f.fresh,
        neverReceived: f.never,
        maxStalenessMs: f.maxStalenessMs,
      };
    } finally {
      await sim.call('thaw');
    }
  }

  /**
   * One measured point: `clients` fleet clients (the first of the watchlists) against the
   * server at `url`. `loopProbe` reads the event-loop delay of a reference server over the
   * window (the app's comes from its /metrics).
   */
  async function measure(
    label,
    pid,
    url,
    token,
    withBackground,
    others = [],
    metricsUrl,
    { clients = CLIENTS, loopProbe } = {},
  ) {
    const fleet = worker(NATIVE_FLEET ? 'tick-fanout-native.js' : 'tick-fanout-clients.js', {
      ...native,
      url,
      token,
      watchlists: watchlists.slice(0, clients),
      background: withBackground ? background : [],
      perSocket: BG_PER_SOCKET,
      fields: FIELDS,
      sampleEvery: SAMPLE_EVERY,
      table,
    });
    try {
      await fleet.ready;
      log(`${label}: up`);
      await fleet.call('background');
      const onFeed = await feedFilled();
      log(`${label}: ${onFeed} instruments on the feed`);
      await sleep(2000);
      const rssIdle = rssMb(pid);
      await fleet.call('fleet');
      log(`${label}: ${clients} clients subscribed, warming up`);
      await sleep(WARMUP * 1000);
      // The window's start: the probes first (a saturated server answers late), then the
      // counters, as close to the marks as they can be.
      const m0 = metricsUrl ? await scrapeMetrics(metricsUrl) : undefined;
      await loopProbe?.reset();
      const load0 = loadavg();
      const c0 = cpuTicks(pid);
      const others0 = others.map(([, p]) => cpuTicks(p));
      const core0 = coreTimes(1);
      const self0 = process.cpuUsage();
      const s0 = await sim.call('mark');
      await fleet.call('mark');
      const t0 = performance.now();
      await sleep(SECONDS * 1000);
      await fleet.call('stop');
      const s1 = await sim.call('stop');
      const dt = (performance.now() - t0) / 1000;
      const cpu = (cpuTicks(pid) - c0) / TICK_HZ / dt;
      const othersCpu = others
        .map(
          ([name, p], i) =>
            `${name} ${(((cpuTicks(p) - others0[i]) / TICK_HZ / dt) * 100).toFixed(0)}%`,
        )
        .join(', ');
      const self = process.cpuUsage(self0);
      const core1 = coreTimes(1);
      const rssLoaded = rssMb(pid);
      // After the window's figures: a saturated server answers its loop probe late.
      const server = m0 ? serverSeries(m0, await scrapeMetrics(metricsUrl)) : undefined;
      const serverLoop = server ? server.loopDelayP99Ms : (await loopProbe?.read())?.p99;
      const fresh = await freshness(fleet);
      // The latency percentiles last: sorting millions of samples pauses the fleet's reads.
      const f = await fleet.call('report');
      // The C fleet is a child process: its CPU is added to the bench process's own.
      const loadCpu = ((self.user + self.system) / 1e6 / dt + (f.cpuMs ?? 0) / 1000 / f.dt) * 100;
      const updatesOut = f.updates / f.dt;
      const r = {
        label,
        clients,
        onFeed,
        ticksIn: Math.round((s1.packets - s0.packets) / dt),
        messagesOut: Math.round(f.messages / f.dt),
        updatesOut: Math.round(updatesOut),
        mbOut: (f.bytes / f.dt / 1e6).toFixed(1),
        bgUpdatesMsgs: Math.round(f.bgMessages / f.dt),
        p50: f.p50.toFixed(1),
        p95: f.p95.toFixed(1),
        p99: f.p99.toFixed(1),
        p999: f.p999.toFixed(1),
        max: f.max.toFixed(0),
        samples: f.samples,
        serverCpu: (cpu * 100).toFixed(0) + '%',
        updatesPerCpuSec: Math.round(updatesOut / Math.max(cpu, 0.01)),
        rssIdleMb: rssIdle.toFixed(0),
        rssLoadedMb: rssLoaded.toFixed(0),
        kbPerSubscriber: (((rssLoaded - rssIdle) * 1024) / clients).toFixed(0),
        loadCpu: loadCpu.toFixed(0) + '%',
        core1Busy:
          (((core1[0] - core0[0]) / Math.max(1, core1[1] - core0[1])) * 100).toFixed(0) + '%',
        fleetLoopP99Ms: f.loopP99Ms.toFixed(1),
        simLoopP99Ms: s1.loopP99Ms.toFixed(1),
        ...(NATIVE_FLEET ? { stampsDropped: s1.stampsDropped - s0.stampsDropped } : {}),
        open: f.open,
        ...(serverLoop !== undefined ? { serverLoopP99Ms: Number(serverLoop.toFixed(1)) } : {}),
        ...(fresh ? { fresh } : {}),
        ...(server ? { server } : {}),
        ...(others.length > 0 ? { othersCpu } : {}),
        load: `${load0} -> ${loadavg()}`,
        guard:
          loadCpu <= GUARD_CPU && f.loopP99Ms <= GUARD_LOOP_MS
            ? 'ok'
            : `BROKEN (${loadCpu > GUARD_CPU ? 'cpu' : ''}${f.loopP99Ms > GUARD_LOOP_MS ? ' loop' : ''})`,
      };
      results.push(r);
      console.log(JSON.stringify(r));
      return r;
    } finally {
      await fleet.call('exit').catch(() => undefined);
      await fleet.terminate();
    }
  }

  /** Logs in to an app on `appPort` and waits until it knows the feed set; its token. */
  async function appToken(appPort) {
    const login = await fetch(`http://127.0.0.1:${appPort}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }',
        variables: { u: 'bench-admin', p: password },
      }),
    }).then((r) => r.json());
    const token = login.data.login.accessToken;
    // The instrument master loads after boot: wait until the app knows the feed set.
    const probe = ranked[ranked.length - 1];
    for (let i = 0; ; i++) {
      const known = await fetch(`http://127.0.0.1:${appPort}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: `{ instrument(segment: ${probe.segment}, securityId: "${probe.securityId}") { securityId } }`,
        }),
      }).then((r) => r.json());
      if (known.data?.instrument) break;
      if (i > 300) throw new Error(`the app never loaded the instrument master`);
      await sleep(200);
    }
    return token;
  }

  const appEnv = (appPort, database) => ({
    ...dhanEnv,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: String(appPort),
    DATABASE_URL: `sqlite:${path.join(dir, database)}`,
    JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    ADMIN_USERNAME: 'bench-admin',
    ADMIN_PASSWORD: password,
    TIER_B_ENABLED: 'false',
    TICKS_INTERVAL_MS: String(INTERVAL),
    // The background subscriptions put the whole feed set on one user's ticks.
    // and every client of the fleet is that one user: the per-user caps are lifted.
    MAX_TICK_INSTRUMENTS_PER_USER: '100000',
    WS_SUBSCRIPTIONS_PER_USER: '1000000',
    WS_SUBSCRIPTIONS_PER_USER_FIELD: '1000000',
  });

  async function runApp(clients = CLIENTS) {
    const app = startChild(path.join(dist, 'src/main.js'), appEnv(port, 'bench.sqlite'));
    // BENCH_APP_LOG=FILE keeps the app's output (with BENCH_SERVER_NODE_ARGS=--trace-gc, its
    // collector's log); else it is read and dropped.
    if (process.env.BENCH_APP_LOG) app.stdout.pipe(fs.createWriteStream(process.env.BENCH_APP_LOG));
    else app.stdout.resume();
    try {
      await waitHttp(`http://127.0.0.1:${port}/ready`, (r) => r.status === 200);
      const token = await appToken(port);
      return await measure(
        'app (B3)',
        app.pid,
        `ws://127.0.0.1:${port}/graphql`,
        token,
        true,
        [],
        `http://127.0.0.1:${port}/metrics`,
        { clients },
      );
    } finally {
      await stop(app);
    }
  }

  /**
   * B3R: the same app through Redis. A leader instance holds the feed; the clients (and the
   * background subscriptions that put the feed set on the leader's feed through the cluster's
   * references) connect to a follower instance, which gets every tick through a redis-server
   * of the bench's own. The follower is the server measured, alone on core 0 as every server;
   * the leader runs on `--leader-core` (default 1, beside the load side: on two cores a leader
   * beside the follower saturates core 0), its CPU and Redis's are given beside the row.
   */
  async function runAppRedis() {
    const redisPort = port + 3;
    const redis = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((resolve, reject) => {
      let out = '';
      redis.stdout.on('data', (d) => {
        out += d;
        if (out.includes('Ready to accept connections')) resolve();
      });
      redis.once('exit', () => reject(new Error('redis-server exited')));
    });
    const redisEnv = { REDIS_URL: `redis://127.0.0.1:${redisPort}` };
    const leaderPort = port + 1;
    const followerPort = port + 2;
    const leader = startChild(
      path.join(dist, 'src/main.js'),
      { ...appEnv(leaderPort, 'leader.sqlite'), ...redisEnv },
      LEADER_CORE,
    );
    leader.stdout.resume();
    let follower;
    try {
      await waitHttp(`http://127.0.0.1:${leaderPort}/ready`, (r) => r.status === 200);
      follower = startChild(path.join(dist, 'src/main.js'), {
        ...appEnv(followerPort, 'follower.sqlite'),
        ...redisEnv,
      });
      follower.stdout.resume();
      await waitHttp(`http://127.0.0.1:${followerPort}/ready`, (r) => r.status === 200);
      const token = await appToken(followerPort);
      await measure(
        'app via Redis (B3R)',
        follower.pid,
        `ws://127.0.0.1:${followerPort}/graphql`,
        token,
        true,
        [
          ['leader', leader.pid],
          ['redis', redis.pid],
        ],
      );
    } finally {
      if (follower) await stop(follower);
      await stop(leader);
      await stop(redis);
    }
  }

  // B0 (bare ws reference) and B1 (plain graphql-ws peer): same feed and clients; the whole
  // feed set is put on their feed connections at start (FEED_INSTRUMENTS_FILE).
  async function runChild(label, script, clients = CLIENTS) {
    const ref = startChild(path.join(__dirname, script), {
      ...dhanEnv,
      TICKS_INTERVAL_MS: String(INTERVAL),
      FEED_INSTRUMENTS_FILE: feedFile,
    });
    try {
      const refPort = await new Promise((resolve, reject) => {
        ref.stdout.on('data', (d) => {
          const m = /READY (\d+)/.exec(d);
          if (m) resolve(Number(m[1]));
        });
        ref.once('exit', () => reject(new Error(`${script} exited`)));
      });
      // Its event-loop delay over the window: SIGUSR2 prints `LOOP <p99> <max>` and resets.
      let onLoop = () => undefined;
      ref.stdout.on('data', (d) => {
        const m = /LOOP ([\d.]+) ([\d.]+)/.exec(d);
        if (m) onLoop({ p99: Number(m[1]), max: Number(m[2]) });
      });
      const probe = () =>
        new Promise((resolve) => {
          onLoop = resolve;
          ref.kill('SIGUSR2');
        });
      return await measure(label, ref.pid, `ws://127.0.0.1:${refPort}/`, '', false, [], undefined, {
        clients,
        loopProbe: { reset: probe, read: probe },
      });
    } finally {
      await stop(ref);
    }
  }

  /** Whether a measured point meets the SLO, and what it missed. */
  function sloVerdict(r) {
    if (r.guard !== 'ok') return { ok: false, broken: true, misses: [`load side ${r.guard}`] };
    const misses = [];
    if (r.open < r.clients) misses.push(`${r.open} of ${r.clients} clients open`);
    if (!(r.samples > 0)) misses.push('no latency sample');
    else if (Number(r.p99) > SLO_P99_MS) misses.push(`p99 ${r.p99} ms`);
    const freshPct = r.fresh?.freshPct;
    if (!(freshPct >= SLO_FRESH_PCT)) misses.push(`fresh ${freshPct ?? 'not measured'} %`);
    if (!(r.serverLoopP99Ms <= SLO_LOOP_MS)) misses.push(`server loop p99 ${r.serverLoopP99Ms} ms`);
    return { ok: misses.length === 0, broken: false, misses };
  }

  /** `--slo`: each server's clients at SLO (see the header). */
  async function sloSearch() {
    const runners = {
      B3: (n) => runApp(n),
      B0: (n) => runChild('bare ws (B0)', 'tick-fanout-reference.js', n),
      B1: (n) => runChild('graphql-ws (B1)', 'tick-fanout-graphql-ws.js', n),
    };
    const order = ['B3', 'B0', 'B1'];
    const slo = [];
    for (let i = 0; i < order.length; i++) {
      const id = order[(i + ROTATE) % order.length];
      if (!ONLY.includes(id)) continue;
      const steps = [];
      let met = 0;
      let missed = null;
      let bound = '';
      const point = async (n) => {
        const r = await runners[id](n);
        const v = sloVerdict(r);
        log(`${id} at ${n} clients: ${v.ok ? 'within the SLO' : v.misses.join(', ')}`);
        steps.push({
          clients: n,
          ok: v.ok,
          misses: v.misses,
          p99: Number(r.p99),
          freshPct: r.fresh?.freshPct,
          maxStalenessMs: r.fresh?.maxStalenessMs,
          serverLoopP99Ms: r.serverLoopP99Ms,
          serverCpu: r.serverCpu,
          updatesOut: r.updatesOut,
          loadCpu: r.loadCpu,
          fleetLoopP99Ms: r.fleetLoopP99Ms,
        });
        await sleep(3000);
        return v;
      };
      let brokenAt = null;
      /** Notes a point that did not meet the SLO: the lowest miss, or the lowest break. */
      const notMet = (n, v) => {
        if (v.broken) brokenAt = Math.min(brokenAt ?? n, n);
        else missed = Math.min(missed ?? n, n);
      };
      const first = await point(SLO_START[id]);
      if (first.ok) {
        // Up, doubling, until a point misses.
        met = SLO_START[id];
        for (let n = met * 2; n <= SLO_MAX; n *= 2) {
          const v = await point(n);
          if (!v.ok) {
            notMet(n, v);
            break;
          }
          met = n;
        }
      } else {
        // Down, halving, until a point meets it.
        notMet(SLO_START[id], first);
        for (let n = Math.floor(SLO_START[id] / 2); n >= 1; n = Math.floor(n / 2)) {
          const v = await point(n);
          if (v.ok) {
            met = n;
            break;
          }
          notMet(n, v);
        }
      }
      // One step halfway back into the gap (below a miss, or below a point the load side could
      // not hold).
      const ceiling = Math.min(missed ?? Infinity, brokenAt ?? Infinity);
      if (ceiling !== Infinity && met > 0 && ceiling - met >= 2) {
        const half = Math.round((met + ceiling) / 2);
        const v = await point(half);
        if (v.ok) met = half;
        else if (!v.broken) missed = half;
        else brokenAt = half;
      }
      if (missed === null && brokenAt !== null) {
        bound = `load side broke its guard at ${brokenAt}: a lower bound`;
      }
      if (missed === null && bound === '') bound = `--slo-max ${SLO_MAX} reached`;
      slo.push({ id, maxClientsAtSlo: met, firstMiss: missed, bound, steps });
    }
    const env =
      `node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0].model}), clients x ${PER_CLIENT}` +
      ` instruments, feed ${ranked.length} instruments at ${RATE} ticks/s, conflation ${INTERVAL} ms` +
      ` (B1: none), ${SECONDS} s after ${WARMUP} s warm-up per point, SLO: p99 <= ${SLO_P99_MS} ms,` +
      ` freshness >= ${SLO_FRESH_PCT} % after ${INTERVAL + 100} ms, server loop p99 <= ${SLO_LOOP_MS} ms,` +
      ` client fleet ${NATIVE_FLEET ? 'in C' : 'in Node'}, autogroup nice ${AUTOGROUP_NICE || 'unchanged'}`;
    console.log(env);
    for (const x of slo) {
      console.log(
        `${x.id}: ${x.maxClientsAtSlo} clients at SLO` +
          (x.firstMiss !== null ? ` (missed at ${x.firstMiss})` : '') +
          (x.bound ? ` (${x.bound})` : ''),
      );
      console.table(x.steps.map(({ misses, ...rest }) => ({ ...rest, misses: misses.join('; ') })));
    }
    const b3 = slo.find((x) => x.id === 'B3');
    const b0 = slo.find((x) => x.id === 'B0');
    if (b3 && b0 && b0.maxClientsAtSlo > 0) {
      console.log(
        `B3 / B0 clients at SLO: ${(b3.maxClientsAtSlo / b0.maxClientsAtSlo).toFixed(2)}`,
      );
    }
    if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify({ env, slo, results }, null, 2));
    report('tick-fanout-slo', {
      figures: { env, slo },
      checks: slo.map((x) => check(`${x.id} clients at SLO`, x.maxClientsAtSlo, '>=', 0)),
    });
  }

  const servers = [
    ['B3', runApp],
    ['B3R', runAppRedis],
    ['B0', () => runChild('bare ws (B0)', 'tick-fanout-reference.js')],
    ['B1', () => runChild('graphql-ws (B1)', 'tick-fanout-graphql-ws.js')],
  ];
  if (SLO) {
    await sloSearch();
    await sim.call('exit');
    await sim.terminate();
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  }
  for (let i = 0; i < servers.length; i++) {
    const [id, run] = servers[(i + ROTATE) % servers.length];
    if (!ONLY.includes(id)) continue;
    await run();
    await sleep(3000);
  }
  await sim.call('exit');
  await sim.terminate();
  fs.rmSync(dir, { recursive: true, force: true });

  const env =
    `node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0].model}), ${CLIENTS} clients x ${PER_CLIENT}` +
    ` instruments (${distinct} distinct), feed ${ranked.length} of ${feed.universeSize} instruments` +
    ` ticking Zipf 1.1 by activity (cap ${feed.cap}/s, ${feed.capped} at the cap, top 500 carry` +
    ` ${(feed.top500Share * 100).toFixed(0)} %), target ${RATE} ticks/s, conflation ${INTERVAL} ms (B1: none),` +
    ` order rotated by ${ROTATE}, ${SECONDS} s after ${WARMUP} s warm-up, taskset ${hasTaskset},` +
    ` autogroup nice ${AUTOGROUP_NICE || 'unchanged'},` +
    ` client fleet ${NATIVE_FLEET ? 'in C' : 'in Node'}`;
  console.log(env);
  console.table(
    results.map((r) => {
      const { load, ...rest } = r;
      return rest;
    }),
  );
  for (const r of results) console.log(`${r.label}: load average ${r.load}, guard ${r.guard}`);
  const row = (id) => results.find((r) => r.label.includes(`(${id})`));
  const b3 = row('B3');
  for (const id of ['B0', 'B1']) {
    const x = row(id);
    if (!b3 || !x) continue;
    console.log(
      `B3 / ${id}: updates/s out ${(b3.updatesOut / x.updatesOut).toFixed(2)}, ` +
        `updates per server CPU-second ${(b3.updatesPerCpuSec / x.updatesPerCpuSec).toFixed(2)}`,
    );
  }
  if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify({ env, results }, null, 2));
  const b0 = row('B0');
  const b1 = row('B1');
  const ratio = (a, b, key) => (a && b ? a[key] / b[key] : NaN);
  // Latency is judged only when the load side kept up in both rows (the method's guard).
  const judged = b3?.guard === 'ok' && b0?.guard === 'ok';
  report('tick-fanout', {
    figures: { env, results },
    checks: [
      check(
        'app / bare ws, updates per server CPU-s',
        ratio(b3, b0, 'updatesPerCpuSec'),
        '>=',
        0.67,
      ),
      check('app / graphql-ws, updates/s out', ratio(b3, b1, 'updatesOut'), '>=', 3),
      check(
        'app p99 over bare ws p99 (same run)',
        b3 && b0 ? Number(b3.p99) - Number(b0.p99) : NaN,
        '<=',
        25,
        'ms',
        judged ? undefined : null,
      ),
    ],
  });
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
