import type { Instrument } from '@app/dhan/types';
import type { DhanSimulator } from '@app/dhan-simulator';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { ExecutionService } from '../src/execution/execution.service';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { ORDER_TRANSITION, type OrderTransitionEvent } from '../src/orders/orders.events';
import { until } from './dhan/helpers';
import {
  CANCEL,
  adminToken,
  brokerOrdersFor,
  newTrader,
  ordersConfig,
  priceNear,
  type Trader,
} from './orders.helpers';
import { createTestApp, type TestApp } from './utils/test-app';

const SLICED_FIELDS =
  'id clientOrderId status quantity filledQuantity averagePrice parentId sliceCount';
const PLACE = `mutation P($input: PlaceOrderInput!) { placeOrder(input: $input) { ${SLICED_FIELDS} } }`;
const ORDERS = `query { orders { ${SLICED_FIELDS} } }`;

interface Sliced {
  id: string;
  clientOrderId: string;
  status: string;
  quantity: number;
  filledQuantity: number;
  averagePrice: number | null;
  parentId: string | null;
  sliceCount: number;
}

let keySeq = 0;
const key = (label: string) => `${label}-${Date.now()}-${++keySeq}`;

describe('freeze-quantity slicing (e2e: NIFTY option, freeze 1,800, simulator over sockets)', () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let emitter: EventEmitter2;
  let option: Instrument;
  let trader: Trader;
  const statusOf = new Map<string, string>();
  // Freeze 1,800 with lots of 65: slices of 27 lots (1,755); 94 lots is 3.5 freezes' worth.
  const quantity = 94 * 65;

  beforeAll(async () => {
    t = await createTestApp({}, { configure: ordersConfig });
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    // Still prices: a cheap option can move several per cent while a loaded machine places the
    // first test's orders, and the second test's resting price (8 % below) and its funds are
    // computed from the price the test read.
    sim.market.setVolatilityScale(0);
    emitter = t.app.get(EventEmitter2);
    emitter.on(ORDER_TRANSITION, (e: OrderTransitionEvent) => statusOf.set(e.orderId, e.to));
    await t.app.get(ExecutionService).whenReady();
    const instruments = t.app.get(InstrumentsService);
    await instruments.ready();
    // A cheap NIFTY option, so 6,110 units stay within the paper funds.
    option = instruments
      .all()
      .filter(
        (i) => i.segment === 'NSE_FNO' && i.instrumentType === 'OPTIDX' && i.underlying === 'NIFTY',
      )
      .map((i) => ({ i, p: priceNear(sim, i, 1) }))
      .filter(({ p }) => p >= 5 && p <= 40)
      .sort((a, b) => a.p - b.p)[0].i;
    expect(option.lotSize).toBe(65);
    trader = await newTrader(t, await adminToken(t), 'slicer');
  }, 90_000);

  afterAll(async () => {
    await t?.close();
  });

  const order = (fraction: number, clientOrderId = key('big')) => ({
    clientOrderId,
    instrument: { segment: option.segment, securityId: option.securityId },
    side: 'BUY',
    quantity,
    orderType: 'LIMIT',
    price: priceNear(sim, option, fraction),
    productType: 'INTRADAY',
    validity: 'DAY',
  });

  async function childrenOf(parentId: string): Promise<Sliced[]> {
    const { orders } = await trader.ok<{ orders: Sliced[] }>(ORDERS);
    return orders
      .filter((o) => o.parentId === parentId)
      .sort((a, b) => a.clientOrderId.localeCompare(b.clientOrderId));
  }

  it('3.5 x the freeze quantity goes as 4 children; the parent shows their fills and exact average; a repeat is the same order', async () => {
    const input = order(1.05);
    const parent = (await trader.ok<{ placeOrder: Sliced }>(PLACE, { input })).placeOrder;
    expect(parent).toMatchObject({ quantity, sliceCount: 4, parentId: null });
    await until(() => statusOf.get(parent.id) === 'TRADED', 'the parent TRADED', [
      [emitter, ORDER_TRANSITION],
    ]);

    const children = await childrenOf(parent.id);
    expect(children.map((c) => c.quantity)).toEqual([1755, 1755, 1755, 845]);
    expect(children.every((c) => c.status === 'TRADED')).toBe(true);
    for (const c of children) {
      const atBroker = brokerOrdersFor(sim, c.id);
      expect(atBroker).toHaveLength(1);
      expect(atBroker[0]).toMatchObject({ quantity: c.quantity, status: 'TRADED' });
    }
    expect(brokerOrdersFor(sim, parent.id)).toHaveLength(0);

    // The average over every child's fills, in integer price units (1/10,000 rupee).
    const units = children.reduce(
      (sum, c) => sum + c.filledQuantity * Math.round((c.averagePrice ?? 0) * 10_000),
      0,
    );
    const [shown] = (await trader.ok<{ orders: Sliced[] }>(ORDERS)).orders.filter(
      (o) => o.id === parent.id,
    );
    expect(shown).toMatchObject({ status: 'TRADED', filledQuantity: quantity });
    expect(Math.round(shown.averagePrice! * 10_000)).toBe(Math.round(units / quantity));

    const again = (await trader.ok<{ placeOrder: Sliced }>(PLACE, { input })).placeOrder;
    expect(again.id).toBe(parent.id);
    expect(await childrenOf(parent.id)).toHaveLength(4);
  }, 60_000);

  it('cancelling the parent cancels its working children at the broker; the parent ends CANCELLED', async () => {
    const parent = (await trader.ok<{ placeOrder: Sliced }>(PLACE, { input: order(0.92) }))
      .placeOrder;
    expect(parent.sliceCount).toBe(4);
    await until(() => statusOf.get(parent.id) === 'PENDING', 'the parent PENDING', [
      [emitter, ORDER_TRANSITION],
    ]);
    const children = await childrenOf(parent.id);
    await until(
      () => children.every((c) => statusOf.get(c.id) === 'PENDING'),
      'every child PENDING',
      [[emitter, ORDER_TRANSITION]],
    );

    const cancelled = await trader.call(CANCEL, { id: parent.id });
    expect(cancelled.errors).toBeUndefined();
    await until(() => statusOf.get(parent.id) === 'CANCELLED', 'the parent CANCELLED', [
      [emitter, ORDER_TRANSITION],
    ]);
    for (const c of children) {
      expect(brokerOrdersFor(sim, c.id).map((o) => o.status)).toEqual(['CANCELLED']);
    }
  }, 60_000);
});
