#!/usr/bin/env node
/*
 * Option chain fan-out end to end (docs/BENCHMARKS.md, "optionChainUpdates at 1,000 clients"):
 * the built server (`dist/src/main.js`, embedded simulator, Tier B on) in a child process pinned
 * to core 0; N graphql-ws clients over real WebSockets in this process (core 1 under
 * `npm run bench`), each holding one `optionChainUpdates(underlying: NIFTY, strikes: 10)`
 * subscription (21 strikes) selecting every field, analytics included. Measured over a window
 * after a warm-up, from the server's own /metrics and /proc:
 *   - the chain refresh's analytics time (IV, greeks, forward, chain figures) and its fan-out
 *     time (rendering and writing the frames), and the server process' whole CPU;
 *   - frames and bytes the clients received (counted without parsing).
 * The analytics' share of the fan-out is analytics / fan-out time; against the whole process
 * it is analytics / (process CPU - analytics).
 *
 *   npx nest build && taskset -c 1 node bench/option-chain-fanout.bench.js [--clients 1000] [--seconds 30] [--warmup 10]
 */
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn, spawnSync } = require('node:child_process');
const WebSocket = require('ws');
const { root, arg, quick, gql, report, check, cpuTicks } = require('./harness');

const CLIENTS = arg('clients', quick ? 200 : 1000);
const SECONDS = arg('seconds', quick ? 10 : 30);
const WARMUP = arg('warmup', quick ? 5 : 10);
const STRIKES = arg('strikes', 10);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || 100);

const ANALYTICS = 'status iv delta gamma theta vega rho';
const QUOTE =
  'segment securityId ltp lastTradeTime volume oi open high low close prevClose change changePercent stale';
const CONTRACT = `instrument { securityId symbol } quote { ${QUOTE} } analytics { ${ANALYTICS} } priceSource oiChange`;
const SUBSCRIPTION = `subscription C($u: String!, $n: Int) {
  optionChainUpdates(underlying: $u, strikes: $n) {
    snapshot underlying expiry expiresAt yearsToExpiry spot forward forwardSource atmStrike atmIv
    pcrOi pcrVolume maxPain ivSkew totalCallOi totalPutOi
    strikes { strike call { ${CONTRACT} } put { ${CONTRACT} } }
  }
}`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`${msg}\n`);

function startServer(env) {
  const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  const script = path.join(root, 'dist/src/main.js');
  const child = spawn(
    hasTaskset ? 'taskset' : process.execPath,
    hasTaskset ? ['-c', '0', process.execPath, script] : [script],
    { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  const banner = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk.toString('utf8');
      const m = /GraphQL \(user\): +(\S+)/.exec(out);
      if (m && out.includes('WebSocket:')) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before its banner`)));
  });
  return { child, banner };
}

/** user + system CPU seconds of a process, from /proc. */
function cpuSeconds(pid) {
  return cpuTicks(pid) / CLK_TCK;
}

function sample(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

async function metrics(baseUrl, pid) {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return {
    cpu: cpuSeconds(pid),
    analysis: sample(text, 'option_analytics_seconds_total'),
    fanout: sample(text, 'option_chain_fanout_seconds_total'),
    strikes: sample(text, 'option_chain_strike_updates_total'),
    frames: sample(text, 'option_chain_frames_total'),
    bytes: sample(text, 'option_chain_bytes_total'),
    at: performance.now(),
  };
}

/** One graphql-ws client: counts the frames and bytes of its subscription, never parses them. */
function client(url, token, counters) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
    let acked = false;
    let first = true;
    ws.on('error', reject);
    ws.on('open', () =>
      ws.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
      ),
    );
    ws.on('message', (raw) => {
      if (!acked) {
        acked = true;
        ws.send(
          JSON.stringify({
            id: '1',
            type: 'subscribe',
            payload: { query: SUBSCRIPTION, variables: { u: 'NIFTY', n: STRIKES } },
          }),
        );
        return;
      }
      if (first) {
        first = false;
        const text = raw.toString();
        if (!text.includes('"type":"next"')) return reject(new Error(text.slice(0, 300)));
        resolve(ws);
      }
      counters.frames += 1;
      counters.bytes += raw.length;
    });
  });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chain-bench-'));
  const admin = { username: 'bench-admin', password: crypto.randomBytes(12).toString('hex') };
  const { child, banner } = startServer({
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: `sqlite:${path.join(dir, 'bench.sqlite')}`,
    ADMIN_USERNAME: admin.username,
    ADMIN_PASSWORD: admin.password,
    JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    GRAPHQL_RATE_LIMIT: '1000000',
    WS_SUBSCRIPTIONS_PER_USER: String(CLIENTS + 10),
    WS_SUBSCRIPTIONS_PER_USER_FIELD: String(CLIENTS + 10),
  });
  try {
    const graphqlUrl = await banner;
    const baseUrl = graphqlUrl.replace(/\/graphql$/, '');
    const wsUrl = graphqlUrl.replace(/^http/, 'ws');
    const token = (
      await gql(
        graphqlUrl,
        'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }',
        { u: admin.username, p: admin.password },
      )
    ).login.accessToken;
    // Tier B is centred once NIFTY's chain has prices: wait until the analytics run.
    for (let i = 0; ; i++) {
      const m = await metrics(baseUrl, child.pid);
      if (m.strikes > 0) break;
      if (i > 600) throw new Error('the chain analytics never ran');
      await sleep(200);
    }
    const counters = { frames: 0, bytes: 0 };
    const sockets = [];
    for (let i = 0; i < CLIENTS; i += 50) {
      const batch = Math.min(50, CLIENTS - i);
      sockets.push(
        ...(await Promise.all(Array.from({ length: batch }, () => client(wsUrl, token, counters)))),
      );
    }
    log(`${sockets.length} clients subscribed; warm-up ${WARMUP} s`);
    await sleep(WARMUP * 1000);
    const a = await metrics(baseUrl, child.pid);
    const c0 = { ...counters };
    const load0 = os.loadavg()[0];
    await sleep(SECONDS * 1000);
    const b = await metrics(baseUrl, child.pid);
    const received = { frames: counters.frames - c0.frames, bytes: counters.bytes - c0.bytes };
    const s = (b.at - a.at) / 1000;
    const analysis = b.analysis - a.analysis;
    const fanout = b.fanout - a.fanout;
    const cpu = b.cpu - a.cpu;
    const frames = b.frames - a.frames;
    const result = {
      clients: CLIENTS,
      strikesEachSide: STRIKES,
      seconds: Number(s.toFixed(1)),
      strikeUpdatesPerSecond: Math.round((b.strikes - a.strikes) / s),
      framesWrittenPerSecond: Math.round(frames / s),
      framesReceivedPerSecond: Math.round(received.frames / s),
      mbReceivedPerSecond: Number((received.bytes / s / 1e6).toFixed(1)),
      serverCpuPercent: Number(((cpu / s) * 100).toFixed(1)),
      analyticsPercentOfCore: Number(((analysis / s) * 100).toFixed(2)),
      fanoutPercentOfCore: Number(((fanout / s) * 100).toFixed(2)),
      analyticsOverFanout: Number((analysis / fanout).toFixed(3)),
      analyticsOverRestOfProcess: Number((analysis / (cpu - analysis)).toFixed(3)),
      analyticsMicrosPerFrame: Number(((analysis / frames) * 1e6).toFixed(2)),
      fanoutMicrosPerFrame: Number(((fanout / frames) * 1e6).toFixed(2)),
      serverCpuMicrosPerFrame: Number(((cpu / frames) * 1e6).toFixed(2)),
      loadAverage1m: Number(load0.toFixed(2)),
      node: process.version,
      cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}`,
    };
    console.log(JSON.stringify(result, null, 2));
    report('option-chain-fanout', {
      figures: result,
      checks: [
        check(
          `analytics over server CPU per frame, ${CLIENTS} clients`,
          (100 * analysis) / (cpu - analysis),
          '<=',
          10,
          '%',
        ),
      ],
    });
    for (const ws of sockets) ws.terminate();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
