import type { Instrument } from '@app/dhan/types';
import type { DhanSimulator } from '@app/dhan-simulator';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { correlationIdFor } from '../src/execution/domain';
import { ExecutionService } from '../src/execution/execution.service';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { ORDER_TRANSITION, type OrderTransitionEvent } from '../src/orders/orders.events';
import { until } from './dhan/helpers';
import {
  FUNDS,
  adminToken,
  anEquity,
  codes,
  newTrader,
  ordersConfig,
  priceNear,
  type Trader,
} from './orders.helpers';
import { gql } from './utils/graphql-client';
import { metricValue } from './utils/metrics';
import { createTestApp, type TestApp } from './utils/test-app';

const BASKET_FIELDS = `id status hedgeFirst rejectionReason rejectedLeg message
  legs { index sendRank clientOrderId quantity order { id status clientOrderId rejectionReason } }`;
const PLACE_BASKET = `mutation B($input: PlaceBasketInput!) { placeBasket(input: $input) { ${BASKET_FIELDS} } }`;
const CANCEL_BASKET = `mutation C($id: ID!) { cancelBasket(id: $id) { ${BASKET_FIELDS} } }`;
const BASKET = `query B($id: ID!) { basket(id: $id) { ${BASKET_FIELDS} } }`;
const BASKETS = `query { baskets { id status } }`;
const ORDERS = `query { orders { id clientOrderId status } }`;
const SET_LIMITS = `mutation S($userId: ID, $input: RiskLimitsInput!) {
  setRiskLimits(userId: $userId, input: $input) { maxQuantityPerOrder }
}`;

interface Leg {
  index: number;
  sendRank: number | null;
  clientOrderId: string;
  quantity: number;
  order: {
    id: string;
    status: string;
    clientOrderId: string;
    rejectionReason: string | null;
  } | null;
}
interface Basket {
  id: string;
  status: string;
  hedgeFirst: boolean;
  rejectionReason: string | null;
  rejectedLeg: number | null;
  message: string | null;
  legs: Leg[];
}

let keySeq = 0;
const key = (label: string) => `${label}-${Date.now()}-${++keySeq}`;

describe('baskets (e2e: all-or-nothing risk, legs in order through the governor, cancel)', () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let emitter: EventEmitter2;
  let equity: Instrument;
  let option: Instrument;
  let admin: string;
  const statusOf = new Map<string, string>();

  beforeAll(async () => {
    t = await createTestApp({}, { configure: ordersConfig });
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    // Still prices: a leg's price stays where the test put it against the market (a cheap
    // option moving 5 % between the basket's check and its leg's would make the basket PARTIAL).
    sim.market.setVolatilityScale(0);
    emitter = t.app.get(EventEmitter2);
    emitter.on(ORDER_TRANSITION, (e: OrderTransitionEvent) => statusOf.set(e.orderId, e.to));
    await t.app.get(ExecutionService).whenReady();
    equity = await anEquity(t);
    const instruments = t.app.get(InstrumentsService);
    option = instruments
      .all()
      .filter(
        (i) => i.segment === 'NSE_FNO' && i.instrumentType === 'OPTIDX' && i.underlying === 'NIFTY',
      )
      .map((i) => ({ i, p: priceNear(sim, i, 1) }))
      .filter(({ p }) => p >= 5 && p <= 40)
      .sort((a, b) => a.p - b.p)[0].i;
    admin = await adminToken(t);
  }, 90_000);

  afterAll(async () => {
    await t?.close();
  });

  const leg = (over: Record<string, unknown> = {}, instrument: Instrument = equity) => ({
    clientOrderId: key('leg'),
    instrument: { segment: instrument.segment, securityId: instrument.securityId },
    side: 'BUY',
    quantity: instrument.lotSize,
    orderType: 'LIMIT',
    // Resting: below the market, so the legs stay working at the broker.
    price: priceNear(sim, instrument, 0.95),
    productType: 'INTRADAY',
    validity: 'DAY',
    ...over,
  });

  const placeBasket = async (trader: Trader, input: Record<string, unknown>) => {
    const r = await trader.call<{ placeBasket: Basket }>(PLACE_BASKET, { input });
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!.placeBasket;
  };

  const ended = (status: string) => metricValue(t.baseUrl, 'baskets_ended_total', { status });
  const legsPlaced = () => metricValue(t.baseUrl, 'basket_legs_total', { outcome: 'placed' });

  /** Our order ids in the order the simulator received them. */
  const arrivalOrder = (orderIds: string[]): string[] => {
    const byCorrelation = new Map(orderIds.map((id) => [correlationIdFor(id), id]));
    return sim.orders
      .allOrders()
      .filter((o) => byCorrelation.has(o.correlationId))
      .map((o) => byCorrelation.get(o.correlationId)!);
  };

  it('one leg failing risk: the basket is REJECTED with that leg and reason, nothing reaches the simulator, no order is stored, no margin held', async () => {
    const trader = await newTrader(t, admin, 'basket-risk');
    const limits = await gql(
      t.adminUrl,
      SET_LIMITS,
      {
        userId: trader.id,
        input: { maxQuantityPerOrder: 10 },
      },
      admin,
    );
    expect(limits.errors).toBeUndefined();
    const before = sim.orders.allOrders().length;
    const rejectedBefore = await ended('REJECTED');
    const basket = await placeBasket(trader, {
      legs: [leg({ quantity: 5 }), leg({ quantity: 11 }), leg({ quantity: 5 })],
    });
    expect(await ended('REJECTED')).toBe(rejectedBefore + 1);
    expect(basket).toMatchObject({
      status: 'REJECTED',
      rejectedLeg: 1,
      rejectionReason: 'QTY_ABOVE_MAX',
    });
    expect(basket.legs.every((l) => l.order === null && l.sendRank === null)).toBe(true);
    expect(sim.orders.allOrders().length).toBe(before);
    expect((await trader.ok<{ orders: unknown[] }>(ORDERS)).orders).toHaveLength(0);
    const { funds } = await trader.ok<{ funds: { reserved: number } }>(FUNDS);
    expect(funds.reserved).toBe(0);
    // Stored: the rejected basket is listed and read back.
    const { baskets } = await trader.ok<{ baskets: Array<{ id: string; status: string }> }>(
      BASKETS,
    );
    expect(baskets).toEqual([{ id: basket.id, status: 'REJECTED' }]);
  }, 60_000);

  it('the combined margin above the funds: REJECTED at the leg that does not fit (INSUFFICIENT_FUNDS), nothing sent', async () => {
    const trader = await newTrader(t, admin, 'basket-margin');
    await gql(
      t.adminUrl,
      SET_LIMITS,
      {
        userId: trader.id,
        input: {
          maxQuantityPerOrder: 10_000_000,
          maxOrderValuePaise: 1e13,
          maxPositionValuePaise: 1e13,
          maxGrossExposurePaise: 1e13,
        },
      },
      admin,
    );
    const { funds } = await trader.ok<{ funds: { available: number } }>(FUNDS);
    const price = priceNear(sim, equity, 0.95);
    // INTRADAY equity margin is 20 % of the value: each leg alone needs 40 % of the funds.
    const quantity = Math.floor((funds.available * 0.4) / (price * 0.2));
    const before = sim.orders.allOrders().length;
    const basket = await placeBasket(trader, {
      legs: [leg({ quantity, price }), leg({ quantity, price }), leg({ quantity, price })],
    });
    expect(basket).toMatchObject({
      status: 'REJECTED',
      rejectedLeg: 2,
      rejectionReason: 'INSUFFICIENT_FUNDS',
    });
    expect(sim.orders.allOrders().length).toBe(before);
    expect((await trader.ok<{ orders: unknown[] }>(ORDERS)).orders).toHaveLength(0);
    const after = await trader.ok<{ funds: { reserved: number; available: number } }>(FUNDS);
    expect(after.funds).toMatchObject({ reserved: 0, available: funds.available });

    // Two of those legs fit: placed, both working at the broker.
    const fits = await placeBasket(trader, {
      legs: [leg({ quantity, price }), leg({ quantity, price })],
    });
    expect(fits).toMatchObject({ status: 'PLACED', message: null });
    expect(fits.legs.every((l) => l.order !== null && l.order.status !== 'REJECTED')).toBe(true);
  }, 60_000);

  it('a good basket: every leg at the simulator, in the order given; a repeat is the same basket and sends nothing more', async () => {
    const trader = await newTrader(t, admin, 'basket-good');
    const input = { legs: [leg({ quantity: 1 }), leg({ quantity: 2 }), leg({ quantity: 3 })] };
    const placedBefore = await ended('PLACED');
    const legsBefore = await legsPlaced();
    const basket = await placeBasket(trader, input);
    expect(basket).toMatchObject({ status: 'PLACED', message: null });
    // On /metrics: one more basket PLACED, three more legs placed.
    expect(await ended('PLACED')).toBe(placedBefore + 1);
    expect(await legsPlaced()).toBe(legsBefore + 3);
    expect(basket.legs.map((l) => l.sendRank)).toEqual([0, 1, 2]);
    const ids = basket.legs.map((l) => l.order!.id);
    await until(() => arrivalOrder(ids).length === 3, 'three legs at the simulator', [
      [emitter, ORDER_TRANSITION],
    ]);
    expect(arrivalOrder(ids)).toEqual(ids);
    expect(
      ids.map(
        (id) =>
          sim.orders.allOrders().find((o) => o.correlationId === correlationIdFor(id))!.quantity,
      ),
    ).toEqual([1, 2, 3]);

    const again = await placeBasket(trader, input);
    expect(again.id).toBe(basket.id);
    expect(arrivalOrder(ids)).toHaveLength(3);
    expect(await ended('PLACED')).toBe(placedBefore + 1);
    expect(await legsPlaced()).toBe(legsBefore + 3);
    // A leg key used again with other legs is a CONFLICT.
    const other = await trader.call(PLACE_BASKET, {
      input: { legs: [input.legs[0], leg({ quantity: 9 })] },
    });
    expect(codes(other)).toEqual(['CONFLICT']);
  }, 60_000);

  it('20 legs with the default limits: the basket is one order against the rate limit; every leg reaches the simulator, in order, through the 10/s budget', async () => {
    const trader = await newTrader(t, admin, 'basket-twenty');
    const legs = Array.from({ length: 20 }, (_, i) => leg({ quantity: i + 1 }));
    const basket = await placeBasket(trader, { legs });
    expect(basket).toMatchObject({ status: 'PLACED', message: null });
    const ids = basket.legs.map((l) => l.order!.id);
    await until(() => arrivalOrder(ids).length === 20, 'twenty legs at the simulator', [
      [emitter, ORDER_TRANSITION],
    ]);
    expect(arrivalOrder(ids)).toEqual(ids);
    // A second basket at once: the first counted as one order, so this one passes too.
    const next = await placeBasket(trader, { legs: [leg({ quantity: 1 })] });
    expect(next.status).toBe('PLACED');
  }, 90_000);

  it('hedgeFirst: the bought option goes before the sold one whatever the given order', async () => {
    const trader = await newTrader(t, admin, 'basket-hedge');
    await gql(
      t.adminUrl,
      SET_LIMITS,
      {
        userId: trader.id,
        input: {
          maxOrderValuePaise: 1e13,
          maxPositionValuePaise: 1e13,
          maxGrossExposurePaise: 1e13,
        },
      },
      admin,
    );
    const sold = leg({ side: 'SELL', price: priceNear(sim, option, 1.05) }, option);
    const bought = leg({ side: 'BUY', price: priceNear(sim, option, 0.95) }, option);
    const basket = await placeBasket(trader, { legs: [sold, bought], hedgeFirst: true });
    expect(basket).toMatchObject({ status: 'PLACED', message: null });
    expect(basket.legs.map((l) => l.sendRank)).toEqual([1, 0]);
    const [soldId, boughtId] = basket.legs.map((l) => l.order!.id);
    await until(() => arrivalOrder([soldId, boughtId]).length === 2, 'both legs at the simulator', [
      [emitter, ORDER_TRANSITION],
    ]);
    expect(arrivalOrder([soldId, boughtId])).toEqual([boughtId, soldId]);
  }, 60_000);

  it('cancelBasket cancels the working legs at the broker; the basket ends CANCELLED', async () => {
    const trader = await newTrader(t, admin, 'basket-cancel');
    const basket = await placeBasket(trader, {
      legs: [leg({ quantity: 1 }), leg({ quantity: 1 })],
    });
    const ids = basket.legs.map((l) => l.order!.id);
    await until(() => ids.every((id) => statusOf.get(id) === 'PENDING'), 'legs PENDING', [
      [emitter, ORDER_TRANSITION],
    ]);
    const r = await trader.call<{ cancelBasket: Basket }>(CANCEL_BASKET, { id: basket.id });
    expect(r.errors).toBeUndefined();
    expect(r.data!.cancelBasket.status).toBe('CANCELLED');
    await until(() => ids.every((id) => statusOf.get(id) === 'CANCELLED'), 'legs CANCELLED', [
      [emitter, ORDER_TRANSITION],
    ]);
    for (const id of ids) {
      const atBroker = sim.orders
        .allOrders()
        .filter((o) => o.correlationId === correlationIdFor(id));
      expect(atBroker.map((o) => o.status)).toEqual(['CANCELLED']);
    }
    const read = await trader.ok<{ basket: Basket }>(BASKET, { id: basket.id });
    expect(read.basket.legs.map((l) => l.order!.status)).toEqual(['CANCELLED', 'CANCELLED']);
    // Another dealer's basket is not found.
    const stranger = await newTrader(t, admin, 'basket-stranger');
    expect(codes(await stranger.call(BASKET, { id: basket.id }))).toEqual(['NOT_FOUND']);
  }, 60_000);

  it('bad input stores nothing: 21 legs, a repeated key, a leg placeOrder refuses', async () => {
    const trader = await newTrader(t, admin, 'basket-bad');
    const many = Array.from({ length: 21 }, () => leg({ quantity: 1 }));
    expect(codes(await trader.call(PLACE_BASKET, { input: { legs: many } }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    const one = leg({ quantity: 1 });
    expect(codes(await trader.call(PLACE_BASKET, { input: { legs: [one, one] } }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    const offTick = leg({ quantity: 1, price: priceNear(sim, equity, 0.95) + equity.tickSize / 2 });
    expect(codes(await trader.call(PLACE_BASKET, { input: { legs: [leg(), offTick] } }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect((await trader.ok<{ baskets: unknown[] }>(BASKETS)).baskets).toHaveLength(0);
  }, 60_000);
});
