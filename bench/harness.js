'use strict';
// What the benchmark scripts share: the build they measure (dist/, or a folder named by an
// environment variable) with the @app aliases mapped as `nest build` maps them, command-line
// numbers, percentiles, a GraphQL POST, and the app booted on a temporary SQLite file.
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const crypto = require('node:crypto');
const Module = require('node:module');

const root = path.resolve(__dirname, '..');

/**
 * The node flags production runs the app with (`npm run start:prod`, e.g. the young
 * generation's size), so the app is measured as it is deployed.
 */
const APP_NODE_ARGS = (
  require('../package.json').scripts['start:prod'].match(/^node ((?:--\S+ )*)/)?.[1] ?? ''
)
  .split(' ')
  .filter(Boolean);

/**
 * For a bench that runs the app in its own process: when node was started without production's
 * flags, runs this script again with them (same arguments, output and exit code) and exits;
 * `--node-defaults` measures with node's defaults instead.
 */
function runAsDeployed() {
  const missing = APP_NODE_ARGS.filter((flag) => !process.execArgv.includes(flag));
  if (missing.length === 0 || process.argv.includes('--node-defaults')) return;
  const { spawnSync } = require('node:child_process');
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, ...missing, ...process.argv.slice(1)],
    { stdio: 'inherit' },
  );
  process.exit(child.status ?? 1);
}
let mappedDist;

/**
 * The build to measure: `process.env[distVariable]` when set (a build outside the tree, e.g.
 * `npx tsc -p tsconfig.build.json --outDir /tmp/x`), else dist/. Plain tsc leaves the path
 * aliases in the output, so they are mapped here; a build outside the tree finds its packages
 * in this repository.
 */
function useBuild(distVariable, dist = undefined) {
  const chosen = path.resolve(
    dist ?? ((distVariable && process.env[distVariable]) || path.join(root, 'dist')),
  );
  if (mappedDist === undefined) {
    mappedDist = chosen;
    // nest build copies the assets nest-cli.json names (the holiday files); plain tsc does not.
    const holidays = path.join(chosen, 'src/calendar/holidays');
    if (!fs.existsSync(holidays)) {
      fs.cpSync(path.join(root, 'src/calendar/holidays'), holidays, {
        recursive: true,
        filter: (from) => !path.extname(from) || from.endsWith('.json'),
      });
    }
    const aliases = [
      ['@app/dhan-simulator', path.join(chosen, 'libs/dhan-simulator/src')],
      ['@app/dhan', path.join(chosen, 'libs/dhan/src')],
    ];
    const resolveFilename = Module._resolveFilename;
    // require.resolve below comes back through this hook: one retry from the root, not a loop
    // (an optional package that is not installed recursed until the stack overflowed).
    let retrying = false;
    Module._resolveFilename = function (request, ...rest) {
      for (const [alias, target] of aliases) {
        if (request === alias || request.startsWith(`${alias}/`)) {
          return resolveFilename.call(this, target + request.slice(alias.length), ...rest);
        }
      }
      try {
        return resolveFilename.call(this, request, ...rest);
      } catch (err) {
        if (retrying || request.startsWith('.') || path.isAbsolute(request)) throw err;
        retrying = true;
        try {
          return require.resolve(request, { paths: [root] });
        } finally {
          retrying = false;
        }
      }
    };
  } else if (mappedDist !== chosen) {
    throw new Error(`one build per process: ${mappedDist} is mapped already`);
  }
  return { root, dist: chosen, load: (file) => require(path.join(chosen, file)) };
}

/** `--name value` from the command line, as a number; `fallback` when absent. */
function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** `npm run bench -- --quick` (or BENCH_QUICK): each benchmark's smallest point. */
const quick = Boolean(process.env.BENCH_QUICK) || process.argv.includes('--quick');

/** The p-th percentile (0-100) of an ascending array: nearest rank, floor. */
function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * A seeded pseudo-random source (mulberry32) returning numbers in [0, 1): every run of a
 * benchmark sees the same workload, so runs of two builds compare.
 */
function seededRandom(seed) {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Ranks 1..universe drawn with Zipf weights 1/rank^exponent (a few instruments hot, a long
 * tail), by binary search of the cumulative weights, from the source `rand`.
 */
function zipfSampler(universe, exponent, rand) {
  const cdf = new Float64Array(universe);
  let sum = 0;
  for (let i = 0; i < universe; i++) cdf[i] = sum += 1 / Math.pow(i + 1, exponent);
  for (let i = 0; i < universe; i++) cdf[i] /= sum;
  return () => {
    const u = rand();
    let lo = 0;
    let hi = universe - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

async function gql(url, query, variables, token) {
  const r = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  }).then((res) => res.json());
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data;
}

/**
 * A GraphQL POST over one kept-alive HTTP connection (node:http): lighter than `fetch` on the
 * client side, for benchmarks whose client shares the process with the server.
 */
function keepAliveGql(url) {
  const http = require('node:http');
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return (query, variables, token) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ query, variables });
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            try {
              const r = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              if (r.errors) reject(new Error(JSON.stringify(r.errors)));
              else resolve(r.data);
            } catch (e) {
              reject(e);
            }
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

/**
 * The whole app with its embedded simulator on a fresh SQLite file in a temporary folder,
 * listening on 127.0.0.1 at a free port, logging nothing, the per-user request rate lifted;
 * `env` adds environment settings and `configure` adjusts the resolved
 * configuration (market data, simulator options) before it boots. Returns the app, its URLs
 * and the admin's credentials.
 */
async function bootApp(
  build,
  { tmpPrefix = 'bench-', env = {}, configure = (config) => config } = {},
) {
  const pino = require('pino');
  const { createApp, connectionInfo } = build.load('src/bootstrap.js');
  const { validateConfig } = build.load('src/config/validate-config.js');
  const { resolveSecrets } = build.load('src/config/resolve-secrets.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  const admin = { username: 'bench-admin', password: crypto.randomBytes(12).toString('hex') };
  // BENCH_DATABASE_URL=postgres://...: PostgreSQL in a scratch schema (dropped at close).
  const pgUrl = process.env.BENCH_DATABASE_URL;
  const schema = pgUrl ? `bench_${crypto.randomBytes(4).toString('hex')}` : undefined;
  const pgQuery = async (sql) => {
    const { Client } = require('pg');
    const client = new Client({ connectionString: pgUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  if (schema) await pgQuery(`CREATE SCHEMA "${schema}"`);
  const database = schema
    ? {
        DATABASE_URL: `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}`,
        JWT_SECRET: crypto.randomBytes(32).toString('hex'),
      }
    : { DATABASE_URL: `sqlite:${path.join(dir, 'bench.sqlite')}` };
  const config = configure(
    resolveSecrets(
      validateConfig({
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        ...database,
        ADMIN_USERNAME: admin.username,
        ADMIN_PASSWORD: admin.password,
        HOST: '127.0.0.1',
        PORT: '0',
        // Latency is measured, not the per-user request brake.
        GRAPHQL_RATE_LIMIT: '1000000',
        ...env,
      }),
    ),
  );
  const app = await createApp(config, { logger: pino({ level: 'silent' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    admin,
    ...connectionInfo(app),
    engine: schema ? 'PostgreSQL' : 'SQLite',
    async close() {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
      if (schema) await pgQuery(`DROP SCHEMA "${schema}" CASCADE`);
    },
  };
}

/** The admin's access token (and user id) through the login mutation. */
async function loginAdmin(booted) {
  const data = await gql(
    booted.graphqlUrl,
    'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken user { id } } }',
    { u: booted.admin.username, p: booted.admin.password },
  );
  return { token: data.login.accessToken, userId: data.login.user.id };
}

/**
 * What a benchmark found, for `npm run bench`'s summary and its JSON file: `figures` (any
 * JSON: the full table) and `checks`, each a target with the measured value and whether it is
 * met (`met: null` when the run cannot judge it, e.g. the load side broke its guard). Written
 * as one JSON line to the file named by BENCH_REPORT (set by bench/run.js); a benchmark run on
 * its own prints its figures and writes nothing.
 */
function report(bench, { figures = {}, checks = [] } = {}) {
  const file = process.env.BENCH_REPORT;
  if (!file) return;
  const line = {
    bench,
    at: new Date().toISOString(),
    node: process.version,
    cpu: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}`,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    checks,
    figures,
  };
  fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/** One check of `report`: `value` against `target` (`<=` or `>=`), in `unit`. */
function check(what, value, comparator, target, unit = '', met = undefined) {
  const known = typeof value === 'number' && Number.isFinite(value);
  return {
    what,
    value: known ? Number(value.toPrecision(4)) : null,
    unit,
    target: `${comparator} ${target}${unit ? ` ${unit}` : ''}`,
    met:
      met !== undefined
        ? met
        : !known
          ? null
          : comparator === '<='
            ? value <= target
            : value >= target,
  };
}

/**
 * `--phases`: wraps async methods of the build's classes to time each call, as
 * `[file, class, method]` triples; returns the timings by `Class.method` and a printer.
 */
function phaseTimer(build, targets) {
  const phases = new Map();
  for (const [file, cls, method] of targets) {
    const C = build.load(file)[cls];
    const orig = C.prototype[method];
    const name = `${cls}.${method}`;
    C.prototype[method] = async function (...a) {
      const t = process.hrtime.bigint();
      try {
        return await orig.apply(this, a);
      } finally {
        const list = phases.get(name) ?? [];
        list.push(Number(process.hrtime.bigint() - t) / 1e6);
        phases.set(name, list);
      }
    };
  }
  const print = () => {
    for (const [name, list] of phases) {
      list.sort((a, b) => a - b);
      process.stdout.write(
        `  ${name.padEnd(38)} ${String(list.length).padStart(5)} calls  ` +
          `p50 ${percentile(list, 50).toFixed(2)} ms  p99 ${percentile(list, 99).toFixed(2)} ms\n`,
      );
    }
  };
  return { phases, print };
}

/**
 * `--profile FILE`: a CPU profile (node:inspector) from now until the returned function is
 * called; written to FILE, its heaviest functions by self time printed.
 */
async function startCpuProfile(file) {
  const inspector = require('node:inspector');
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) =>
      session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
  return async () => {
    const { profile } = await post('Profiler.stop');
    session.disconnect();
    fs.writeFileSync(file, JSON.stringify(profile));
    printProfile(profile);
  };
}

/** The heaviest functions by self time, idle and the profiler's own frames left out. */
function printProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id).callFrame;
    if (frame.functionName === '(idle)') return;
    const dt = profile.timeDeltas[i] ?? 0;
    busy += dt;
    const where = frame.url.replace(/.*node_modules\//, '').replace(/.*\/(src|libs)\//, '$1/');
    const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  process.stdout.write(`profile: ${(busy / 1000).toFixed(0)} ms busy; top self time:\n`);
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    process.stdout.write(`  ${(us / 1000).toFixed(1).padStart(8)} ms  ${key}\n`);
  }
}

/**
 * `--sim-process` (order benches): the simulator in a child process (bench/orders-sim-child.js),
 * the app in live mode against it, so the app's process does only the app's work (its CPU time
 * is then the app's alone); undefined without the flag (the app's embedded simulator). Gives the
 * app's environment, the order request's delay, LIMIT prices 5 % below the market, and stop.
 * `always`: whatever the flags say.
 */
async function simulatorProcess(build, { always = false } = {}) {
  if (!always && !process.argv.includes('--sim-process')) return undefined;
  const { fork } = require('node:child_process');
  const child = fork(require('node:path').join(__dirname, 'orders-sim-child.js'), [build.dist]);
  process.once('exit', () => child.kill());
  // `--sim-core N`: the simulator's process on core N (the bench itself is usually pinned to
  // another with taskset, which a child inherits).
  const simCore = process.argv.indexOf('--sim-core');
  if (simCore > 0) {
    const core = process.argv[simCore + 1];
    require('node:child_process').spawnSync('taskset', ['-a', '-p', '-c', core, String(child.pid)]);
  }
  let next = 0;
  const waiting = new Map();
  const ready = new Promise((resolve, reject) => {
    child.on('message', (m) => {
      if (m.ready) return resolve(m);
      waiting.get(m.reply)?.(m);
      waiting.delete(m.reply);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const call = (cmd, extra = {}) =>
    new Promise((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      child.send({ id, cmd, ...extra });
    });
  const { urls, credentials } = await ready;
  return {
    env: {
      EXECUTION_MODE: 'live',
      JWT_SECRET: require('node:crypto').randomBytes(32).toString('hex'),
      DHAN_CLIENT_ID: credentials.clientId,
      DHAN_ACCESS_TOKEN: credentials.accessToken,
      DHAN_FEED_URL: urls.feedUrl,
      DHAN_API_URL: urls.apiUrl,
      DHAN_ORDER_UPDATE_URL: urls.orderUpdateUrl,
      DHAN_INSTRUMENTS_URL: urls.instrumentsUrl,
    },
    delay: (ms) => call('delay', { ms }),
    prices: async (list) =>
      (
        await call('prices', {
          instruments: list.map((i) => ({
            segment: i.segment,
            securityId: i.securityId,
            tickSize: i.tickSize,
          })),
        })
      ).prices,
    stop: () => call('stop'),
  };
}

/**
 * A process's name, CPU time (user + system, in /proc's clock ticks, USER_HZ: 100 on Linux) and
 * start time, from Linux's /proc; undefined when it has exited (or there is no /proc).
 */
function procStat(pid) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(')');
  // After the name: state is field 0; utime 11, stime 12, starttime 19.
  const fields = stat.slice(close + 2).split(' ');
  return {
    name: stat.slice(stat.indexOf('(') + 1, close),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    startTime: fields[19],
  };
}

/** A running process's CPU time in clock ticks (procStat); throws when it has exited. */
function cpuTicks(pid) {
  const stat = procStat(pid);
  if (stat === undefined) throw new Error(`no process ${pid} in /proc`);
  return stat.cpuTicks;
}

/**
 * CPU time (user + system, seconds) of this machine's processes named `name` (e.g. `postgres`)
 * from a start mark: `const since = processCpu('postgres'); ...; since()` -> seconds, or
 * undefined where /proc cannot tell (not Linux, or no such process). Processes that start after
 * the mark count from zero; one that exits between the marks is not counted (the order benches'
 * pooled connections live through the run). Linux's /proc only; the database on this machine.
 */
function processCpu(name) {
  const ticks = 100; // USER_HZ
  const read = () => {
    const times = new Map();
    let pids;
    try {
      pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    } catch {
      return undefined;
    }
    for (const pid of pids) {
      const stat = procStat(pid);
      if (stat?.name.startsWith(name)) times.set(`${pid}:${stat.startTime}`, stat.cpuTicks);
    }
    return times.size === 0 ? undefined : times;
  };
  const start = read();
  return () => {
    const end = read();
    if (start === undefined || end === undefined) return undefined;
    let sum = 0;
    for (const [key, t] of end) sum += t - (start.get(key) ?? 0);
    return sum / ticks;
  };
}

module.exports = {
  processCpu,
  cpuTicks,
  root,
  APP_NODE_ARGS,
  runAsDeployed,
  simulatorProcess,
  startCpuProfile,
  phaseTimer,
  useBuild,
  arg,
  quick,
  percentile,
  seededRandom,
  zipfSampler,
  gql,
  keepAliveGql,
  bootApp,
  loginAdmin,
  report,
  check,
};
