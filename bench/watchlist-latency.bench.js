#!/usr/bin/env node
/*
 * Watchlist add to first tick (docs/BENCHMARKS.md, "Watchlist add to first tick"): the app
 * in-process with its embedded simulator (Tier B off, so every instrument starts unsubscribed),
 * one user socket speaking graphql-ws over a real WebSocket. Per instrument: addWatchlistItem
 * over HTTP; when it returns, a `ticks` subscription for that instrument opens on the socket;
 * the time is from the mutation's response to the first `ticks` message carrying a price for
 * it. The ticks subscription itself cannot put the instrument on the feed first: the watchlist
 * reference already did. p50/p99/max over the adds (default 100).
 *
 * Build first into dist (`npx nest build`), or into a temporary folder:
 *   npx tsc -p tsconfig.build.json --outDir /tmp/wl-dist
 *   WL_DIST=/tmp/wl-dist taskset -c 1 node bench/watchlist-latency.bench.js [--adds 100]
 */
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const crypto = require('node:crypto');
const Module = require('node:module');
const WebSocket = require('ws');

const root = path.resolve(__dirname, '..');
const dist = path.resolve(process.env.WL_DIST || path.join(root, 'dist'));
// Plain tsc leaves path aliases in the output; map them the way nest build would.
const aliases = [
  ['@app/dhan-simulator', path.join(dist, 'libs/dhan-simulator/src')],
  ['@app/dhan', path.join(dist, 'libs/dhan/src')],
];
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  for (const [alias, target] of aliases) {
    if (request === alias || request.startsWith(`${alias}/`)) {
      return resolveFilename.call(this, target + request.slice(alias.length), ...rest);
    }
  }
  try {
    return resolveFilename.call(this, request, ...rest);
  } catch (err) {
    if (request.startsWith('.') || path.isAbsolute(request)) throw err;
    return require.resolve(request, { paths: [root] });
  }
};

const pino = require('pino');
const { createApp, connectionInfo } = require(path.join(dist, 'src/bootstrap.js'));
const { validateConfig } = require(path.join(dist, 'src/config/validate-config.js'));
const { resolveSecrets } = require(path.join(dist, 'src/config/resolve-secrets.js'));
const { InstrumentsService } = require(path.join(dist, 'src/instruments/instruments.service.js'));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const ADDS = arg('adds', process.env.BENCH_QUICK || process.argv.includes('--quick') ? 30 : 100);

const ADD = `mutation A($w: ID!, $i: InstrumentInput!) {
  addWatchlistItem(watchlistId: $w, instrument: $i) { id }
}`;
const TICKS = `subscription T($i: [InstrumentInput!]!) { ticks(instruments: $i) { securityId ltp } }`;

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

/** Minimal graphql-ws (graphql-transport-ws) client: enough for one subscription at a time. */
function openSocket(url, token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws');
    const handlers = new Map();
    ws.on('error', reject);
    ws.on('open', () =>
      ws.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
      ),
    );
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      if (m.type === 'connection_ack') resolve({ ws, handlers });
      else if (m.type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
      else if (m.id && handlers.has(m.id)) handlers.get(m.id)(m);
    });
  });
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-bench-'));
  const password = crypto.randomBytes(12).toString('hex');
  const config = resolveSecrets(
    validateConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: `sqlite:${path.join(dir, 'bench.sqlite')}`,
      ADMIN_USERNAME: 'bench-admin',
      ADMIN_PASSWORD: password,
      // Latency is measured here, not the per-user request brake.
      GRAPHQL_RATE_LIMIT: '1000000',
      HOST: '127.0.0.1',
      PORT: '0',
    }),
  );
  config.marketData = { tierB: { enabled: false } };
  const app = await createApp(config, { logger: pino({ level: 'silent' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const { graphqlUrl } = connectionInfo(app);
    const instruments = app.get(InstrumentsService);
    await instruments.ready();
    const token = (
      await gql(
        graphqlUrl,
        'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }',
        { u: 'bench-admin', p: password },
      )
    ).login.accessToken;
    const list = (
      await gql(graphqlUrl, 'mutation { createWatchlist(name: "bench") { id } }', {}, token)
    ).createWatchlist.id;
    const pool = instruments
      .all()
      .filter((i) => i.segment === 'NSE_EQ')
      .slice(0, ADDS)
      .map((i) => ({ segment: i.segment, securityId: i.securityId }));
    if (pool.length < ADDS) throw new Error(`only ${pool.length} NSE_EQ instruments`);
    const { ws, handlers } = await openSocket(graphqlUrl.replace(/^http/, 'ws'), token);
    const samples = [];
    let n = 0;
    for (const inst of pool) {
      const id = String(++n);
      await gql(graphqlUrl, ADD, { w: list, i: inst }, token);
      const t0 = process.hrtime.bigint();
      await new Promise((resolve, reject) => {
        handlers.set(id, (m) => {
          if (m.type === 'error') reject(new Error(JSON.stringify(m.payload)));
          if (m.type !== 'next') return;
          const ticks = m.payload.data.ticks;
          if (!ticks.some((t) => t.securityId === inst.securityId && t.ltp !== null)) return;
          samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
          handlers.delete(id);
          ws.send(JSON.stringify({ id, type: 'complete' }));
          resolve();
        });
        ws.send(
          JSON.stringify({
            id,
            type: 'subscribe',
            payload: { query: TICKS, variables: { i: [inst] } },
          }),
        );
      });
    }
    ws.close();
    samples.sort((a, b) => a - b);
    const f = (x) => x.toFixed(1);
    process.stdout.write(
      `watchlist add -> first tick, ${samples.length} adds: p50 ${f(pct(samples, 50))} ms, ` +
        `p99 ${f(pct(samples, 99))} ms, max ${f(samples[samples.length - 1])} ms, ` +
        `min ${f(samples[0])} ms\n`,
    );
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
