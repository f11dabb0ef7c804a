import type { Instrument } from '@app/dhan/types';
import type { DhanSimulator } from '@app/dhan-simulator';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { ExecutionService } from '../src/execution/execution.service';
import { ORDERS_UPDATED, type OrderUpdatedEvent } from '../src/orders/orders.events';
import { OrdersService } from '../src/orders/orders.service';
import { RESERVATION_SETTLED, type ReservationSettledEvent } from '../src/risk/funds.events';
import { FundsService } from '../src/risk/funds.service';
import { until } from './dhan/helpers';
import {
  adminToken,
  anEquity,
  newTrader,
  ordersConfig,
  priceNear,
  type Trader,
} from './orders.helpers';
import { createTestApp, type TestApp } from './utils/test-app';

const FUNDS = `query { funds { available used reserved balance realizedPnl charges } }`;
const TRADES = `query { trades { orderId quantity price } }`;

interface Funds {
  available: number;
  used: number;
  reserved: number;
  balance: number;
  realizedPnl: number;
  charges: number;
}

let keySeq = 0;
const key = (label: string) => `${label}-${Date.now()}-${++keySeq}`;
const paise = (rupees: number) => Math.round(rupees * 100);

/**
 * A fill's short window: DhanHQ reports an order TRADED before its trade is stored (its trade
 * book lags the order alert; here the order's trades cannot be fetched, so the catch-up gives
 * up and the trade lands at the next reconciliation). Until then the order's margin stays
 * held, in memory and in what the database rebuilds, so a ledger rebuilt in the window refuses
 * an order the fill leaves no funds for; once the trade lands, the rebuilt figures are the
 * live ones.
 */
describe('funds in a fill short window (e2e, embedded simulator)', () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let emitter: EventEmitter2;
  let execution: ExecutionService;
  let fundsService: FundsService;
  let trader: Trader;
  let equity: Instrument;
  const latest = new Map<string, OrderUpdatedEvent['order']>();

  const funds = async () => (await trader.ok<{ funds: Funds }>(FUNDS)).funds;
  const tradesOf = async (orderId: string) =>
    (
      await trader.ok<{ trades: Array<{ orderId: string; quantity: number; price: number }> }>(
        TRADES,
      )
    ).trades.filter((x) => x.orderId === orderId);
  const untilStatus = (id: string, status: string) =>
    until(
      () => latest.get(id)?.status === status,
      `order ${id} ${status}`,
      [[emitter, ORDERS_UPDATED]],
      15_000,
    );

  beforeAll(async () => {
    t = await createTestApp(
      { FUNDS_CHARGES: 'off' },
      {
        configure: (config) => ({
          ...ordersConfig(config),
          risk: { paperFundsRupees: 100_000 },
        }),
      },
    );
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    emitter = t.app.get(EventEmitter2);
    emitter.on(ORDERS_UPDATED, (e: OrderUpdatedEvent) => latest.set(e.order.id, e.order));
    execution = t.app.get(ExecutionService);
    fundsService = t.app.get(FundsService);
    await execution.whenReady();
    await t.app.get(OrdersService).whenRecovered();
    equity = await anEquity(t);
    trader = await newTrader(t, await adminToken(t), 'window');
  });

  afterAll(async () => {
    sim?.rest.clearFaults();
    await t?.close();
  });

  it('an order traded before its trade is stored keeps its margin: a rebuilt ledger refuses what the fill uses, and equals the live one once the trade lands', async () => {
    // The order's trades cannot be fetched and the catch-up does not wait: the TRADED update
    // is applied with no trade stored.
    execution.catchUpDelaysMs = [];
    sim.rest.failWith({ pattern: /^GET \/v2\/trades\/[^/]+$/ });
    const start = await funds();
    expect(start).toMatchObject({ used: 0, reserved: 0 });

    // A buy limit 1 % above the market trades at once. INTRADAY equity margin is 20 % of the
    // value: this one holds about 60 % of the funds, so a second one does not fit.
    const price = priceNear(sim, equity, 1.01);
    const quantity = Math.floor((start.available * 0.6 * 5) / price);
    const order = {
      instrument: { segment: equity.segment, securityId: equity.securityId },
      side: 'BUY',
      quantity,
      orderType: 'LIMIT',
      productType: 'INTRADAY',
      validity: 'DAY',
      price,
    };
    const first = await trader.place({ ...order, clientOrderId: key('first') });
    expect(first.rejectionReason).toBeNull();
    await untilStatus(first.id, 'TRADED');
    expect(await tradesOf(first.id)).toHaveLength(0);

    // The filled share stays held until the trade is settled, and the database says so.
    const live = await funds();
    expect(paise(live.reserved)).toBeGreaterThan(paise(start.available) / 2);
    expect(live.used).toBe(0);
    await fundsService.reload(trader.id);
    expect(await funds()).toEqual(live);

    const second = await trader.place({ ...order, clientOrderId: key('second') });
    expect(second).toMatchObject({ status: 'REJECTED', rejectionReason: 'INSUFFICIENT_FUNDS' });

    // The trade lands (the next reconciliation reads the whole trade book); RMS says when the
    // order's reservation holds nothing more.
    let reservationSettled = false;
    emitter.on(RESERVATION_SETTLED, (e: ReservationSettledEvent) => {
      if (e.orderId === first.id) reservationSettled = true;
    });
    sim.rest.clearFaults();
    await execution.reconcile('manual');
    const trades = await tradesOf(first.id);
    expect(trades.reduce((sum, x) => sum + x.quantity, 0)).toBe(quantity);
    const value = trades.reduce((sum, x) => sum + x.quantity * paise(x.price), 0);
    await until(
      () => reservationSettled,
      'the order reservation settled',
      [[emitter, RESERVATION_SETTLED]],
      15_000,
    );
    const settled = await funds();
    // Released exactly once: the position's margin replaces the reservation.
    expect(paise(settled.used)).toBe(Math.ceil(value / 5));
    expect(settled).toMatchObject({ reserved: 0, balance: start.balance });
    expect(paise(settled.available)).toBe(paise(start.balance) - paise(settled.used));
    await fundsService.reload(trader.id);
    expect(await funds()).toEqual(settled);
  }, 60_000);
});
