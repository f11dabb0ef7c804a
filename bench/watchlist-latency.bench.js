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

const os = require('node:os');
const WebSocket = require('ws');
const {
  useBuild,
  arg,
  percentile: pct,
  gql,
  bootApp,
  loginAdmin,
  report,
  check,
} = require('./harness');

const build = useBuild('WL_DIST');
const { InstrumentsService } = build.load('src/instruments/instruments.service.js');

const ADDS = arg('adds', process.env.BENCH_QUICK || process.argv.includes('--quick') ? 30 : 100);

const ADD = `mutation A($w: ID!, $i: InstrumentInput!) {
  addWatchlistItem(watchlistId: $w, instrument: $i) { id }
}`;
const TICKS = `subscription T($i: [InstrumentInput!]!) { ticks(instruments: $i) { securityId ltp } }`;

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

async function main() {
  const booted = await bootApp(build, {
    tmpPrefix: 'wl-bench-',
    configure: (config) => ({ ...config, marketData: { tierB: { enabled: false } } }),
  });
  const { app, graphqlUrl } = booted;
  try {
    const instruments = app.get(InstrumentsService);
    await instruments.ready();
    const { token } = await loginAdmin(booted);
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
    report('watchlist-latency', {
      figures: {
        adds: samples.length,
        ms: { p50: pct(samples, 50), p99: pct(samples, 99), max: samples[samples.length - 1] },
      },
      checks: [check('watchlist add -> first tick p99', pct(samples, 99), '<=', 250, 'ms')],
    });
  } finally {
    await booted.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
