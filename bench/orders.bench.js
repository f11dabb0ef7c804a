#!/usr/bin/env node
/*
 * Order placement (docs/BENCHMARKS.md, "Order placement"): the app in-process with its embedded
 * simulator; one user places LIMIT orders away from the market (they rest, no fills) with the
 * placeOrder mutation over HTTP. placeOrder returns once the broker acknowledged, so the
 * mutation's round trip is place-to-acknowledged. The time spent inside ExecutionPort.place
 * (ExecutionService -> DhanHQ REST client -> simulator, including the simulator's injected
 * delay) is "broker time"; the rest (HTTP, GraphQL, validation, idempotency, the NEW /
 * RISK_APPROVED / SENT / ACKNOWLEDGED transactions, RMS) is "our time". The simulator's REST
 * delay hook is set to 0, 20 and 100 ms in turn.
 *
 * Orders are paced at under 4/s so DhanHQ's limits (10 orders/s, 250/min, enforced by our REST
 * client) never queue a request; the simulator's own limits are off and the user's RMS rate and open-order
 * limits are raised for the run.
 *
 * Build first into dist (`npx nest build`), or into a temporary folder:
 *   npx tsc -p tsconfig.build.json --outDir /tmp/orders-dist
 *   ORDERS_DIST=/tmp/orders-dist taskset -c 1 node bench/orders.bench.js [--orders 100]
 * BENCH_DATABASE_URL=postgres://... runs it on PostgreSQL (a scratch schema, dropped after).
 * `--sim-process` runs the simulator in a child process (the app in live mode against it), so
 * the app's process does only the app's work, as with a broker elsewhere; `--sim-core N` pins
 * that process to core N.
 * `--profile FILE` writes a CPU profile (.cpuprofile) of the placements alone (boot excluded) and
 * prints its heaviest functions by self time; `--phases` prints the time per call of each step of
 * the path (resolver, OMS store, RMS, EMS, the REST client).
 */
'use strict';

const os = require('node:os');
const {
  runAsDeployed,
  useBuild,
  arg,
  quick,
  percentile: pct,
  phaseTimer,
  startCpuProfile,
  keepAliveGql,
  bootApp,
  loginAdmin,
  simulatorProcess,
  report,
  check,
} = require('./harness');

// The app runs in this process: with production's node flags, as deployed.
runAsDeployed();

const build = useBuild('ORDERS_DIST');
const { InstrumentsService } = build.load('src/instruments/instruments.service.js');
const { ExecutionService } = build.load('src/execution/execution.service.js');
const { RiskService } = build.load('src/risk/risk.service.js');
const { DHAN_ENDPOINTS } = build.load('src/dhan/dhan-endpoints.js');
const { MetricsService } = build.load('src/health/metrics.service.js');

const ORDERS = arg('orders', quick ? 30 : 100);
/** Placements back to back before the measured ones (see main). */
const WARMUP = arg('warmup', quick ? 200 : 500);
const delaysIndex = process.argv.indexOf('--delays');
/** Simulator delays to measure, `--delays 0,20,100` by default. */
const DELAYS =
  delaysIndex > 0 ? process.argv[delaysIndex + 1].split(',').map(Number) : [0, 20, 100];
/** Milliseconds between measured placements (`--pace`): one dealer's sporadic orders. */
const PACE_MS = arg('pace', 260);

const PLACE = `mutation P($input: PlaceOrderInput!) {
  placeOrder(input: $input) { id status brokerOrderId }
}`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const profileIndex = process.argv.indexOf('--profile');
const PROFILE = profileIndex > 0 ? process.argv[profileIndex + 1] : undefined;

async function main() {
  const external = await simulatorProcess(build);
  const booted = await bootApp(build, {
    tmpPrefix: 'orders-bench-',
    env: {
      ...external?.env,
      // The warm-up places back to back: DhanHQ's order limits (enforced by our REST client)
      // and the user's order rate are lifted, as the throughput bench does. The measured
      // placements are paced below them anyway, so they run the same code either way.
      ORDER_RATE_PER_SECOND: '1000',
      DHAN_ORDER_LIMITS: '10000000/10000000/10000000/10000000',
    },
    configure: (config) => ({
      ...config,
      marketData: { tierB: { enabled: false } },
      ...(external
        ? {}
        : { dhan: { ...config.dhan, simulatorOptions: { rest: { rateLimits: false } } } }),
    }),
  });
  const { app, graphqlUrl } = booted;
  try {
    const embedded = app.get(DHAN_ENDPOINTS).simulator;
    const sim = external ?? {
      delay: async (ms) => {
        embedded.rest.clearFaults();
        if (ms > 0) embedded.rest.delay({ pattern: /^POST \/v2\/orders$/, ms });
      },
      prices: async (list) =>
        list.map((i) => {
          const tick = Math.round(i.tickSize * 10_000);
          const ltp = embedded.market.mark(embedded.universe.get(i.segment, i.securityId)).ltp;
          return (Math.round((ltp * 0.95 * 10_000) / tick) * tick) / 10_000;
        }),
      stop: async () => undefined,
    };
    const execution = app.get(ExecutionService);
    await execution.whenReady();
    const instruments = app.get(InstrumentsService);
    await instruments.ready();
    const { token, userId } = await loginAdmin(booted);
    // One kept-alive connection, as a terminal holds one (lighter than fetch in this process).
    const post = keepAliveGql(graphqlUrl);
    await app.get(RiskService).setRiskLimits(userId, {
      maxOrdersPerWindow: 1_000_000,
      maxOpenOrders: 1_000_000,
    });

    const phases = process.argv.includes('--phases')
      ? phaseTimer(build, [
          ['src/orders/orders.resolver.js', 'OrdersResolver', 'placeOrder'],
          ['src/orders/orders.service.js', 'OrdersService', 'place'],
          ['src/orders/order-placement.service.js', 'OrderPlacementService', 'place'],
          ['src/orders/order-dispatch.service.js', 'OrderDispatchService', 'send'],
          ['src/execution/execution.service.js', 'ExecutionService', 'place'],
          ['src/orders/order-store.js', 'OrderStore', 'insertNew'],
          ['src/orders/order-admission.service.js', 'OrderAdmissionService', 'approve'],
          ['src/risk/risk.service.js', 'RiskService', 'check'],
          ['src/orders/order-store.js', 'OrderStore', 'applySteps'],
          ['src/orders/order-store.js', 'OrderStore', 'load'],
          ['src/execution/gateway/dhan.gateway.js', 'DhanGateway', 'place'],
          ['libs/dhan/src/rest/dhan-rest-client.js', 'DhanRestClient', 'placeOrder'],
        ])
      : undefined;
    // Broker time: the span of ExecutionPort.place, per order id.
    const brokerMs = new Map();
    const place = execution.place.bind(execution);
    execution.place = async (order) => {
      const t0 = process.hrtime.bigint();
      try {
        return await place(order);
      } finally {
        brokerMs.set(order.orderId, Number(process.hrtime.bigint() - t0) / 1e6);
      }
    };

    // The server's own span of each request (Fastify's elapsed time, from the request's first
    // byte to the answer's last, as the HTTP metrics see it): without the client in this process.
    let serverSpan;
    const observeHttp = MetricsService.prototype.observeHttp;
    MetricsService.prototype.observeHttp = function (method, route, status, seconds) {
      if (method === 'POST') serverSpan?.(seconds * 1000);
      return observeHttp.call(this, method, route, status, seconds);
    };

    const equities = instruments
      .all()
      .filter((i) => i.segment === 'NSE_EQ' && i.instrumentType === 'EQUITY')
      .slice(0, 20);

    const rows = [];
    let seq = 0;
    const placeOne = async (prices) => {
      const k = ++seq % equities.length;
      const inst = equities[k];
      const t0 = process.hrtime.bigint();
      const spanned = new Promise((resolve) => (serverSpan = resolve));
      const data = await post(
        PLACE,
        {
          input: {
            clientOrderId: `bench-${seq}`,
            instrument: { segment: inst.segment, securityId: inst.securityId },
            side: 'BUY',
            quantity: 1,
            orderType: 'LIMIT',
            productType: 'INTRADAY',
            validity: 'DAY',
            price: prices[k],
          },
        },
        token,
      );
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      return { ms, serverMs: await spanned, order: data.placeOrder };
    };
    // A server that has run for a while has its hot paths compiled: a few hundred placements
    // back to back first (the first hundred or so run 2-4 times slower, unoptimised).
    await sim.delay(0);
    const warmPrices = await sim.prices(equities);
    for (let n = 0; n < WARMUP; n++) await placeOne(warmPrices);
    // The process's CPU while idle (timers, the simulator's market): subtracted per point.
    const idleStart = process.cpuUsage();
    await sleep(3_000);
    const idleCpu = process.cpuUsage(idleStart);
    const idleCpuMsPerS = (idleCpu.user + idleCpu.system) / 1_000 / 3;
    const stopProfile = PROFILE ? await startCpuProfile(PROFILE) : undefined;
    for (const delay of DELAYS) {
      await sim.delay(delay);
      const prices = await sim.prices(equities);
      const total = [];
      const broker = [];
      const ours = [];
      const server = [];
      const unacknowledged = [];
      let cpuStart;
      let wallStart;
      // Two warm-up orders per point, not recorded.
      for (let n = -2; n < ORDERS; n++) {
        if (n === 0) {
          cpuStart = process.cpuUsage();
          wallStart = process.hrtime.bigint();
        }
        const { ms, serverMs, order } = await placeOne(prices);
        if (!order.brokerOrderId) {
          // No acknowledgement in the mutation (UNKNOWN: answer lost; IN_FLIGHT: retried later).
          unacknowledged.push(order.status);
        } else if (n >= 0) {
          const b = brokerMs.get(order.id);
          total.push(ms);
          broker.push(b);
          ours.push(ms - b);
          server.push(serverMs - b);
        }
        await sleep(PACE_MS);
      }
      for (const list of [total, broker, ours, server]) list.sort((a, b) => a - b);
      const cpu = process.cpuUsage(cpuStart);
      const wallS = Number(process.hrtime.bigint() - wallStart) / 1e9;
      // Whole process (HTTP client, server, simulator) per order, the idle rate taken off.
      const cpuMsPerOrder = ((cpu.user + cpu.system) / 1_000 - idleCpuMsPerS * wallS) / ORDERS;
      rows.push({ delay, total, broker, ours, server, unacknowledged, cpuMsPerOrder });
    }
    await sim.delay(0);
    await stopProfile?.();
    phases?.print();

    const f = (x) => x.toFixed(1).padStart(6);
    process.stdout.write(
      `order placement, place-to-acknowledged over HTTP, ${booted.engine}, ` +
        `simulator ${external ? 'in its own process' : 'in process'}, ${ORDERS} orders per point ` +
        `(node ${[process.version, ...process.execArgv].join(' ')}, ${os.cpus()[0].model}, ${os.cpus().length} cpus)\n` +
        'sim delay | total p50  p99 | broker p50  p99 | ours p50  p99 | in server p50  p99 (ms) | ' +
        'cpu/order | not acked\n',
    );
    for (const r of rows) {
      process.stdout.write(
        `${String(r.delay).padStart(6)} ms | ${f(pct(r.total, 50))} ${f(pct(r.total, 99))} | ` +
          `${f(pct(r.broker, 50))} ${f(pct(r.broker, 99))} | ` +
          `${f(pct(r.ours, 50))} ${f(pct(r.ours, 99))} | ` +
          `${f(pct(r.server, 50))} ${f(pct(r.server, 99))}       | ${f(r.cpuMsPerOrder)} ms | ` +
          `${r.unacknowledged.join(' ') || 0}\n`,
      );
    }
    const summary = (list) => ({ p50: pct(list, 50), p99: pct(list, 99) });
    const ours = rows.flatMap((r) => r.ours).sort((a, b) => a - b);
    report('orders', {
      figures: rows.map((r) => ({
        simulatorDelayMs: r.delay,
        totalMs: summary(r.total),
        brokerMs: summary(r.broker),
        oursMs: summary(r.ours),
        oursInServerMs: summary(r.server),
        processCpuMsPerOrder: r.cpuMsPerOrder,
        unacknowledged: r.unacknowledged,
      })),
      checks: [
        check(`our time per order p50 (${booted.engine})`, pct(ours, 50), '<=', 2, 'ms'),
        check(`our time per order p99 (${booted.engine})`, pct(ours, 99), '<=', 10, 'ms'),
      ],
    });
  } finally {
    await booted.close();
    await external?.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
