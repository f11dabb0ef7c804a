import { ExchangeSegment } from '@app/dhan/types';
import type { DhanSimulator } from '@app/dhan-simulator';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { getRepositoryToken } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Repository } from 'typeorm';
import type { ResolvedAppConfig } from '../src/config/app-config';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { PositionBook } from '../src/execution/domain';
import { TradeEntity } from '../src/execution/entities/trade.entity';
import {
  EXECUTION_ORDER_EVENT,
  EXECUTION_RECONCILED,
  type ExecutionOrder,
  type ExecutionOrderEventPayload,
  type ExecutionReconciledPayload,
  ExecutionAmbiguousError,
} from '../src/execution/execution.contract';
import { ExecutionService } from '../src/execution/execution.service';
import { PortfolioService } from '../src/execution/portfolio.service';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { ReferenceKind, SubscriptionRegistry } from '../src/market-data/feed/subscription-registry';
import { MarketDataService } from '../src/market-data/market-data.service';
import { adminToken, newTrader } from './orders.helpers';
import { errorCodes, gql } from './utils/graphql-client';
import { until, waitFor } from './dhan/helpers';
import { createTestApp, databaseEngine, type TestApp } from './utils/test-app';

const configure = (config: ResolvedAppConfig) => ({
  ...config,
  marketData: { tierB: { enabled: false } },
});

/** Every EXECUTION_ORDER_EVENT of the app, in emission order. */
class EventLog {
  readonly events: ExecutionOrderEventPayload[] = [];
  readonly reconciled: ExecutionReconciledPayload[] = [];
  constructor(emitter: EventEmitter2) {
    emitter.on(EXECUTION_ORDER_EVENT, (p: ExecutionOrderEventPayload) => this.events.push(p));
    emitter.on(EXECUTION_RECONCILED, (p: ExecutionReconciledPayload) => this.reconciled.push(p));
  }
  of(orderId: string): ExecutionOrderEventPayload[] {
    return this.events.filter((e) => e.orderId === orderId);
  }
  fills(orderId: string): Array<Extract<ExecutionOrderEventPayload['event'], { type: 'FILL' }>> {
    return this.of(orderId)
      .map((e) => e.event)
      .filter((e) => e.type === 'FILL');
  }
  filledQty(orderId: string): number {
    return this.fills(orderId).reduce((sum, f) => sum + f.quantity, 0);
  }
  lastStatus(orderId: string): string | undefined {
    const updates = this.of(orderId)
      .map((e) => e.event)
      .filter((e) => e.type === 'BROKER_UPDATE');
    return updates.at(-1)?.status;
  }
}

/**
 * Places as the OMS does: an ambiguous outcome (here: a reused keep-alive socket reset under
 * load) is resolved by looking the order up by correlationId, never by sending it again.
 */
async function placeResolved(execution: ExecutionService, order: ExecutionOrder) {
  try {
    return await execution.place(order);
  } catch (error) {
    if (!(error instanceof ExecutionAmbiguousError)) throw error;
    const found = await execution.lookup(order.orderId);
    // Unknown to the broker: it never arrived; the same order (same correlationId) may go again.
    if (!found.found) return execution.place(order);
    return { brokerOrderId: found.brokerOrderId, status: found.status };
  }
}

async function anEquity(app: TestApp) {
  const instruments = app.app.get(InstrumentsService);
  await instruments.ready();
  const equity = instruments
    .all()
    .find((i) => i.segment === ExchangeSegment.NSE_EQ && i.instrumentType === 'EQUITY');
  if (!equity) throw new Error('no NSE equity in the simulator universe');
  return equity;
}

function marketBuy(
  userId: string,
  securityId: string,
  quantity: number,
  side: 'BUY' | 'SELL' = 'BUY',
): ExecutionOrder {
  return {
    orderId: randomUUID(),
    userId,
    segment: ExchangeSegment.NSE_EQ,
    securityId,
    side,
    quantity,
    orderType: 'MARKET',
    productType: 'INTRADAY',
    validity: 'DAY',
  };
}

describe('ExecutionService against the embedded simulator (e2e)', () => {
  let app: TestApp;
  let execution: ExecutionService;
  let portfolio: PortfolioService;
  let trades: Repository<TradeEntity>;
  let log: EventLog;
  let securityId: string;
  let sim: DhanSimulator;

  beforeAll(async () => {
    app = await createTestApp({}, { configure });
    execution = app.app.get(ExecutionService);
    portfolio = app.app.get(PortfolioService);
    trades = app.app.get(getRepositoryToken(TradeEntity));
    log = new EventLog(app.app.get(EventEmitter2));
    await execution.whenReady();
    securityId = (await anEquity(app)).securityId;
    sim = app.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    // Boot can be slow on a loaded machine; no assertion depends on it.
  }, 90_000);

  afterEach(() => {
    sim.rest.clearFaults();
    sim.orderUpdates.refuseConnections(false);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('uses the DhanHQ gateway with the embedded simulator and reconciles at startup', () => {
    expect(execution.gatewayKind).toBe('dhan');
    expect(execution.stats.reconciliations).toBeGreaterThanOrEqual(1);
  });

  it('place -> BROKER_UPDATE ... FILL -> trade row -> position', async () => {
    const userId = randomUUID();
    const order = marketBuy(userId, securityId, 10);
    const ack = await placeResolved(execution, order);
    expect(ack.brokerOrderId).toMatch(/\S/);
    expect(execution.routeOf(order.orderId)?.brokerOrderId).toBe(ack.brokerOrderId);

    await until(
      () => log.lastStatus(order.orderId) === 'TRADED' && log.filledQty(order.orderId) === 10,
      'the order traded and its fills arrived',
    );
    const types = log.of(order.orderId).map((e) => e.event.type);
    expect(types[0]).toBe('BROKER_UPDATE');
    // Fills are emitted before the update that reports them.
    expect(types.lastIndexOf('FILL')).toBeLessThan(types.lastIndexOf('BROKER_UPDATE'));
    expect(log.of(order.orderId).every((e) => e.userId === userId)).toBe(true);

    const rows = await trades.findBy({ orderId: order.orderId });
    expect(rows.reduce((s, r) => s + r.quantity, 0)).toBe(10);
    expect(rows.map((r) => r.exchangeTradeId).sort()).toEqual(
      log
        .fills(order.orderId)
        .map((f) => f.tradeId)
        .sort(),
    );

    const [position] = portfolio.positions(userId);
    expect(position.view.netQuantity).toBe(10);
    expect(position.view.buyQuantity).toBe(10);
    const snapshot = portfolio.riskSnapshot(userId, ExchangeSegment.NSE_EQ, securityId, 'INTRADAY');
    expect(snapshot.netQuantity).toBe(10);
    expect(snapshot.grossExposurePaise).toBeGreaterThan(0);
    expect((await portfolio.trades(userId)).length).toBe(rows.length);
  });

  it('ambiguous place (accepted, answer lost) -> ExecutionAmbiguousError; lookup finds the one broker order', async () => {
    const userId = randomUUID();
    const order = marketBuy(userId, securityId, 5);
    sim.rest.acceptThenTimeout({ mode: 'destroy', count: 1 });
    await expect(execution.place(order)).rejects.toBeInstanceOf(ExecutionAmbiguousError);
    // The routing record was written before the request left.
    const route = execution.routeOf(order.orderId);
    expect(route).toBeDefined();

    const found = await execution.lookup(order.orderId);
    expect(found.found).toBe(true);
    const atBroker = sim.orders.byCorrelationId(sim.credentials.clientId, route!.correlationId);
    expect(atBroker).toHaveLength(1);
    if (found.found) expect(found.brokerOrderId).toBe(atBroker[0].orderId);

    // Whatever path the fills come by, each is stored and emitted once.
    await until(() => log.filledQty(order.orderId) === 5, 'the ambiguous order filled');
    await execution.lookup(order.orderId);
    expect(await trades.countBy({ orderId: order.orderId })).toBe(
      sim.orders.tradesOf(sim.credentials.clientId, atBroker[0].orderId).length,
    );
    expect(log.fills(order.orderId)).toHaveLength(
      sim.orders.tradesOf(sim.credentials.clientId, atBroker[0].orderId).length,
    );
    expect(sim.orders.byCorrelationId(sim.credentials.clientId, route!.correlationId)).toHaveLength(
      1,
    );
  });

  it('an order never sent is not found by lookup', async () => {
    expect(await execution.lookup(randomUUID())).toEqual({ found: false });
  });

  it('an open position holds a POSITION reference; going flat releases it', async () => {
    const userId = randomUUID();
    const registry = app.app.get(SubscriptionRegistry);
    const key = app.app.get(MarketDataService).instrumentKeyOf(ExchangeSegment.NSE_EQ, securityId);
    const holder = PositionBook.keyOf({
      userId,
      segment: ExchangeSegment.NSE_EQ,
      securityId,
      productType: 'INTRADAY',
    });
    const buy = marketBuy(userId, securityId, 3);
    await placeResolved(execution, buy);
    await until(() => log.filledQty(buy.orderId) === 3, 'the buy filled');
    expect(registry.hasHolder(key, ReferenceKind.POSITION, holder)).toBe(true);
    const sell = marketBuy(userId, securityId, 3, 'SELL');
    await placeResolved(execution, sell);
    await until(() => log.filledQty(sell.orderId) === 3, 'the sell filled');
    expect(portfolio.positions(userId)[0].view.netQuantity).toBe(0);
    expect(registry.hasHolder(key, ReferenceKind.POSITION, holder)).toBe(false);
  });

  it('admin reconcileOrders reconciles now, adds nothing twice, is audited and admin-only', async () => {
    const admin = await adminToken(app);
    const mutation = 'mutation { reconcileOrders { reason orders tradesAdded } }';
    const response = await gql<{
      reconcileOrders: { reason: string; orders: number; tradesAdded: number };
    }>(app.adminUrl, mutation, {}, admin);
    expect(response.errors).toBeUndefined();
    expect(response.data!.reconcileOrders).toMatchObject({ reason: 'manual', tradesAdded: 0 });
    expect(response.data!.reconcileOrders.orders).toBeGreaterThanOrEqual(1);
    const audit = await gql<{ auditLog: Array<{ action: string; payload: string }> }>(
      app.adminUrl,
      'query { auditLog(limit: 5) { action payload } }',
      {},
      admin,
    );
    expect(audit.data!.auditLog.some((e) => e.action === 'reconcileOrders')).toBe(true);
    const user = await newTrader(app, admin, 'not-an-admin');
    const refused = await gql(app.adminUrl, mutation, {}, user.token);
    expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
  });

  it('order-update socket down while fills happen -> reconciliation after reconnect synthesises each missing fill exactly once', async () => {
    const userId = randomUUID();
    sim.orderUpdates.refuseConnections(true);
    sim.orderUpdates.dropConnections();
    await until(() => !execution.streaming, 'the order-update socket is down');

    const orders = [marketBuy(userId, securityId, 7), marketBuy(userId, securityId, 3)];
    const acks = await Promise.all(orders.map((o) => placeResolved(execution, o)));
    const brokerIds = acks.map((a) => a.brokerOrderId);
    await until(
      () =>
        brokerIds.every(
          (id) => sim.orders.order(sim.credentials.clientId, id)?.status === 'TRADED',
        ),
      'the broker filled both orders',
    );
    const simTrades = brokerIds.flatMap((id) => sim.orders.tradesOf(sim.credentials.clientId, id));
    // Nothing came while the socket was down.
    for (const o of orders) expect(log.fills(o.orderId)).toHaveLength(0);

    const reconciled = waitFor<[ExecutionReconciledPayload]>(
      app.app.get(EventEmitter2),
      EXECUTION_RECONCILED,
      (p) => p.reason === 'reconnect',
      20_000,
    );
    sim.orderUpdates.refuseConnections(false);
    const [payload] = await reconciled;
    expect(payload.tradesAdded).toBeGreaterThanOrEqual(simTrades.length);

    for (const o of orders) {
      expect(log.filledQty(o.orderId)).toBe(o.quantity);
      expect(log.lastStatus(o.orderId)).toBe('TRADED');
    }
    const fillIds = orders.flatMap((o) => log.fills(o.orderId).map((f) => f.tradeId));
    expect(new Set(fillIds).size).toBe(fillIds.length);
    expect(fillIds.sort()).toEqual(simTrades.map((t) => t.exchangeTradeId).sort());
    const rows = await trades.findBy(orders.map((o) => ({ orderId: o.orderId })));
    expect(rows).toHaveLength(simTrades.length);

    // A second pass adds nothing.
    const again = await execution.reconcile();
    expect(again.tradesAdded).toBe(0);
    const metrics = await (await fetch(`${app.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^ems_order_updates_connected 1$/m);
    const stored = /^ems_trades_stored (\d+)$/m.exec(metrics);
    expect(Number(stored?.[1])).toBeGreaterThanOrEqual(simTrades.length);
    expect(orders.flatMap((o) => log.fills(o.orderId))).toHaveLength(simTrades.length);
    expect(
      portfolio.riskSnapshot(userId, ExchangeSegment.NSE_EQ, securityId, 'INTRADAY').netQuantity,
    ).toBe(10);
  }, 40_000);
});

describe('positions rebuilt at restart (e2e, same SQLite file across two boots)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'execution-restart-'));
  const env = {
    DATABASE_URL: `sqlite:${path.join(dir, 'data', 'restart.sqlite')}`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    ADMIN_USERNAME: 'restart-admin',
    ADMIN_PASSWORD: randomBytes(12).toString('hex'),
  };
  const opened: TestApp[] = [];

  afterAll(async () => {
    for (const a of opened) await a.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // Engine-independent code; two boots sharing one database come cheaply with SQLite.
  (databaseEngine() === 'sqlite' ? it : it.skip)(
    'a second server on the same database shows the same positions and trades',
    async () => {
      const first = await createTestApp(env, { configure });
      opened.push(first);
      const execution = first.app.get(ExecutionService);
      await execution.whenReady();
      const log = new EventLog(first.app.get(EventEmitter2));
      const securityId = (await anEquity(first)).securityId;
      const userId = randomUUID();
      const buy = marketBuy(userId, securityId, 12);
      const sell = marketBuy(userId, securityId, 5, 'SELL');
      await placeResolved(execution, buy);
      await until(() => log.lastStatus(buy.orderId) === 'TRADED', 'the buy traded');
      await placeResolved(execution, sell);
      await until(() => log.lastStatus(sell.orderId) === 'TRADED', 'the sell traded');
      await until(() => log.filledQty(sell.orderId) === 5, 'the sell fills stored');
      const strip = (views: ReturnType<PortfolioService['positions']>) =>
        views.map(({ key, view }) => ({
          key: PositionBook.keyOf(key),
          net: view.netQuantity,
          buy: [view.buyQuantity, view.buyAverage],
          sell: [view.sellQuantity, view.sellAverage],
          realized: view.realizedPnlPaise,
        }));
      const before = strip(first.app.get(PortfolioService).positions(userId));
      expect(before).toHaveLength(1);
      expect(before[0].net).toBe(7);
      const tradesBefore = (await first.app.get(PortfolioService).trades(userId)).length;
      opened.splice(opened.indexOf(first), 1);
      await first.close();

      const second = await createTestApp(env, { configure });
      opened.push(second);
      await second.app.get(ExecutionService).whenReady();
      const portfolio = second.app.get(PortfolioService);
      expect(strip(portfolio.positions(userId))).toEqual(before);
      expect(await portfolio.trades(userId)).toHaveLength(tradesBefore);
      // The routing record survived too: the second server knows the order.
      expect(second.app.get(ExecutionService).routeOf(buy.orderId)?.userId).toBe(userId);
    },
    120_000,
  );
});
