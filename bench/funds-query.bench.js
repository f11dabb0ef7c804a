#!/usr/bin/env node
/*
 * The dealer's `funds` query (docs/BENCHMARKS.md, "Funds query"): the app in-process with its
 * embedded simulator; a dealer with a resting order (a reservation) and a traded one (a
 * position's margin) asks `funds` over HTTP, one query at a time, and FundsService.funds is
 * called in process. Without REDIS_URL the query reads the instance's own ledger; with
 * `--redis URL` (one instance on that Redis, the leader) it answers from a ledger rebuilt from
 * the database whenever a change was announced since the last rebuild: the run measures it
 * with no change between queries, and with another instance's announcement (as the relay
 * delivers it, not timed) before each query.
 *
 * Build first into dist (`npx nest build`), or into a temporary folder:
 *   npx tsc -p tsconfig.build.json --outDir /tmp/funds-dist
 *   FUNDS_DIST=/tmp/funds-dist taskset -c 1 node bench/funds-query.bench.js [--queries 3000] [--redis redis://127.0.0.1:6379]
 */
'use strict';

const os = require('node:os');
const {
  useBuild,
  arg,
  quick,
  percentile: pct,
  gql,
  bootApp,
  loginAdmin,
  report,
  check,
} = require('./harness');

const build = useBuild('FUNDS_DIST');
const { InstrumentsService } = build.load('src/instruments/instruments.service.js');
const { ExecutionService } = build.load('src/execution/execution.service.js');
const { FundsService } = build.load('src/risk/funds.service.js');
const { DHAN_ENDPOINTS } = build.load('src/dhan/dhan-endpoints.js');
const { EventEmitter2 } = require('@nestjs/event-emitter');
// The constant, not the module: a build from before the announcement has no such file.
const FUNDS_CHANGED = 'funds.changed';

const QUERIES = arg('queries', quick ? 500 : 3_000);
const CALLS = quick ? 20_000 : 200_000;
const redisIndex = process.argv.indexOf('--redis');
const REDIS = redisIndex >= 0 ? process.argv[redisIndex + 1] : undefined;

const FUNDS = `query { funds { available used reserved balance realizedPnl unrealizedPnl charges } }`;
const PLACE = `mutation P($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function timedQueries(graphqlUrl, token, before) {
  const ms = [];
  for (let n = -Math.min(300, QUERIES); n < QUERIES; n++) {
    if (before) await before();
    const t0 = process.hrtime.bigint();
    await gql(graphqlUrl, FUNDS, {}, token);
    if (n >= 0) ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { p50: pct(ms, 50), p99: pct(ms, 99) };
}

async function main() {
  const booted = await bootApp(build, {
    tmpPrefix: 'funds-bench-',
    env: REDIS
      ? { REDIS_URL: REDIS, JWT_SECRET: require('node:crypto').randomBytes(32).toString('hex') }
      : {},
    configure: (config) => ({ ...config, marketData: { tierB: { enabled: false } } }),
  });
  const { app, graphqlUrl } = booted;
  try {
    const sim = app.get(DHAN_ENDPOINTS).simulator;
    await app.get(ExecutionService).whenReady();
    const instruments = app.get(InstrumentsService);
    await instruments.ready();
    const { token, userId } = await loginAdmin(booted);
    const equity = instruments
      .all()
      .find((i) => i.segment === 'NSE_EQ' && i.instrumentType === 'EQUITY');
    const priceAt = (fraction) => {
      const tick = Math.round(equity.tickSize * 10_000);
      const ltp = sim.market.mark(sim.universe.get(equity.segment, equity.securityId)).ltp;
      return (Math.round((ltp * fraction * 10_000) / tick) * tick) / 10_000;
    };
    for (const [key, fraction] of [
      ['rest', 0.95],
      ['fill', 1.01],
    ]) {
      await gql(
        graphqlUrl,
        PLACE,
        {
          input: {
            clientOrderId: `funds-bench-${key}`,
            instrument: { segment: equity.segment, securityId: equity.securityId },
            side: 'BUY',
            quantity: 5,
            orderType: 'LIMIT',
            productType: 'INTRADAY',
            validity: 'DAY',
            price: priceAt(fraction),
          },
        },
        token,
      );
    }
    const funds = app.get(FundsService);
    for (let i = 0; i < 100 && (await funds.funds(userId)).usedPaise === 0; i++) await sleep(50);

    const unchanged = await timedQueries(graphqlUrl, token);
    for (let i = 0; i < CALLS / 10; i++) await funds.funds(userId);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) await funds.funds(userId);
    const nsPerCall = Number(process.hrtime.bigint() - t0) / CALLS;
    let changed;
    if (REDIS) {
      // What the relay does when another instance announces a change of this dealer's funds.
      const events = app.get(EventEmitter2);
      changed = await timedQueries(graphqlUrl, token, () =>
        events.emit(FUNDS_CHANGED, { userId, remote: true }),
      );
    }

    console.log(`funds query: ${QUERIES} queries over HTTP, ${CALLS} calls in process`);
    console.log(
      `node ${process.version}, ${os.cpus()[0].model}, ${os.cpus().length} cores, load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(`REDIS_URL: ${REDIS ? 'set' : 'not set'}`);
    console.log(
      `HTTP, no change between queries: p50 ${unchanged.p50.toFixed(3)} ms  p99 ${unchanged.p99.toFixed(3)} ms`,
    );
    console.log(`FundsService.funds in process: ${Math.round(nsPerCall)} ns per call`);
    if (changed) {
      console.log(
        `HTTP, a change announced before each query (rebuilt): p50 ${changed.p50.toFixed(3)} ms  p99 ${changed.p99.toFixed(3)} ms`,
      );
    }
    report('funds-query', {
      figures: { redis: Boolean(REDIS), queries: QUERIES, unchanged, nsPerCall, changed },
      checks: [check('funds query p99, no change', unchanged.p99, '<=', 50, 'ms')],
    });
  } finally {
    await booted.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
