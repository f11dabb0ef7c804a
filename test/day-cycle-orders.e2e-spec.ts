import type { Instrument } from '@app/dhan/types';
import type { DhanSimulator } from '@app/dhan-simulator';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { ist } from '../src/calendar/__tests__/calendar.factory';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { ExecutionService } from '../src/execution/execution.service';
import { MarketDataService } from '../src/market-data/market-data.service';
import { ORDERS_UPDATED, type OrderUpdatedEvent } from '../src/orders/orders.events';
import { OrdersService } from '../src/orders/orders.service';
import { DayCycleService } from '../src/scheduler/day-cycle.service';
import { until } from './dhan/helpers';
import {
  ORDER_FIELDS,
  adminToken,
  anEquity,
  newTrader,
  ordersConfig,
  priceNear,
  type Trader,
} from './orders.helpers';
import { subscribe, type SubscriptionProbe } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

const UPDATES = `subscription { orderUpdates { ${ORDER_FIELDS} tag } }`;
const POSITIONS = `query { positions { instrument { securityId } productType netQuantity ltp
  carriedQuantity referencePrice dayPnl } }`;
const FUNDS = `query { funds { available used reserved balance realizedPnl charges } }`;

interface Update {
  id: string;
  status: string;
  side: string;
  productType: string;
  quantity: number;
  tag: string | null;
}
interface PositionRow {
  instrument: { securityId: string };
  productType: string;
  netQuantity: number;
  ltp: number | null;
  carriedQuantity: number;
  referencePrice: number | null;
  dayPnl: number | null;
}

let keySeq = 0;
const key = (label: string) => `${label}-${Date.now()}-${++keySeq}`;
const paise = (rupees: number) => Math.round(rupees * 100);

/**
 * One trading day and the next on the embedded default, with the day cycle's instants given as
 * `at` (the controllable clock of DayCycleService): 15:15 square-off, 15:30 close, 08:45 start
 * of the next day. Monday 2026-12-07 and Tuesday 2026-12-08 are NSE trading days.
 */
describe('day cycle: orders and positions across the day boundary (e2e)', () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let emitter: EventEmitter2;
  let dayCycle: DayCycleService;
  let trader: Trader;
  let equity: Instrument;
  let probe: SubscriptionProbe;
  const latest = new Map<string, OrderUpdatedEvent['order']>();
  const ids: Record<string, string> = {};

  const updates = (): Update[] =>
    probe.received.map((m) => (m as { data: { orderUpdates: Update } }).data.orderUpdates);
  const untilStatus = (id: string, status: string) =>
    until(
      () => latest.get(id)?.status === status,
      `order ${id} ${status}`,
      [[emitter, ORDERS_UPDATED]],
      15_000,
    );
  const positions = async () =>
    (await trader.ok<{ positions: PositionRow[] }>(POSITIONS)).positions.filter(
      (p) => p.instrument.securityId === equity.securityId,
    );

  beforeAll(async () => {
    t = await createTestApp({}, { configure: ordersConfig });
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    emitter = t.app.get(EventEmitter2);
    emitter.on(ORDERS_UPDATED, (e: OrderUpdatedEvent) => latest.set(e.order.id, e.order));
    await t.app.get(ExecutionService).whenReady();
    await t.app.get(OrdersService).whenRecovered();
    dayCycle = t.app.get(DayCycleService);
    equity = await anEquity(t);
    trader = await newTrader(t, await adminToken(t), 'daytrader');
    const before = emitter.listenerCount(ORDERS_UPDATED);
    probe = subscribe(t.websocketUrl, UPDATES, trader.connectionParams);
    await probe.connected;
    await until(() => emitter.listenerCount(ORDERS_UPDATED) > before, 'orderUpdates registered');

    const base = {
      instrument: { segment: equity.segment, securityId: equity.securityId },
      side: 'BUY',
      validity: 'DAY',
    };
    const intraday = await trader.place({
      ...base,
      clientOrderId: key('intraday'),
      quantity: 7,
      orderType: 'MARKET',
      productType: 'INTRADAY',
    });
    const cnc = await trader.place({
      ...base,
      clientOrderId: key('cnc'),
      quantity: 4,
      orderType: 'MARKET',
      productType: 'CNC',
    });
    const workingIntraday = await trader.place({
      ...base,
      clientOrderId: key('working-intraday'),
      quantity: 3,
      orderType: 'LIMIT',
      productType: 'INTRADAY',
      price: priceNear(sim, equity, 0.95),
    });
    const workingDay = await trader.place({
      ...base,
      clientOrderId: key('working-day'),
      quantity: 2,
      orderType: 'LIMIT',
      productType: 'CNC',
      price: priceNear(sim, equity, 0.94),
    });
    await untilStatus(intraday.id, 'TRADED');
    await untilStatus(cnc.id, 'TRADED');
    await untilStatus(workingIntraday.id, 'PENDING');
    await untilStatus(workingDay.id, 'PENDING');
    Object.assign(ids, {
      intraday: intraday.id,
      cnc: cnc.id,
      workingIntraday: workingIntraday.id,
      workingDay: workingDay.id,
    });
    const open = await positions();
    expect(open.map((p) => [p.productType, p.netQuantity]).sort()).toEqual([
      ['CNC', 4],
      ['INTRADAY', 7],
    ]);
  });

  afterAll(async () => {
    await probe?.dispose();
    await t?.close();
  });

  it('15:15: working INTRADAY orders are cancelled and INTRADAY positions squared off by ordinary orders with a reason in orderUpdates', async () => {
    const report = await dayCycle.runSquareOff('NSE_BSE', { at: ist('2026-12-07T15:15') });
    expect(report).toMatchObject({ kind: 'SQOFF', outcome: 'DONE', placed: 1, failed: 0 });
    await untilStatus(ids.workingIntraday, 'CANCELLED');
    await until(
      () =>
        updates().some(
          (u) => u.tag === 'INTRADAY_SQUARE_OFF' && u.side === 'SELL' && u.status === 'TRADED',
        ),
      'square-off order TRADED on orderUpdates',
      [],
      15_000,
    );
    const squareOff = updates().find((u) => u.tag === 'INTRADAY_SQUARE_OFF' && u.side === 'SELL')!;
    expect(squareOff).toMatchObject({ productType: 'INTRADAY', quantity: 7 });
    expect(
      updates().some((u) => u.id === ids.workingIntraday && u.tag === 'INTRADAY_SQUARE_OFF'),
    ).toBe(true);
    // The CNC order (DAY) is not touched by the square-off.
    expect(latest.get(ids.workingDay)?.status).toBe('PENDING');
    const after = await positions();
    expect(after.find((p) => p.productType === 'INTRADAY')?.netQuantity).toBe(0);
    expect(after.find((p) => p.productType === 'CNC')?.netQuantity).toBe(4);
    // A second run the same day places nothing.
    const again = await dayCycle.runSquareOff('NSE_BSE', { at: ist('2026-12-07T15:16') });
    expect(again.outcome).toBe('NOOP');
  });

  it('15:30: DAY orders still working are cancelled at the broker and reach a final state', async () => {
    const report = await dayCycle.runEndOfDay('NSE_BSE', { at: ist('2026-12-07T15:30') });
    expect(report).toMatchObject({ outcome: 'DONE', orders: { cancelled: 1, ended: 0, left: 0 } });
    await untilStatus(ids.workingDay, 'CANCELLED');
    expect(updates().some((u) => u.id === ids.workingDay && u.tag === 'DAY_END')).toBe(true);
    const { orders } = await trader.ok<{ orders: Array<{ status: string }> }>(
      `query { orders { status } }`,
    );
    expect(orders.filter((o) => !['TRADED', 'CANCELLED'].includes(o.status))).toEqual([]);
    const funds = (await trader.ok<{ funds: { reserved: number; used: number } }>(FUNDS)).funds;
    expect(funds.reserved).toBe(0);
    expect(funds.used).toBeGreaterThan(0); // the CNC position's margin
  });

  it('08:45 next day: CNC carried forward with the previous close as reference, day P&L restarting there', async () => {
    const record = t.app.get(MarketDataService).record(equity.segment, equity.securityId)!;
    const previousClose = [record.close, record.prevClose, record.ltp].find(
      (p) => p !== undefined && p > 0,
    );
    const report = await dayCycle.runStartOfDay({ at: ist('2026-12-08T08:45') });
    expect(report).toMatchObject({ outcome: 'DONE', carried: 1 });
    const rows = await positions();
    const cnc = rows.find((p) => p.productType === 'CNC')!;
    expect(cnc).toMatchObject({
      netQuantity: 4,
      carriedQuantity: 4,
      referencePrice: previousClose,
    });
    expect(cnc.ltp).not.toBeNull();
    expect(paise(cnc.dayPnl!)).toBe((paise(cnc.ltp!) - paise(cnc.referencePrice!)) * 4);
    expect(rows.find((p) => p.productType === 'INTRADAY')).toMatchObject({
      netQuantity: 0,
      carriedQuantity: 0,
      referencePrice: null,
    });
  });
});
