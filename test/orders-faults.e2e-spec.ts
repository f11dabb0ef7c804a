import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Instrument } from '@app/dhan/types';
import { DhanSimulator } from '@app/dhan-simulator';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import {
  DHAN_ENDPOINTS,
  EMBEDDED_SIMULATOR_SEED,
  type DhanEndpoints,
} from '../src/dhan/dhan-endpoints';
import { ExecutionService } from '../src/execution/execution.service';
import { OrderStatus } from '../src/trading/order-status';
import {
  ORDER_TRANSITION,
  ORDERS_UPDATED,
  type OrderTransitionEvent,
  type OrderUpdatedEvent,
} from '../src/orders/orders.events';
import { OrdersService } from '../src/orders/orders.service';
import { until } from './dhan/helpers';
import {
  adminToken,
  anEquity,
  brokerOrdersFor,
  newTrader,
  ordersConfig,
  priceNear,
  type Trader,
} from './orders.helpers';
import { createTestApp, databaseEngine, type TestApp } from './utils/test-app';

const PLACE_ORDER = /^POST \/v2\/orders$/;
let keySeq = 0;
const key = (label: string) => `${label}-${Date.now()}-${++keySeq}`;

/** Latest published state of every order of one app. */
function track(t: TestApp) {
  const emitter = t.app.get(EventEmitter2);
  const latest = new Map<string, OrderUpdatedEvent['order']>();
  const seen: OrderUpdatedEvent['order'][] = [];
  const transitions: OrderTransitionEvent[] = [];
  emitter.on(ORDERS_UPDATED, (e: OrderUpdatedEvent) => {
    latest.set(e.order.id, e.order);
    seen.push(e.order);
  });
  emitter.on(ORDER_TRANSITION, (e: OrderTransitionEvent) => transitions.push(e));
  return {
    latest,
    seen,
    transitions,
    until: (label: string, condition: () => boolean) =>
      until(
        condition,
        label,
        [
          [emitter, ORDERS_UPDATED],
          [emitter, ORDER_TRANSITION],
        ],
        20_000,
      ),
  };
}

function limitBuy(sim: DhanSimulator, equity: Instrument) {
  return {
    clientOrderId: key('fault'),
    segment: equity.segment,
    securityId: equity.securityId,
    side: 'BUY' as const,
    quantity: 1,
    orderType: 'LIMIT' as const,
    productType: 'INTRADAY' as const,
    validity: 'DAY' as const,
    price: priceNear(sim, equity, 0.95),
  };
}

describe('order faults (e2e: ExecutionService -> embedded simulator fault hooks)', () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let orders: OrdersService;
  let alice: Trader;
  let equity: Instrument;
  let tracker: ReturnType<typeof track>;

  beforeAll(async () => {
    t = await createTestApp({}, { configure: ordersConfig });
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    tracker = track(t);
    orders = t.app.get(OrdersService);
    await t.app.get(ExecutionService).whenReady();
    await orders.whenRecovered();
    equity = await anEquity(t);
    alice = await newTrader(t, await adminToken(t), 'alice');
  });

  afterEach(() => {
    sim.rest.clearFaults();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('accepted but the answer is lost: UNKNOWN, then resolved by lookup; exactly one broker order', async () => {
    sim.rest.acceptThenTimeout({ mode: 'destroy', count: 1 });
    const placed = await orders.place(alice.id, limitBuy(sim, equity));
    expect(placed.status).toBe(OrderStatus.UNKNOWN);
    await tracker.until('resolved', () =>
      [OrderStatus.PENDING, OrderStatus.PART_TRADED, OrderStatus.TRADED].includes(
        tracker.latest.get(placed.id)!.status,
      ),
    );
    await orders.settled(placed.id);
    expect(brokerOrdersFor(sim, placed.id)).toHaveLength(1);
    const log = await orders.history(alice.id, placed.id);
    const types = log.map((e) => e.type);
    expect(types.filter((x) => x === 'SENT')).toHaveLength(1);
    expect(types).toContain('AMBIGUOUS');
    expect(types).not.toContain('RESOLVED_NOT_FOUND');
    expect((await orders.get(alice.id, placed.id)).brokerOrderId).toBe(
      brokerOrdersFor(sim, placed.id)[0].orderId,
    );
  });

  it('a 5xx before the broker took it: looked up, not found after the grace period, resent once with the same correlationId', async () => {
    sim.rest.failWith({ pattern: PLACE_ORDER, count: 1, status: 503 });
    const placed = await orders.place(alice.id, limitBuy(sim, equity));
    await tracker.until('resent and acknowledged', () =>
      [OrderStatus.TRANSIT, OrderStatus.PENDING, OrderStatus.TRADED].includes(
        tracker.latest.get(placed.id)!.status,
      ),
    );
    await orders.settled(placed.id);
    expect(brokerOrdersFor(sim, placed.id)).toHaveLength(1);
    const types = (await orders.history(alice.id, placed.id)).map((e) => e.type);
    expect(types.filter((x) => x === 'SENT')).toHaveLength(2);
    // Either the first attempt was judged ambiguous (then looked up) or as never sent.
    if (types.includes('AMBIGUOUS')) expect(types).toContain('RESOLVED_NOT_FOUND');
  });
});

describe('restart between SENT and the broker s answer (e2e, one SQLite file, two boots)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-restart-'));
  const env = {
    DATABASE_URL: `sqlite:${path.join(dir, 'data', 'restart.sqlite')}`,
    JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    ADMIN_USERNAME: 'restart-admin',
    ADMIN_PASSWORD: crypto.randomBytes(12).toString('hex'),
  };
  const opened: TestApp[] = [];

  afterAll(async () => {
    for (const app of opened) await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // The two boots share a file, which the SQLite run gives cheaply; the code is engine-free.
  (databaseEngine() === 'sqlite' ? it : it.skip)(
    'the next boot resolves the order by lookup and sends it once: never duplicated',
    async () => {
      const first = await createTestApp(env, { configure: ordersConfig });
      opened.push(first);
      const sim1 = first.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
      const tracker1 = track(first);
      await first.app.get(ExecutionService).whenReady();
      const equity = await anEquity(first);
      const trader = await newTrader(first, await adminToken(first), 'restart-trader');
      // The request reaches the broker only after 5 s: the server dies before that.
      sim1.rest.delay({ pattern: PLACE_ORDER, ms: 5_000, count: 1 });
      const pending = first.app
        .get(OrdersService)
        .place(trader.id, limitBuy(sim1, equity))
        .catch(() => undefined);
      await tracker1.until('SENT written ahead', () =>
        tracker1.transitions.some((e) => e.type === 'SENT'),
      );
      const orderId = tracker1.seen[0].id;
      // The crash: the broker side goes first (the delayed request is cut before it is
      // handled), then the server stops with the order written as sent.
      await sim1.stop();
      expect(brokerOrdersFor(sim1, orderId)).toHaveLength(0);
      opened.splice(opened.indexOf(first), 1);
      await first.close();
      await pending;

      const second = await createTestApp(env, { configure: ordersConfig });
      opened.push(second);
      const sim2 = second.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
      const tracker2 = track(second);
      const service = second.app.get(OrdersService);
      await service.whenRecovered();
      await tracker2.until('recovered and acknowledged', () =>
        [OrderStatus.TRANSIT, OrderStatus.PENDING, OrderStatus.TRADED].includes(
          tracker2.latest.get(orderId)?.status ?? OrderStatus.NEW,
        ),
      );
      await service.settled(orderId);
      expect(brokerOrdersFor(sim2, orderId)).toHaveLength(1);
      const types = (await service.history(trader.id, orderId)).map((e) => [e.type, e.cause]);
      expect(types).toContainEqual(['RESOLVED_NOT_FOUND', 'lookup']);
      expect(types.filter(([type]) => type === 'SENT')).toHaveLength(2);
      expect(types.some(([type]) => type === 'AMBIGUOUS')).toBe(true);
    },
    120_000,
  );
});

describe('restart after the broker took the order but before its answer (e2e, one simulator across two boots)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orders-restart-found-'));
  const opened: TestApp[] = [];
  let broker: DhanSimulator;

  afterAll(async () => {
    for (const app of opened) await app.close();
    await broker?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  (databaseEngine() === 'sqlite' ? it : it.skip)(
    'the next boot finds it by correlationId and never sends it again',
    async () => {
      // One DhanHQ stand-in outlives both servers (same seed, so the same universe). Its token
      // is a JWT issued at start: each server is given it, as an operator would configure one.
      broker = new DhanSimulator({ seed: EMBEDDED_SIMULATOR_SEED, host: '127.0.0.1' });
      const urls = await broker.start();
      const simulatorOptions = { accessToken: broker.credentials.accessToken };
      const env = {
        DATABASE_URL: `sqlite:${path.join(dir, 'data', 'restart.sqlite')}`,
        JWT_SECRET: crypto.randomBytes(32).toString('hex'),
        ADMIN_USERNAME: 'restart-admin',
        ADMIN_PASSWORD: crypto.randomBytes(12).toString('hex'),
        DHAN_API_URL: urls.apiUrl,
        DHAN_FEED_URL: urls.feedUrl,
        DHAN_ORDER_UPDATE_URL: urls.orderUpdateUrl,
        DHAN_INSTRUMENTS_URL: urls.instrumentsUrl,
      };
      const first = await createTestApp(env, { configure: ordersConfig, simulatorOptions });
      opened.push(first);
      const tracker1 = track(first);
      await first.app.get(ExecutionService).whenReady();
      const equity = await anEquity(first);
      const trader = await newTrader(first, await adminToken(first), 'found-trader');
      // The broker takes the order and never answers, and its order-update socket is cut: the
      // first server learns nothing more before it stops (its lookups stop with it).
      broker.rest.acceptThenTimeout({ count: 1 });
      broker.orderUpdates.refuseConnections(true);
      broker.orderUpdates.dropConnections();
      const pending = first.app
        .get(OrdersService)
        .place(trader.id, limitBuy(broker, equity))
        .catch(() => undefined);
      await tracker1.until('SENT written ahead', () =>
        tracker1.transitions.some((e) => e.type === 'SENT'),
      );
      const orderId = tracker1.seen[0].id;
      await until(() => brokerOrdersFor(broker, orderId).length === 1, 'the broker has it');
      opened.splice(opened.indexOf(first), 1);
      await first.close();
      await pending;
      const stored = new DataSource({
        type: 'better-sqlite3',
        database: env.DATABASE_URL.slice('sqlite:'.length),
        readonly: true,
      });
      await stored.initialize();
      const [left] = (await stored.query('SELECT status FROM orders WHERE id = ?', [orderId])) as {
        status: string;
      }[];
      await stored.destroy();
      expect([OrderStatus.IN_FLIGHT, OrderStatus.UNKNOWN]).toContain(left.status);
      broker.orderUpdates.refuseConnections(false);

      const second = await createTestApp(env, { configure: ordersConfig, simulatorOptions });
      opened.push(second);
      const service = second.app.get(OrdersService);
      await service.whenRecovered();
      // Recovery may have finished before a listener could attach: read the stored state.
      const deadline = Date.now() + 20_000;
      while ((await service.get(trader.id, orderId)).status !== OrderStatus.PENDING) {
        if (Date.now() > deadline) throw new Error('not resolved after the restart');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await service.settled(orderId);
      expect(brokerOrdersFor(broker, orderId)).toHaveLength(1);
      const order = await service.get(trader.id, orderId);
      expect(order.brokerOrderId).toBe(brokerOrdersFor(broker, orderId)[0].orderId);
      const types = (await service.history(trader.id, orderId)).map((e) => e.type);
      expect(types.filter((type) => type === 'SENT')).toHaveLength(1);
      expect(types).not.toContain('RESOLVED_NOT_FOUND');
    },
    120_000,
  );
});
