import type { Instrument } from '@app/dhan/types';
import type { DhanSimulator } from '@app/dhan-simulator';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { ExecutionService } from '../src/execution/execution.service';
import { ORDERS_UPDATED, type OrderUpdatedEvent } from '../src/orders/orders.events';
import { OrdersService } from '../src/orders/orders.service';
import { until } from './dhan/helpers';
import {
  CANCEL,
  adminToken,
  anEquity,
  newTrader,
  ordersConfig,
  priceNear,
  type OrderView,
  type Trader,
} from './orders.helpers';
import { createTestApp, type TestApp } from './utils/test-app';

const FUNDS_FULL = `query { funds { available used reserved balance realizedPnl unrealizedPnl charges } }`;

interface Funds {
  available: number;
  used: number;
  reserved: number;
  balance: number;
  realizedPnl: number;
  unrealizedPnl: number;
  charges: number;
}

let keySeq = 0;
const key = (label: string) => `${label}-${Date.now()}-${++keySeq}`;
const paise = (rupees: number) => Math.round(rupees * 100);

describe.each([
  ['charges off', false],
  ['charges on', true],
])('funds that settle (e2e, embedded simulator, %s)', (_label, chargesOn) => {
  let t: TestApp;
  let sim: DhanSimulator;
  let emitter: EventEmitter2;
  let trader: Trader;
  let equity: Instrument;
  const latest = new Map<string, OrderUpdatedEvent['order']>();

  const untilStatus = (id: string, status: string) =>
    until(
      () => latest.get(id)?.status === status,
      `order ${id} ${status}`,
      [[emitter, ORDERS_UPDATED]],
      15_000,
    );
  const funds = async () => (await trader.ok<{ funds: Funds }>(FUNDS_FULL)).funds;
  /** Polls funds (bounded) until `check` holds: settlement follows the trade event. */
  async function fundsWhen(check: (f: Funds) => boolean, label: string): Promise<Funds> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const f = await funds();
      if (check(f)) return f;
      if (Date.now() > deadline) throw new Error(`funds never ${label}: ${JSON.stringify(f)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Paise value of an order's trades, as the broker filled it (one or more trades). */
  async function tradedValue(orderId: string): Promise<number> {
    const { trades } = await trader.ok<{
      trades: Array<{ orderId: string; quantity: number; price: number }>;
    }>(`query { trades { orderId quantity price } }`);
    return trades
      .filter((x) => x.orderId === orderId)
      .reduce((sum, x) => sum + x.quantity * paise(x.price), 0);
  }

  /**
   * Cancels until the order is CANCELLED. The broker may refuse a cancel (its order-rate limit
   * under a burst of cycles on a loaded machine): the OMS then looks the order up, records
   * CANCEL_REJECTED and leaves it PENDING, as a user would see it; the user asks again.
   */
  async function cancelUntilEnded(id: string): Promise<void> {
    const orders = t.app.get(OrdersService);
    const refusals = async () =>
      (await orders.history(trader.id, id)).filter((e) => e.type === 'CANCEL_REJECTED').length;
    for (let attempt = 1; attempt <= 5; attempt++) {
      const cancelled = await trader.ok<{ cancelOrder: OrderView }>(CANCEL, { id });
      expect(['PENDING', 'CANCELLED']).toContain(cancelled.cancelOrder.status);
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        if ((await orders.get(trader.id, id)).status === 'CANCELLED') return;
        if ((await refusals()) >= attempt) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    throw new Error(`order ${id} not cancelled after 5 attempts`);
  }

  beforeAll(async () => {
    t = await createTestApp(
      { FUNDS_CHARGES: chargesOn ? 'on' : 'off' },
      {
        configure: (config) => ({
          ...ordersConfig(config),
          risk: { paperFundsRupees: 200_000 },
        }),
      },
    );
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    emitter = t.app.get(EventEmitter2);
    emitter.on(ORDERS_UPDATED, (e: OrderUpdatedEvent) => latest.set(e.order.id, e.order));
    await t.app.get(ExecutionService).whenReady();
    await t.app.get(OrdersService).whenRecovered();
    equity = await anEquity(t);
    trader = await newTrader(t, await adminToken(t), 'settler');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('30 place-and-cancel cycles of a LIMIT holding 40% of the funds never run out, and funds return to the start', async () => {
    const start = await funds();
    expect(start).toMatchObject({ used: 0, reserved: 0, realizedPnl: 0, charges: 0 });
    const price = priceNear(sim, equity, 0.95);
    // INTRADAY equity margin is 20% of the value: 40% of the funds is twice the balance in value.
    const quantity = Math.floor((start.available * 2) / price);
    for (let i = 0; i < 30; i++) {
      const placed = await trader.place({
        clientOrderId: key('cycle'),
        instrument: { segment: equity.segment, securityId: equity.securityId },
        side: 'BUY',
        quantity,
        orderType: 'LIMIT',
        productType: 'INTRADAY',
        validity: 'DAY',
        price,
      });
      expect(placed.rejectionReason).toBeNull();
      await untilStatus(placed.id, 'PENDING');
      await cancelUntilEnded(placed.id);
      const after = await funds();
      expect(after.reserved).toBe(0);
      expect(after.available).toBe(start.available);
    }
    expect(await funds()).toEqual(start);
  }, 120_000);

  it('buy then sell at the market: balance moves by exactly the realised P&L (- charges when on), used back to 0', async () => {
    const start = await funds();
    const base = {
      instrument: { segment: equity.segment, securityId: equity.securityId },
      quantity: 65,
      productType: 'INTRADAY',
      validity: 'DAY',
      orderType: 'MARKET',
    };
    const bought = await trader.place({ ...base, clientOrderId: key('buy'), side: 'BUY' });
    await untilStatus(bought.id, 'TRADED');
    const holding = await fundsWhen((f) => f.used > 0, 'margin used');
    // Used is the traded value's margin (20%), not the reservation with its market buffer.
    const buyValue = await tradedValue(bought.id);
    expect(paise(holding.used)).toBe(Math.ceil(buyValue / 5));
    expect(holding.reserved).toBe(0);

    const sold = await trader.place({ ...base, clientOrderId: key('sell'), side: 'SELL' });
    await untilStatus(sold.id, 'TRADED');
    const realised = (await tradedValue(sold.id)) - buyValue;
    const end = await fundsWhen((f) => f.used === 0, 'margin released');
    expect(paise(end.realizedPnl) - paise(start.realizedPnl)).toBe(realised);
    const charges = paise(end.charges) - paise(start.charges);
    if (chargesOn) expect(charges).toBeGreaterThan(0);
    else expect(charges).toBe(0);
    expect(paise(end.balance)).toBe(paise(start.balance) + realised - charges);
    expect(end).toMatchObject({ used: 0, reserved: 0, unrealizedPnl: 0 });
    expect(paise(end.available)).toBe(paise(end.balance));
  }, 60_000);
});
