#!/usr/bin/env node
/*
 * Order governor under a desk's burst, in wall-clock time (docs/BENCHMARKS.md, "Order
 * governor"): the app in process with its embedded simulator enforcing DhanHQ's 10 orders a
 * second per segment (and recording arrivals); 10 dealers each send 30 resting LIMIT orders at
 * the same moment over HTTP (placeOrder answers QUEUED at once). Measured: when each dealer's
 * first order was sent, from the burst's start and from the moment the server admitted that
 * dealer's first order (risk-approved); the busiest second at the simulator; refusals; and
 * when the last order was acknowledged. The e2e test checks the same property in units of
 * budget (sends), this bench the seconds a dealer waits.
 *
 *   npx tsc -p tsconfig.build.json --outDir /tmp/gov-dist
 *   GOVERNOR_DIST=/tmp/gov-dist node bench/governor-burst.bench.js [--dealers 10] [--orders 30]
 */
'use strict';

const { performance } = require('node:perf_hooks');
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

const build = useBuild('GOVERNOR_DIST');
const { InstrumentsService } = build.load('src/instruments/instruments.service.js');
const { ExecutionService } = build.load('src/execution/execution.service.js');
const { RiskService } = build.load('src/risk/risk.service.js');
const { DHAN_ENDPOINTS } = build.load('src/dhan/dhan-endpoints.js');
const { ORDER_TRANSITION } = build.load('src/orders/orders.events.js');
const { EventEmitter2 } = require('@nestjs/event-emitter');

const DEALERS = arg('dealers', 10);
const PER_DEALER = arg('orders', quick ? 10 : 30);

const PLACE = `mutation P($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }`;
const CREATE_USER = `mutation C($input: CreateUserInput!) { createUser(input: $input) { id } }`;
const LOGIN = `mutation L($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }`;

async function main() {
  const booted = await bootApp(build, {
    tmpPrefix: 'governor-burst-',
    env: { ORDER_QUEUE_MAX_WAIT_MS: '120000', GRAPHQL_MAX_IN_FLIGHT: '64' },
    configure: (config) => ({
      ...config,
      marketData: { tierB: { enabled: false } },
      dhan: {
        ...config.dhan,
        simulatorOptions: { rest: { rateLimits: { orders: { perSecond: 10 } } } },
      },
    }),
  });
  const { app, graphqlUrl, adminUrl } = booted;
  try {
    const sim = app.get(DHAN_ENDPOINTS).simulator;
    await app.get(ExecutionService).whenReady();
    const instruments = app.get(InstrumentsService);
    await instruments.ready();
    const admin = await loginAdmin(booted);
    const risk = app.get(RiskService);

    const dealers = [];
    for (let d = 0; d < DEALERS; d++) {
      const username = `burst-dealer-${d}`;
      const password = `pw-burst-${d}-12345`;
      const created = await gql(
        adminUrl,
        CREATE_USER,
        { input: { username, password, role: 'USER' } },
        admin.token,
      );
      await risk.setRiskLimits(created.createUser.id, {
        maxOrdersPerWindow: 1_000,
        maxOpenOrders: 1_000,
      });
      const { login } = await gql(graphqlUrl, LOGIN, { u: username, p: password });
      dealers.push({ id: created.createUser.id, token: login.accessToken });
    }

    const equity = instruments
      .all()
      .find((i) => i.segment === 'NSE_EQ' && i.instrumentType === 'EQUITY');
    const simInst = sim.universe.get(equity.segment, equity.securityId);
    const tick = Math.round(equity.tickSize * 10_000);
    const price =
      (Math.round((sim.market.mark(simInst).ltp * 0.95 * 10_000) / tick) * tick) / 10_000;

    const sentAt = new Map();
    const approvedAt = new Map();
    const ackedAt = new Map();
    app.get(EventEmitter2).on(ORDER_TRANSITION, (e) => {
      const now = performance.now();
      if (e.type === 'SENT' && !sentAt.has(e.orderId)) sentAt.set(e.orderId, now);
      if (e.type === 'RISK_APPROVED') approvedAt.set(e.orderId, now);
      if (e.type === 'ACKNOWLEDGED') ackedAt.set(e.orderId, now);
    });
    const arrivalsBefore = sim.rest.orderArrivals.length;

    const start = performance.now();
    const calls = [];
    for (let i = 0; i < PER_DEALER; i++) {
      dealers.forEach((dealer, d) => {
        calls[d * PER_DEALER + i] = gql(
          graphqlUrl,
          PLACE,
          {
            input: {
              clientOrderId: `burst-${d}-${i}`,
              instrument: { segment: equity.segment, securityId: equity.securityId },
              side: 'BUY',
              quantity: 1,
              orderType: 'LIMIT',
              price,
              productType: 'INTRADAY',
              validity: 'DAY',
            },
          },
          dealer.token,
        );
      });
    }
    const placed = (await Promise.all(calls)).map((r) => r.placeOrder);
    const answeredMs = performance.now() - start;
    const total = placed.length;
    await new Promise((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('orders not all acknowledged')), 300_000);
      const poll = setInterval(() => {
        if (placed.every((p) => ackedAt.has(p.id))) {
          clearInterval(poll);
          clearTimeout(deadline);
          resolve();
        }
      }, 20);
    });

    const fromBurst = [];
    const fromAdmission = [];
    dealers.forEach((_dealer, d) => {
      const mine = placed.slice(d * PER_DEALER, (d + 1) * PER_DEALER).map((p) => p.id);
      const firstSent = Math.min(...mine.map((id) => sentAt.get(id)));
      const firstApproved = Math.min(...mine.map((id) => approvedAt.get(id)));
      fromBurst.push(firstSent - start);
      fromAdmission.push(firstSent - Math.max(start, firstApproved));
    });
    fromBurst.sort((a, b) => a - b);
    fromAdmission.sort((a, b) => a - b);
    const arrivals = sim.rest.orderArrivals.slice(arrivalsBefore);
    const stamps = arrivals.map((a) => a.at).sort((a, b) => a - b);
    let busiest = 0;
    for (let to = 0, from = 0; to < stamps.length; to++) {
      while (stamps[to] - stamps[from] >= 1_000) from++;
      busiest = Math.max(busiest, to - from + 1);
    }
    const refused = arrivals.filter((a) => a.refused).length;
    const lastAck = Math.max(...placed.map((p) => ackedAt.get(p.id))) - start;

    const ms = (x) => `${x.toFixed(0)} ms`;
    process.stdout.write(
      `governor burst: ${DEALERS} dealers x ${PER_DEALER} orders at once, simulator at 10/s\n` +
        `  all ${total} answered (QUEUED) in ${ms(answeredMs)}; last acknowledged after ${ms(lastAck)}\n` +
        `  first send per dealer from the burst: p50 ${ms(pct(fromBurst, 50))}, max ${ms(fromBurst[fromBurst.length - 1])}\n` +
        `  first send per dealer from its admission: p50 ${ms(pct(fromAdmission, 50))}, max ${ms(fromAdmission[fromAdmission.length - 1])}\n` +
        `  simulator: ${arrivals.length} arrivals, busiest second ${busiest}, refused ${refused}\n`,
    );
    report('governor-burst', {
      figures: {
        dealers: DEALERS,
        perDealer: PER_DEALER,
        answeredMs,
        lastAcknowledgedMs: lastAck,
        firstSendFromBurstMs: fromBurst,
        firstSendFromAdmissionMs: fromAdmission,
        arrivals: arrivals.length,
        busiestSecond: busiest,
        refused,
      },
      checks: [
        check(
          'every dealer first sent within (from the burst)',
          fromBurst.at(-1),
          '<=',
          2000,
          'ms',
        ),
        check('orders in the busiest second at the broker', busiest, '<=', 10),
        check('orders the broker refused', refused, '<=', 0),
      ],
    });
  } finally {
    await booted.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
