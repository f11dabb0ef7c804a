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
 * `--sync-normal` (diagnostic) runs SQLite with synchronous=NORMAL to show the commits' share.
 */
'use strict';

const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const crypto = require('node:crypto');
const Module = require('node:module');

const root = path.resolve(__dirname, '..');
const dist = path.resolve(process.env.ORDERS_DIST || path.join(root, 'dist'));
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
const { ExecutionService } = require(path.join(dist, 'src/execution/execution.service.js'));
const { RiskService } = require(path.join(dist, 'src/risk/risk.service.js'));
const { DHAN_ENDPOINTS } = require(path.join(dist, 'src/dhan/dhan-endpoints.js'));

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const quick = Boolean(process.env.BENCH_QUICK) || process.argv.includes('--quick');
const ORDERS = arg('orders', quick ? 30 : 100);
const DELAYS = [0, 20, 100];
const PACE_MS = 260;

const PLACE = `mutation P($input: PlaceOrderInput!) {
  placeOrder(input: $input) { id status brokerOrderId }
}`;

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

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-bench-'));
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
  config.dhan = { ...config.dhan, simulatorOptions: { rest: { rateLimits: false } } };
  const app = await createApp(config, { logger: pino({ level: 'silent' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const { graphqlUrl } = connectionInfo(app);
    const sim = app.get(DHAN_ENDPOINTS).simulator;
    if (process.argv.includes('--sync-normal')) {
      // Diagnostic only: WAL commits without an fsync each, to show what the commits cost.
      await app.get(require('typeorm').DataSource).query('PRAGMA synchronous = NORMAL');
    }
    const execution = app.get(ExecutionService);
    await execution.whenReady();
    const instruments = app.get(InstrumentsService);
    await instruments.ready();
    const login = await gql(
      graphqlUrl,
      'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken user { id } } }',
      { u: 'bench-admin', p: password },
    );
    const token = login.login.accessToken;
    await app.get(RiskService).setRiskLimits(login.login.user.id, {
      maxOrdersPerWindow: 1_000_000,
      maxOpenOrders: 1_000_000,
    });

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

    const equities = instruments
      .all()
      .filter((i) => i.segment === 'NSE_EQ' && i.instrumentType === 'EQUITY')
      .slice(0, 20);
    const priceOf = (i) => {
      const simInst = sim.universe.get(i.segment, i.securityId);
      const tick = Math.round(i.tickSize * 10_000);
      return (Math.round((sim.market.mark(simInst).ltp * 0.95 * 10_000) / tick) * tick) / 10_000;
    };

    const rows = [];
    let seq = 0;
    for (const delay of DELAYS) {
      sim.rest.clearFaults();
      if (delay > 0) sim.rest.delay({ pattern: /^POST \/v2\/orders$/, ms: delay });
      const total = [];
      const broker = [];
      const ours = [];
      const unacknowledged = [];
      // Two warm-up orders per point, not recorded.
      for (let n = -2; n < ORDERS; n++) {
        const inst = equities[++seq % equities.length];
        const t0 = process.hrtime.bigint();
        const data = await gql(
          graphqlUrl,
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
              price: priceOf(inst),
            },
          },
          token,
        );
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const order = data.placeOrder;
        if (!order.brokerOrderId) {
          // No acknowledgement in the mutation (UNKNOWN: answer lost; IN_FLIGHT: retried later).
          unacknowledged.push(order.status);
        } else if (n >= 0) {
          const b = brokerMs.get(order.id);
          total.push(ms);
          broker.push(b);
          ours.push(ms - b);
        }
        await sleep(PACE_MS);
      }
      for (const list of [total, broker, ours]) list.sort((a, b) => a - b);
      rows.push({ delay, total, broker, ours, unacknowledged });
    }
    sim.rest.clearFaults();

    const f = (x) => x.toFixed(1).padStart(6);
    process.stdout.write(
      `order placement, place-to-acknowledged over HTTP, ${ORDERS} orders per point ` +
        `(node ${process.version}, ${os.cpus()[0].model}, ${os.cpus().length} cpus)\n` +
        'sim delay | total p50  p99 | broker p50  p99 | ours p50  p99  (ms) | not acked\n',
    );
    for (const r of rows) {
      process.stdout.write(
        `${String(r.delay).padStart(6)} ms | ${f(pct(r.total, 50))} ${f(pct(r.total, 99))} | ` +
          `${f(pct(r.broker, 50))} ${f(pct(r.broker, 99))} | ` +
          `${f(pct(r.ours, 50))} ${f(pct(r.ours, 99))} | ${r.unacknowledged.join(' ') || 0}\n`,
      );
    }
  } finally {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
