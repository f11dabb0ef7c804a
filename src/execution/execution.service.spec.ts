import { ExchangeSegment } from '@app/dhan/types';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../database/migrations';
import type { MarketDataService } from '../market-data/market-data.service';
import type { TickRecord } from '../market-data/ticks/tick-store';
import { OrderStatus } from '../trading/order-status';
import { ExecutionOrderEntity } from './entities/execution-order.entity';
import { PositionCarryEntity } from './entities/position-carry.entity';
import { TradeEntity } from './entities/trade.entity';
import {
  EXECUTION_ORDER_EVENT,
  type ExecutionAck,
  type ExecutionOrder,
  type ExecutionOrderEventPayload,
} from './execution.contract';
import { POSITIONS_UPDATED, type PositionsUpdatedPayload } from './execution.events';
import { ExecutionService, UNKNOWN_TO_BROKER } from './execution.service';
import type {
  BrokerGateway,
  BrokerOrderState,
  BrokerTrade,
  GatewayListener,
} from './gateway/broker-gateway';
import { PaperGateway } from './gateway/paper.gateway';
import { PortfolioService } from './portfolio.service';

/** A broker whose books the test writes; the socket is `listener.orderUpdate`. */
class ScriptedGateway implements BrokerGateway {
  readonly kind = 'dhan' as const;
  readonly streaming = true;
  listener!: GatewayListener;
  orders: BrokerOrderState[] = [];
  trades: BrokerTrade[] = [];
  tradesOfCalls = 0;
  start(listener: GatewayListener): Promise<void> {
    this.listener = listener;
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  place(_order: ExecutionOrder, correlationId: string): Promise<ExecutionAck> {
    const brokerOrderId = `B${this.orders.length + 1}`;
    this.orders.push({ brokerOrderId, correlationId, status: OrderStatus.TRANSIT });
    return Promise.resolve({ brokerOrderId, status: OrderStatus.TRANSIT });
  }
  readonly modified: string[] = [];
  readonly cancelled: string[] = [];
  modify(brokerOrderId: string): Promise<void> {
    this.modified.push(brokerOrderId);
    return Promise.resolve();
  }
  cancel(brokerOrderId: string): Promise<void> {
    this.cancelled.push(brokerOrderId);
    return Promise.resolve();
  }
  order(brokerOrderId: string) {
    return Promise.resolve(this.orders.find((o) => o.brokerOrderId === brokerOrderId));
  }
  lookup(correlationId: string) {
    return Promise.resolve(this.orders.find((o) => o.correlationId === correlationId));
  }
  async tradesOf(brokerOrderId: string) {
    this.tradesOfCalls++;
    // Let the caller's competitor (a reconciliation) run in between.
    await new Promise((r) => setTimeout(r, 5));
    return this.trades.filter((t) => t.brokerOrderId === brokerOrderId);
  }
  book() {
    return Promise.resolve({ orders: [...this.orders], trades: [...this.trades] });
  }
}

/** A fixed tick store: the test sets each instrument's LTP and touch. */
class FixedMarket {
  readonly records = new Map<string, Partial<TickRecord>>();
  set(securityId: string, ltp: number, bid?: number, ask?: number): void {
    const depth = new Float64Array(30);
    if (bid !== undefined && ask !== undefined) {
      depth[2] = bid;
      depth[5] = ask;
    }
    this.records.set(securityId, {
      ltp,
      stale: false,
      hasDepth: bid !== undefined,
      depth,
    });
  }
  record(_segment: ExchangeSegment, securityId: string): TickRecord | undefined {
    return this.records.get(securityId) as TickRecord | undefined;
  }
  acquire() {
    return { added: 0, subscribed: [] };
  }
  release() {
    return { removed: 0, unsubscribed: [] };
  }
}

async function setUp(gateway: BrokerGateway, market = new FixedMarket(), existing?: DataSource) {
  const db =
    existing ??
    new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [ExecutionOrderEntity, TradeEntity, PositionCarryEntity],
      migrations: MIGRATIONS,
      migrationsRun: true,
    });
  if (!db.isInitialized) await db.initialize();
  const events = new EventEmitter2();
  const seen: ExecutionOrderEventPayload[] = [];
  events.on(EXECUTION_ORDER_EVENT, (p: ExecutionOrderEventPayload) => seen.push(p));
  const marketData = market as unknown as MarketDataService;
  const portfolio = new PortfolioService(
    db.getRepository(TradeEntity),
    db.getRepository(PositionCarryEntity),
    marketData,
    events,
  );
  await portfolio.rebuild();
  const service = new ExecutionService(
    db.getRepository(ExecutionOrderEntity),
    db.getRepository(TradeEntity),
    gateway,
    portfolio,
    events,
  );
  await service.onModuleInit();
  service.onApplicationBootstrap();
  await service.whenReady();
  return { db, events, seen, service, portfolio, market };
}

function anOrder(overrides: Partial<ExecutionOrder> = {}): ExecutionOrder {
  return {
    orderId: randomUUID(),
    userId: randomUUID(),
    segment: ExchangeSegment.NSE_EQ,
    securityId: '2885',
    side: 'BUY',
    quantity: 10,
    orderType: 'MARKET',
    productType: 'INTRADAY',
    validity: 'DAY',
    ...overrides,
  };
}

describe('ExecutionService trade dedupe (scripted broker, real SQLite)', () => {
  it('the same trade by socket and by reconciliation, at the same time: one row, one FILL', async () => {
    const gateway = new ScriptedGateway();
    const { db, seen, service, portfolio } = await setUp(gateway);
    const order = anOrder();
    const ack = await service.place(order);
    const traded: BrokerOrderState = {
      ...gateway.orders[0],
      status: OrderStatus.TRADED,
      quantity: 10,
      filledQuantity: 10,
      averagePrice: 100.5,
    };
    gateway.orders[0] = traded;
    gateway.trades.push(
      {
        brokerOrderId: ack.brokerOrderId,
        exchangeTradeId: 'T1',
        quantity: 4,
        price: 100,
        tradedAt: new Date(),
      },
      {
        brokerOrderId: ack.brokerOrderId,
        exchangeTradeId: 'T2',
        quantity: 6,
        price: 100.8333,
        tradedAt: new Date(),
      },
    );

    gateway.listener.orderUpdate(traded, 'socket');
    const reconciled = await service.reconcile('manual');
    await service.reconcile('manual');
    await service.lookup(order.orderId);

    const rows = await db.getRepository(TradeEntity).findBy({ orderId: order.orderId });
    expect(rows.map((r) => r.exchangeTradeId).sort()).toEqual(['T1', 'T2']);
    const fills = seen.filter((e) => e.event.type === 'FILL');
    expect(fills.map((f) => (f.event.type === 'FILL' ? f.event.tradeId : '')).sort()).toEqual([
      'T1',
      'T2',
    ]);
    expect(reconciled.orders).toBe(1);
    expect(service.stats.tradesAdded).toBe(2);
    expect(rows.find((r) => r.exchangeTradeId === 'T2')?.priceUnits).toBe(1_008_333);
    const [position] = portfolio.positions(order.userId);
    expect(position.view.netQuantity).toBe(10);
    // Each FILL precedes the BROKER_UPDATE reporting it, and all carry our ids.
    const types = seen.map((e) => e.event.type);
    expect(types.indexOf('FILL')).toBeLessThan(types.lastIndexOf('BROKER_UPDATE'));
    expect(seen.every((e) => e.orderId === order.orderId && e.userId === order.userId)).toBe(true);
    await service.beforeApplicationShutdown();
    await db.destroy();
  });

  it('a trade book lagging the alert is fetched again; FILLs still precede the TRADED update', async () => {
    const gateway = new ScriptedGateway();
    const { db, seen, service } = await setUp(gateway);
    service.catchUpDelaysMs = [5, 5, 5];
    const order = anOrder({ quantity: 6 });
    const ack = await service.place(order);
    const traded: BrokerOrderState = {
      ...gateway.orders[0],
      status: OrderStatus.TRADED,
      quantity: 6,
      filledQuantity: 6,
    };
    const trade = (id: string, quantity: number): BrokerTrade => ({
      brokerOrderId: ack.brokerOrderId,
      exchangeTradeId: id,
      quantity,
      price: 50,
      tradedAt: new Date(),
    });
    gateway.trades.push(trade('L1', 2));
    const calls = gateway.tradesOfCalls;
    // The second trade reaches the trade book only after the first fetch.
    const tradesOf = gateway.tradesOf.bind(gateway);
    gateway.tradesOf = async (id) => {
      const result = await tradesOf(id);
      if (!gateway.trades.some((t) => t.exchangeTradeId === 'L2'))
        gateway.trades.push(trade('L2', 4));
      return result;
    };
    gateway.listener.orderUpdate(traded, 'socket');
    await until(() => seen.some((e) => e.event.type === 'BROKER_UPDATE'));
    expect(seen.map((e) => e.event.type)).toEqual(['FILL', 'FILL', 'BROKER_UPDATE']);
    expect(gateway.tradesOfCalls - calls).toBe(2);
    expect(await db.getRepository(TradeEntity).countBy({ orderId: order.orderId })).toBe(2);
    await service.beforeApplicationShutdown();
    await db.destroy();
  });

  it('an update for an order that is not ours is counted and ignored', async () => {
    const gateway = new ScriptedGateway();
    const { db, seen, service } = await setUp(gateway);
    gateway.listener.orderUpdate(
      { brokerOrderId: 'X9', correlationId: 'someone-else', status: OrderStatus.PENDING },
      'socket',
    );
    // Looked up among the stored routing records first (another instance may have sent it).
    await service.whenUpdatesMatched();
    expect(service.stats.unmatchedUpdates).toBe(1);
    expect(seen).toHaveLength(0);
    await service.beforeApplicationShutdown();
    await db.destroy();
  });

  describe('a broker order id learned earlier is acted on only while the broker order under it is ours (correlationId)', () => {
    /** Our order placed and PENDING as B1; then the broker loses its books and reuses B1. */
    async function reused() {
      const gateway = new ScriptedGateway();
      const ctx = await setUp(gateway);
      const order = anOrder({ orderType: 'LIMIT', price: 90 });
      const ack = await ctx.service.place(order);
      expect(ack.brokerOrderId).toBe('B1');
      const ours = gateway.orders[0].correlationId;
      gateway.orders = [
        {
          brokerOrderId: 'B1',
          correlationId: 'someone-else',
          status: OrderStatus.TRADED,
          quantity: 5,
          filledQuantity: 5,
        },
      ];
      return { gateway, order, ours, ...ctx };
    }
    const modifyTerms = { orderType: 'LIMIT' as const, validity: 'DAY' as const, quantity: 10 };

    it('cancel and modify of an order whose id the broker gave to another order: refused as unknown to the broker, the other order untouched, counted', async () => {
      const { gateway, order, service, seen, db } = await reused();
      await expect(service.cancel(order.orderId)).rejects.toMatchObject({
        name: 'ExecutionRejectedError',
        brokerCode: UNKNOWN_TO_BROKER,
        reason: expect.stringMatching(/unknown to the broker/),
      });
      await expect(service.modify(order.orderId, modifyTerms)).rejects.toMatchObject({
        brokerCode: UNKNOWN_TO_BROKER,
      });
      expect(gateway.cancelled).toEqual([]);
      expect(gateway.modified).toEqual([]);
      expect(service.stats.foreignBrokerOrders).toBe(2);
      expect(seen.filter((e) => e.event.type === 'BROKER_UPDATE')).toEqual([]);
      await service.beforeApplicationShutdown();
      await db.destroy();
    });

    it('an update or book row of the other order under our old id is never applied to ours', async () => {
      const { gateway, service, seen, db } = await reused();
      const before = seen.length;
      gateway.listener.orderUpdate(gateway.orders[0], 'socket');
      const reconciled = await service.reconcile('manual');
      expect(reconciled.orders).toBe(0);
      expect(seen.length).toBe(before);
      expect(service.stats.unmatchedUpdates).toBe(1);
      expect(service.stats.foreignBrokerOrders).toBe(2);
      await service.beforeApplicationShutdown();
      await db.destroy();
    });

    it('a lookup answered with another order is "not found"', async () => {
      const { gateway, order, ours, service, db } = await reused();
      // A broker that answers a lookup by our correlationId with some other order.
      gateway.lookup = () => Promise.resolve(gateway.orders[0]);
      expect(ours).toBeDefined();
      expect(await service.lookup(order.orderId)).toEqual({ found: false });
      expect(service.stats.foreignBrokerOrders).toBe(1);
      await service.beforeApplicationShutdown();
      await db.destroy();
    });

    it('an id the broker no longer knows at all: refused the same way, not counted as foreign', async () => {
      const { gateway, order, service, db } = await reused();
      gateway.orders = [];
      await expect(service.cancel(order.orderId)).rejects.toMatchObject({
        brokerCode: UNKNOWN_TO_BROKER,
      });
      expect(gateway.cancelled).toEqual([]);
      expect(service.stats.foreignBrokerOrders).toBe(0);
      await service.beforeApplicationShutdown();
      await db.destroy();
    });

    it('control: while the order under the id is ours, cancel and modify reach it', async () => {
      const gateway = new ScriptedGateway();
      const { service, db } = await setUp(gateway);
      const order = anOrder({ orderType: 'LIMIT', price: 90 });
      await service.place(order);
      gateway.orders[0] = { ...gateway.orders[0], status: OrderStatus.PENDING };
      await service.modify(order.orderId, modifyTerms);
      await service.cancel(order.orderId);
      expect(gateway.modified).toEqual(['B1']);
      expect(gateway.cancelled).toEqual(['B1']);
      expect(service.stats.foreignBrokerOrders).toBe(0);
      await service.beforeApplicationShutdown();
      await db.destroy();
    });
  });

  it('the routing record is stored before the request leaves; a repeat sends nothing and keeps one record', async () => {
    const gateway = new ScriptedGateway();
    const { db, service } = await setUp(gateway);
    const order = anOrder();
    const placing = gateway.place.bind(gateway);
    let storedBeforeSend = false;
    gateway.place = async (o, correlationId) => {
      const row = await db.getRepository(ExecutionOrderEntity).findOneBy({ orderId: o.orderId });
      storedBeforeSend = row?.correlationId === correlationId && row.brokerOrderId === null;
      return placing(o, correlationId);
    };
    const first = await service.place(order);
    expect(storedBeforeSend).toBe(true);
    // Placed again once the broker named it: the same broker order, nothing sent.
    expect(await service.place(order)).toEqual({ brokerOrderId: first.brokerOrderId });
    expect(gateway.orders).toHaveLength(1);
    expect(await db.getRepository(ExecutionOrderEntity).countBy({ orderId: order.orderId })).toBe(
      1,
    );
    await service.beforeApplicationShutdown();
    await db.destroy();
  });
});

describe('PaperGateway behind ExecutionService (fixed tick store, real SQLite)', () => {
  it('fills a MARKET buy at the ask and a crossing LIMIT sell at the bid into the trades table', async () => {
    const market = new FixedMarket();
    market.set('2885', 100, 99.95, 100.05);
    const gateway = new PaperGateway(market as unknown as MarketDataService, {
      matchIntervalMs: 60_000,
    });
    const { db, seen, service, portfolio } = await setUp(gateway, market);
    expect(service.gatewayKind).toBe('paper');
    const buy = anOrder({ quantity: 5 });
    await service.place(buy);
    const sell = anOrder({
      userId: buy.userId,
      side: 'SELL',
      quantity: 2,
      orderType: 'LIMIT',
      price: 101,
    });
    await service.place(sell);
    await new Promise((r) => setImmediate(r));
    gateway.matchAll();
    // The sell waits: the bid is below its price. Then the market moves up.
    market.set('2885', 101.1, 101.05, 101.15);
    gateway.matchAll();
    await until(() => seen.filter((e) => e.event.type === 'FILL').length === 2);

    const rows = await db.getRepository(TradeEntity).findBy({ userId: buy.userId });
    expect(rows.map((r) => [r.side, r.quantity, r.priceUnits, r.source]).sort()).toEqual([
      ['BUY', 5, 1_000_500, 'paper'],
      ['SELL', 2, 1_010_500, 'paper'],
    ]);
    await until(() =>
      seen.some(
        (e) =>
          e.orderId === sell.orderId &&
          e.event.type === 'BROKER_UPDATE' &&
          e.event.status === OrderStatus.TRADED,
      ),
    );
    const [position] = portfolio.positions(buy.userId);
    expect(position.view.netQuantity).toBe(3);
    // Realised on 2 sold at 101.05 against 100.05 bought: Rs 2.00.
    expect(position.view.realizedPnlPaise).toBe(200n);
    expect(await service.lookup(sell.orderId)).toMatchObject({
      found: true,
      status: OrderStatus.TRADED,
      filledQuantity: 2,
    });
    await service.beforeApplicationShutdown();
    await db.destroy();
  });

  it('after a restart, paper orders the engine forgot are reported over, never resent', async () => {
    const market = new FixedMarket();
    market.set('2885', 100, 99.95, 100.05);
    const paper = () =>
      new PaperGateway(market as unknown as MarketDataService, { matchIntervalMs: 60_000 });
    const first = await setUp(paper(), market);
    const filled = anOrder({ quantity: 5 });
    const working = anOrder({ userId: filled.userId, orderType: 'LIMIT', price: 90 });
    await first.service.place(filled);
    await first.service.place(working);
    await until(() =>
      first.seen.some(
        (e) =>
          e.orderId === filled.orderId &&
          e.event.type === 'BROKER_UPDATE' &&
          e.event.status === OrderStatus.TRADED,
      ),
    );
    await first.service.beforeApplicationShutdown();

    const second = await setUp(paper(), market, first.db);
    expect(second.seen.filter((e) => e.orderId === working.orderId).map((e) => e.event)).toEqual([
      expect.objectContaining({
        type: 'BROKER_UPDATE',
        status: OrderStatus.CANCELLED,
        filledQuantity: 0,
      }),
    ]);
    expect(await second.service.lookup(filled.orderId)).toMatchObject({
      found: true,
      status: OrderStatus.TRADED,
      filledQuantity: 5,
    });
    expect(await second.service.lookup(working.orderId)).toMatchObject({
      found: true,
      status: OrderStatus.CANCELLED,
    });
    expect(second.portfolio.positions(filled.userId)[0].view.netQuantity).toBe(5);
    await second.service.beforeApplicationShutdown();
    await second.db.destroy();
  });

  it('refuses a LIMIT without a price and cancels an unfilled IOC', async () => {
    const market = new FixedMarket();
    market.set('2885', 100, 99.95, 100.05);
    const gateway = new PaperGateway(market as unknown as MarketDataService, {
      matchIntervalMs: 60_000,
    });
    const { db, seen, service } = await setUp(gateway, market);
    await expect(service.place(anOrder({ orderType: 'LIMIT' }))).rejects.toMatchObject({
      name: 'ExecutionRejectedError',
    });
    const ioc = anOrder({ orderType: 'LIMIT', price: 90, validity: 'IOC' });
    await service.place(ioc);
    await until(() =>
      seen.some(
        (e) =>
          e.orderId === ioc.orderId &&
          e.event.type === 'BROKER_UPDATE' &&
          e.event.status === OrderStatus.CANCELLED,
      ),
    );
    expect(seen.some((e) => e.event.type === 'FILL')).toBe(false);
    await service.beforeApplicationShutdown();
    await db.destroy();
  });
});

describe('PortfolioService publishing (conflation) and risk snapshot', () => {
  /** A paper account long 10 at the ask 100.05, with every position update recorded. */
  async function aLongPosition() {
    const market = new FixedMarket();
    market.set('2885', 100, 99.95, 100.05);
    const gateway = new PaperGateway(market as unknown as MarketDataService, {
      matchIntervalMs: 60_000,
    });
    const { db, events, service, portfolio } = await setUp(gateway, market);
    const published: PositionsUpdatedPayload[] = [];
    events.on(POSITIONS_UPDATED, (p: PositionsUpdatedPayload) => published.push(p));
    const buy = anOrder({ quantity: 10 });
    await service.place(buy);
    await until(() => portfolio.positions(buy.userId)[0]?.view.netQuantity === 10);
    return { market, db, service, portfolio, published, buy };
  }

  it('publishes a position once per change of quantity or P&L, and marks it to the LTP', async () => {
    const { market, db, service, portfolio, published, buy } = await aLongPosition();

    expect(portfolio.publishChanges()).toBe(1);
    expect(portfolio.publishChanges()).toBe(0);
    market.set('2885', 101, 100.95, 101.05);
    expect(portfolio.publishChanges()).toBe(1);
    const last = published.at(-1)!;
    // Bought 10 at the ask 100.05, marked at 101: +Rs 9.50.
    expect(last.view.unrealizedPnlPaise).toBe(950n);
    expect(last.key.userId).toBe(buy.userId);

    const snapshot = portfolio.riskSnapshot(buy.userId, ExchangeSegment.NSE_EQ, '2885', 'INTRADAY');
    expect(snapshot).toEqual({ netQuantity: 10, grossExposurePaise: 101_000, dayPnlPaise: 950 });
    expect(
      portfolio.riskSnapshot(randomUUID(), ExchangeSegment.NSE_EQ, '2885', 'INTRADAY'),
    ).toEqual({ netQuantity: 0, grossExposurePaise: 0, dayPnlPaise: 0 });
    await service.beforeApplicationShutdown();
    await db.destroy();
  });

  it('publishes a position that went flat once, then not again while only the price moves', async () => {
    const { market, db, service, portfolio, published, buy } = await aLongPosition();
    expect(portfolio.publishChanges()).toBe(1);
    const sell = anOrder({ userId: buy.userId, side: 'SELL', quantity: 10 });
    await service.place(sell);
    await until(() => portfolio.positions(buy.userId)[0]?.view.netQuantity === 0);
    expect(portfolio.publishChanges()).toBe(1);
    expect(published.at(-1)!.view.netQuantity).toBe(0);
    for (const ltp of [101, 102, 99]) {
      market.set('2885', ltp, ltp - 0.05, ltp + 0.05);
      expect(portfolio.publishChanges()).toBe(0);
    }
    await service.beforeApplicationShutdown();
    await db.destroy();
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
}
