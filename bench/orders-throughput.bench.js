#!/usr/bin/env node
/*
 * Order throughput (docs/BENCHMARKS.md, "Order throughput"): DEALERS dealers at once, each
 * placing PER_DEALER LIMIT BUY orders one after another (5 % below the market: they rest, no
 * fills) straight into OrdersService.place (OMS -> RMS -> order budget -> EMS -> the DhanHQ
 * gateway), the app in-process, the simulator in a child process. The broker's order limits are
 * lifted for the bench only (ORDER_RATE_PER_SECOND, DHAN_ORDER_LIMITS): the subject is the
 * server's own rate. Reports orders per second from the first call to the last
 * acknowledgement, per-order latency, and checks that none was lost (every call acknowledged,
 * every order stored and sent once) or duplicated (one row and one sent order per
 * clientOrderId). No HTTP here: the client fleet would share the two cores.
 *
 * SQLite by default; BENCH_DATABASE_URL=postgres://... for PostgreSQL (scratch schema).
 * The simulator runs in a process of its own (the app in live mode against it), so the CPU time
 * per order is the app's alone; `--embedded-sim` for the app's embedded one.
 *   npx tsc -p tsconfig.build.json --outDir /tmp/bench-dist
 *   BENCH_DIST=/tmp/bench-dist node bench/orders-throughput.bench.js [--dealers 200 --per 10]
 * `--phases` also prints the time spent per call in each step of the path (OMS store, RMS,
 * execution, the REST client); `--profile FILE` writes a CPU profile of the placements.
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
  bootApp,
  simulatorProcess,
  report,
  check,
  processCpu,
} = require('./harness');

// The app runs in this process: with production's node flags, as deployed.
runAsDeployed();

const build = useBuild('BENCH_DIST');
const { InstrumentsService } = build.load('src/instruments/instruments.service.js');
const { OrdersService } = build.load('src/orders/orders.service.js');
const { RiskService } = build.load('src/risk/risk.service.js');
const { UsersService } = build.load('src/auth/users.service.js');
const { Role } = build.load('src/auth/role.enum.js');
const { DHAN_ENDPOINTS } = build.load('src/dhan/dhan-endpoints.js');

const DEALERS = arg('dealers', quick ? 50 : 200);
const PER_DEALER = arg('per', quick ? 4 : 10);

async function main() {
  // The simulator in a process of its own (`--sim-core N` pins it), as the broker is elsewhere
  // in production, so the CPU time measured below is the app's alone; `--embedded-sim` for the
  // app's embedded simulator (the CPU time then includes its REST handling and order-update
  // pushes, and is not judged against the app's target).
  const external = process.argv.includes('--embedded-sim')
    ? undefined
    : await simulatorProcess(build, { always: true });
  const booted = await bootApp(build, {
    tmpPrefix: 'orders-throughput-',
    env: {
      ...external?.env,
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
  const { app } = booted;
  try {
    const embedded = app.get(DHAN_ENDPOINTS).simulator;
    const instruments = app.get(InstrumentsService);
    await instruments.ready();
    const orders = app.get(OrdersService);
    await orders.whenRecovered?.();
    await app.get(RiskService).setRiskLimits(null, {
      maxOrdersPerWindow: 1_000_000,
      maxOpenOrders: 1_000_000,
    });
    const users = app.get(UsersService);
    const dealers = [];
    for (let d = 0; d < DEALERS; d++) {
      dealers.push((await users.create(`dealer-${d}`, `dealer-password-${d}`, Role.USER)).id);
    }
    const equities = instruments
      .all()
      .filter((i) => i.segment === 'NSE_EQ' && i.instrumentType === 'EQUITY')
      .slice(0, 50);
    const priceOf = (i) => {
      const tick = Math.round(i.tickSize * 10_000);
      const ltp = embedded.market.mark(embedded.universe.get(i.segment, i.securityId)).ltp;
      return (Math.round((ltp * 0.95 * 10_000) / tick) * tick) / 10_000;
    };
    const listed = external ? await external.prices(equities) : equities.map(priceOf);
    const prices = new Map(equities.map((i, k) => [i.securityId, listed[k]]));
    const command = (d, n) => {
      const inst = equities[(d * PER_DEALER + n) % equities.length];
      return {
        clientOrderId: `tp-${d}-${n}`,
        segment: inst.segment,
        securityId: inst.securityId,
        side: 'BUY',
        quantity: 1,
        orderType: 'LIMIT',
        productType: 'INTRADAY',
        validity: 'DAY',
        price: prices.get(inst.securityId),
      };
    };
    // --phases: time spent in each step of the order path (wrapped methods), per call.
    const phases = process.argv.includes('--phases')
      ? phaseTimer(build, [
          ['src/orders/order-store.js', 'OrderStore', 'insertNew'],
          ['src/orders/order-store.js', 'OrderStore', 'applySteps'],
          ['src/orders/order-store.js', 'OrderStore', 'load'],
          ['src/orders/order-admission.service.js', 'OrderAdmissionService', 'approve'],
          ['src/risk/risk.service.js', 'RiskService', 'check'],
          ['src/execution/execution.service.js', 'ExecutionService', 'place'],
          ['src/execution/gateway/dhan.gateway.js', 'DhanGateway', 'place'],
          ['libs/dhan/src/rest/dhan-rest-client.js', 'DhanRestClient', 'placeOrder'],
        ])
      : undefined;
    // Warm-up: one order per dealer 0..9, not counted.
    for (let d = 0; d < Math.min(10, DEALERS); d++) {
      await orders.place(dealers[d], { ...command(d, 0), clientOrderId: `warm-${d}` });
    }

    const latencies = [];
    const statuses = new Map();
    let acknowledged = 0;
    const profileAt = process.argv.indexOf('--profile');
    const stopProfile =
      profileAt > 0 ? await startCpuProfile(process.argv[profileAt + 1]) : undefined;
    // SQLite: how many transactions shared each commit during the burst (sqlite-serial).
    const serial = build.load('src/database/sqlite-serial.js');
    const dataSource = app.get(require('typeorm').DataSource);
    const groupsAt = () => ({ ...(serial.groupCommitStats?.(dataSource) ?? {}) });
    const groupsBefore = groupsAt();
    // PostgreSQL on this machine: its processes' CPU over the same span (server work per order).
    const serverCpu = booted.engine === 'PostgreSQL' ? processCpu('postgres') : undefined;
    const cpu = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await Promise.all(
      dealers.map(async (userId, d) => {
        for (let n = 0; n < PER_DEALER; n++) {
          const s = process.hrtime.bigint();
          const view = await orders.place(userId, command(d, n));
          latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
          statuses.set(view.status, (statuses.get(view.status) ?? 0) + 1);
          if (view.brokerOrderId) acknowledged++;
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const used = process.cpuUsage(cpu);
    const serverSeconds = serverCpu?.();
    const groupsAfter = groupsAt();
    const grouped =
      groupsAfter.commits === undefined
        ? undefined
        : {
            commits: groupsAfter.commits - groupsBefore.commits,
            transactions: groupsAfter.transactions - groupsBefore.transactions,
          };
    await stopProfile?.();
    const total = DEALERS * PER_DEALER;
    const rate = total / seconds;

    // Lost or duplicated: the stored orders and the orders the gateway was handed, once every
    // order is resolved (one answered late, UNKNOWN, is looked up by the OMS; 60 s at most).
    const ds = app.get(require('typeorm').DataSource);
    const count = async (sql) => Number((await ds.query(sql))[0].n);
    const unresolved = () =>
      count(
        "SELECT COUNT(*) AS n FROM orders WHERE client_order_id LIKE 'tp-%' AND status IN ('UNKNOWN', 'IN_FLIGHT', 'QUEUED', 'NEW')",
      );
    const settleBy = Date.now() + 60_000;
    while ((await unresolved()) > 0 && Date.now() < settleBy) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const neverAcknowledged = await unresolved();
    const stored = await count(
      "SELECT COUNT(*) AS n FROM orders WHERE client_order_id LIKE 'tp-%'",
    );
    const distinct = await count(
      "SELECT COUNT(DISTINCT user_id || ':' || client_order_id) AS n FROM orders WHERE client_order_id LIKE 'tp-%'",
    );
    const sent = await count(
      "SELECT COUNT(*) AS n FROM execution_orders e JOIN orders o ON o.id = e.order_id WHERE o.client_order_id LIKE 'tp-%'",
    );
    phases?.print();
    latencies.sort((a, b) => a - b);
    const lateAnswers = total - acknowledged;
    const lost = neverAcknowledged;
    const duplicated = stored - distinct + Math.max(0, sent - stored);
    process.stdout.write(
      `order throughput, ${booted.engine}, ${DEALERS} dealers x ${PER_DEALER} orders at once ` +
        `(node ${[process.version, ...process.execArgv].join(' ')}, ${os.cpus()[0].model}, ${os.cpus().length} cpus, ` +
        `simulator ${external ? "in its own process: the CPU below is the app's alone" : 'in process'})\n` +
        `  ${total} orders in ${seconds.toFixed(2)} s: ${rate.toFixed(0)} orders/s; ` +
        `latency p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms; ` +
        `process CPU ${((used.user + used.system) / 1000 / total).toFixed(2)} ms/order` +
        (serverSeconds === undefined
          ? ''
          : `; the database server's processes ${((serverSeconds * 1000) / total).toFixed(2)} ms/order`) +
        '\n' +
        `  statuses ${JSON.stringify(Object.fromEntries(statuses))}; stored ${stored}, ` +
        `sent ${sent}; acknowledged after the call returned ${lateAnswers}; ` +
        `lost ${lost}, duplicated ${duplicated}\n` +
        (grouped
          ? `  grouped commits: ${grouped.transactions} transactions in ${grouped.commits} ` +
            'shared commits\n'
          : ''),
    );
    report('orders-throughput', {
      figures: {
        engine: booted.engine,
        dealers: DEALERS,
        perDealer: PER_DEALER,
        ordersPerSecond: rate,
        latencyMs: { p50: pct(latencies, 50), p99: pct(latencies, 99) },
        cpuMsPerOrder: (used.user + used.system) / 1000 / total,
        databaseServerCpuMsPerOrder:
          serverSeconds === undefined ? undefined : (serverSeconds * 1000) / total,
        simulator: external ? 'own process' : 'in process',
        stored,
        sent,
        acknowledgedAfterTheCall: lateAnswers,
        lost,
        duplicated,
        groupedCommits: grouped,
      },
      checks: [
        check(`orders per second (${booted.engine})`, rate, '>=', 500, 'orders/s'),
        check(
          `CPU per order (${booted.engine}, ${external ? 'app' : 'app and simulator'})`,
          (used.user + used.system) / 1000 / total,
          '<=',
          2,
          'ms',
          external ? undefined : null,
        ),
        check(`orders lost (${booted.engine})`, lost, '<=', 0, 'orders'),
        check(`orders duplicated (${booted.engine})`, duplicated, '<=', 0, 'orders'),
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
