import type { Instrument } from '@app/dhan/types';
import type { DhanSimulator } from '@app/dhan-simulator';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { getRepositoryToken } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { ExecutionService } from '../src/execution/execution.service';
import { OrderEntity } from '../src/orders/entities/order.entity';
import { ORDERS_UPDATED, type OrderUpdatedEvent } from '../src/orders/orders.events';
import { OrdersService } from '../src/orders/orders.service';
import { until } from './dhan/helpers';
import {
  CANCEL,
  FUNDS,
  MODIFY,
  ORDER,
  ORDERS,
  ORDER_UPDATES,
  adminToken,
  anEquity,
  brokerOrdersFor,
  codes,
  newTrader,
  ordersConfig,
  priceNear,
  type OrderView,
  type Trader,
} from './orders.helpers';
import { subscribe, type SubscriptionProbe } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

interface Funds {
  available: number;
  used: number;
  reserved: number;
  balance: number;
}

let keySeq = 0;
const key = (label: string) => `${label}-${Date.now()}-${++keySeq}`;

describe('orders over GraphQL (e2e: real app, graphql-ws, ExecutionService -> embedded simulator)', () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let emitter: EventEmitter2;
  let rows: Repository<OrderEntity>;
  let alice: Trader;
  let bob: Trader;
  let equity: Instrument;
  const latest = new Map<string, OrderUpdatedEvent['order']>();
  const probes: SubscriptionProbe[] = [];

  const statusOf = (id: string) => latest.get(id)?.status;
  const untilStatus = (id: string, status: string) =>
    until(
      () => statusOf(id) === status,
      `order ${id} ${status}`,
      [[emitter, ORDERS_UPDATED]],
      15_000,
    );

  /** Opens orderUpdates for a trader and waits until the server has registered it. */
  async function orderUpdates(trader: Trader): Promise<SubscriptionProbe> {
    const before = emitter.listenerCount(ORDERS_UPDATED);
    const probe = subscribe(t.websocketUrl, ORDER_UPDATES, trader.connectionParams);
    probes.push(probe);
    await probe.connected;
    await until(() => emitter.listenerCount(ORDERS_UPDATED) > before, 'orderUpdates registered');
    return probe;
  }

  const updatesOf = (probe: SubscriptionProbe, id: string): OrderView[] =>
    probe.received
      .map((m) => (m as { data: { orderUpdates: OrderView } }).data.orderUpdates)
      .filter((o) => o.id === id);

  function limitBuy(fraction: number, overrides: Record<string, unknown> = {}) {
    return {
      clientOrderId: key('limit'),
      instrument: { segment: equity.segment, securityId: equity.securityId },
      side: 'BUY',
      quantity: 2,
      orderType: 'LIMIT',
      productType: 'INTRADAY',
      validity: 'DAY',
      price: priceNear(sim, equity, fraction),
      ...overrides,
    };
  }

  beforeAll(async () => {
    t = await createTestApp({}, { configure: ordersConfig });
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    emitter = t.app.get(EventEmitter2);
    emitter.on(ORDERS_UPDATED, (e: OrderUpdatedEvent) => latest.set(e.order.id, e.order));
    rows = t.app.get(getRepositoryToken(OrderEntity));
    await t.app.get(ExecutionService).whenReady();
    await t.app.get(OrdersService).whenRecovered();
    equity = await anEquity(t);
    const admin = await adminToken(t);
    alice = await newTrader(t, admin, 'alice');
    bob = await newTrader(t, admin, 'bob');
  });

  afterEach(() => {
    sim.rest.clearFaults();
  });

  afterAll(async () => {
    for (const p of probes) await p.dispose();
    await t?.close();
  });

  it('MARKET order: orderUpdates streams IN_FLIGHT ... TRADED with filledQuantity and averagePrice', async () => {
    const probe = await orderUpdates(alice);
    const placed = await alice.place({
      clientOrderId: key('market'),
      instrument: { segment: equity.segment, securityId: equity.securityId },
      side: 'BUY',
      quantity: 3,
      orderType: 'MARKET',
      productType: 'INTRADAY',
      validity: 'DAY',
    });
    expect(placed.instrument).toMatchObject({
      securityId: equity.securityId,
      symbol: equity.symbol,
    });
    expect(placed.brokerOrderId).toBeTruthy();
    await until(
      () => updatesOf(probe, placed.id).some((o) => o.status === 'TRADED'),
      'TRADED on orderUpdates',
      [],
      15_000,
    );
    const statuses = updatesOf(probe, placed.id).map((o) => o.status);
    expect(statuses[0]).toBe('NEW');
    expect(statuses).toContain('IN_FLIGHT');
    expect(statuses.indexOf('IN_FLIGHT')).toBeLessThan(statuses.indexOf('TRADED'));
    const traded = await alice.order(placed.id);
    expect(traded).toMatchObject({ status: 'TRADED', filledQuantity: 3, quantity: 3 });
    expect(traded!.averagePrice).toBeGreaterThan(0);
    expect(brokerOrdersFor(sim, placed.id)).toHaveLength(1);
    // The socket's updates and fills never drove the order through an illegal transition.
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(metrics).toContain('# TYPE oms_illegal_transitions_total counter');
    expect(metrics).not.toMatch(/^oms_illegal_transitions_total\{[^}]*\} [1-9]/m);
  });

  it('LIMIT away from the market: PENDING, modified while pending, then CANCELLED', async () => {
    const placed = await alice.place(limitBuy(0.95));
    await untilStatus(placed.id, 'PENDING');
    const reserved = (await alice.ok<{ funds: Funds }>(FUNDS)).funds.reserved;
    expect(reserved).toBeGreaterThan(0);

    const newPrice = priceNear(sim, equity, 0.94);
    const modified = await alice.ok<{ modifyOrder: OrderView }>(MODIFY, {
      id: placed.id,
      input: { price: newPrice, quantity: 4 },
    });
    expect(modified.modifyOrder).toMatchObject({ status: 'PENDING', price: newPrice, quantity: 4 });
    const atBroker = brokerOrdersFor(sim, placed.id);
    expect(atBroker).toHaveLength(1);
    expect(atBroker[0]).toMatchObject({ price: newPrice, quantity: 4 });

    const cancelled = await alice.ok<{ cancelOrder: OrderView }>(CANCEL, { id: placed.id });
    expect(cancelled.cancelOrder.status).toBe('CANCELLED');
    expect(brokerOrdersFor(sim, placed.id)[0].status).toBe('CANCELLED');
    const funds = (await alice.ok<{ funds: Funds }>(FUNDS)).funds;
    expect(funds.available + funds.used + funds.reserved).toBeCloseTo(funds.balance, 2);
    expect(await rows.findOneByOrFail({ id: placed.id })).toMatchObject({ reservedPaise: 0 });
  });

  it('a risk denial comes back REJECTED with rejectionReason, not as an error', async () => {
    const r = await alice.call<{ placeOrder: OrderView }>(
      `mutation P($input: PlaceOrderInput!) { placeOrder(input: $input) { id status rejectionReason } }`,
      { input: limitBuy(0.95, { quantity: 100_001 }) },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.placeOrder).toMatchObject({
      status: 'REJECTED',
      rejectionReason: 'QTY_ABOVE_MAX',
    });
    expect(brokerOrdersFor(sim, r.data!.placeOrder.id)).toHaveLength(0);
  });

  it.each([
    ['quantity 0', { quantity: 0 }],
    ['a price off the tick', { price: 100.013 }],
    ['a LIMIT without a price', { price: null }],
    ['an unknown instrument', { instrument: { segment: 'NSE_EQ', securityId: '987654321' } }],
    ['CNC on a derivative segment', { instrument: { segment: 'NSE_FNO', securityId: '1' } }],
    ['a STOP_LOSS without a trigger', { orderType: 'STOP_LOSS' }],
  ])('bad input (%s) is BAD_USER_INPUT and stores nothing', async (_label, change) => {
    const before = await rows.count();
    const r = await alice.call(
      `mutation P($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`,
      { input: limitBuy(0.95, change) },
    );
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.data?.placeOrder ?? null).toBeNull();
    expect(await rows.count()).toBe(before);
  });

  it('ten concurrent placeOrder with one clientOrderId: one order id, one broker order', async () => {
    const input = limitBuy(0.93, { clientOrderId: key('double-click') });
    const results = await Promise.all(Array.from({ length: 10 }, () => alice.place(input)));
    const ids = new Set(results.map((r) => r.id));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect(await rows.countBy({ clientOrderId: input.clientOrderId as string })).toBe(1);
    // The broker may ask us to slow down (429): the send is retried, so wait for its ack.
    await untilStatus(id, 'PENDING');
    expect(brokerOrdersFor(sim, id)).toHaveLength(1);
    // Other terms with the same key: CONFLICT, nothing new.
    const conflict = await alice.call(
      `mutation P($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`,
      { input: { ...input, quantity: 6 } },
    );
    expect(codes(conflict)).toEqual(['CONFLICT']);
    expect(brokerOrdersFor(sim, id)).toHaveLength(1);
    await alice.ok(CANCEL, { id });
  });

  it('user B cannot see, modify, cancel or receive updates of user A s order', async () => {
    const bobsStream = await orderUpdates(bob);
    const alicesStream = await orderUpdates(alice);
    const placed = await alice.place(limitBuy(0.93));
    await untilStatus(placed.id, 'PENDING');

    const seen = await bob.call<{ order: OrderView | null }>(ORDER, { id: placed.id });
    expect(codes(seen)).toEqual(['NOT_FOUND']);
    const list = await bob.ok<{ orders: OrderView[] }>(ORDERS);
    expect(list.orders.map((o) => o.id)).not.toContain(placed.id);
    expect(codes(await bob.call(MODIFY, { id: placed.id, input: { quantity: 8 } }))).toEqual([
      'NOT_FOUND',
    ]);
    expect(codes(await bob.call(CANCEL, { id: placed.id }))).toEqual(['NOT_FOUND']);
    expect(brokerOrdersFor(sim, placed.id)[0]).toMatchObject({ quantity: 2, status: 'PENDING' });

    // A's own cancel goes through and reaches A's stream; B's stream stays silent.
    await alice.ok(CANCEL, { id: placed.id });
    await until(
      () => updatesOf(alicesStream, placed.id).some((o) => o.status === 'CANCELLED'),
      'CANCELLED on A s stream',
    );
    expect(updatesOf(bobsStream, placed.id)).toEqual([]);
    expect((await alice.ok<{ orders: OrderView[] }>(ORDERS)).orders.map((o) => o.id)).toContain(
      placed.id,
    );
  });
});
