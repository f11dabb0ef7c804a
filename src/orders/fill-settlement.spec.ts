import { EventEmitter2 } from '@nestjs/event-emitter';
import { TRADE_STORED, type TradeStoredPayload } from '../execution/execution.events';
import { FundsService } from '../risk/funds.service';
import { RiskDenialCode } from '../risk/risk.types';
import { OrderStatus } from '../trading/order-status';
import { OrderEntity } from './entities/order.entity';
import { OrderStore } from './order-store';
import {
  ExecutionRejectedError,
  NIFTY_FUT,
  aPlaceOrder,
  createHarness,
  eventually,
  type Harness,
} from './__tests__/harness';

const USER = '00000000-0000-4000-8000-000000000001';

/**
 * The OMS, RMS and the funds ledger over a real database with a fake broker: an order's margin
 * stays reserved from the moment the broker reports it filled until the trade that carries the
 * fill is stored and settled, whichever of the two arrives first, and the database rebuilds
 * exactly the ledger the process holds at every step (FundsService.reload is what another
 * instance, or a restart, does).
 */
describe('a fill between the order update and its stored trade (real database, fake broker)', () => {
  let h: Harness;
  let funds: FundsService;

  beforeEach(async () => {
    h = await createHarness();
    funds = h.module.get(FundsService);
  });

  afterEach(async () => {
    await h.close();
  });

  const broker = (orderId: string, event: Parameters<Harness['emitBroker']>[0]['event']) =>
    h.emitBroker({ orderId, userId: USER, source: 'socket', event });

  /** The live figures, then the same figures from a ledger rebuilt from the database. */
  async function expectRebuildEqual() {
    const live = await h.risk.funds(USER);
    await funds.reload(USER);
    expect(await h.risk.funds(USER)).toEqual(live);
    return live;
  }

  async function storedReservation(orderId: string) {
    const row = (await h.rows()).find((r) => r.id === orderId)!;
    return { reservation: row.reservation, reservedPaise: row.reservedPaise };
  }

  it('TRADED before the trade is stored: the margin stays held (live and rebuilt), a second order is refused, the trade releases it once', async () => {
    // 600 x Rs 1,000 under CNC (100 %) is 60 % of the Rs 10 lakh.
    const first = await h.orders.place(USER, aPlaceOrder({ quantity: 600 }));
    broker(first.id, { type: 'BROKER_UPDATE', status: OrderStatus.TRADED, filledQuantity: 600 });
    await h.orders.settled(first.id);
    expect((await h.orders.get(USER, first.id)).status).toBe(OrderStatus.TRADED);

    const held = await expectRebuildEqual();
    expect(held).toMatchObject({ reservedPaise: 60_000_000, usedPaise: 0 });
    expect((await storedReservation(first.id)).reservation).not.toBeNull();

    const second = await h.orders.place(USER, aPlaceOrder({ quantity: 600 }));
    expect(second).toMatchObject({
      status: OrderStatus.REJECTED,
      rejectionReason: RiskDenialCode.INSUFFICIENT_FUNDS,
    });

    await h.storeTrade({
      userId: USER,
      orderId: first.id,
      exchangeTradeId: 'T1',
      quantity: 600,
      price: 999,
    });
    broker(first.id, { type: 'FILL', tradeId: 'T1', quantity: 600, price: 999 });
    await h.orders.settled(first.id);
    const settled = await expectRebuildEqual();
    expect(settled).toMatchObject({
      reservedPaise: 0,
      usedPaise: 59_940_000,
      availablePaise: 100_000_000 - 59_940_000,
    });
    await eventually(
      async () => (await storedReservation(first.id)).reservation === null,
      'the settled reservation dropped from the order',
    );
    expect(await storedReservation(first.id)).toEqual({ reservation: null, reservedPaise: 0 });
    expect(await expectRebuildEqual()).toEqual(settled);
  });

  it('the trade stored before the order update: released at once, never held twice', async () => {
    const first = await h.orders.place(USER, aPlaceOrder({ quantity: 600 }));
    await h.storeTrade({
      userId: USER,
      orderId: first.id,
      exchangeTradeId: 'T1',
      quantity: 600,
      price: 1000,
    });
    // The position holds the margin and the order no more, before the OMS hears of the fill.
    expect(await expectRebuildEqual()).toMatchObject({
      reservedPaise: 0,
      usedPaise: 60_000_000,
      availablePaise: 40_000_000,
    });
    const other = await h.orders.place(USER, aPlaceOrder({ quantity: 400 }));
    expect(other.rejectionReason).toBeNull();
    broker(first.id, { type: 'FILL', tradeId: 'T1', quantity: 600, price: 1000 });
    broker(first.id, { type: 'BROKER_UPDATE', status: OrderStatus.TRADED, filledQuantity: 600 });
    await h.orders.settled(first.id);
    expect((await h.orders.get(USER, first.id)).status).toBe(OrderStatus.TRADED);
    expect(await expectRebuildEqual()).toMatchObject({
      reservedPaise: 40_000_000,
      usedPaise: 60_000_000,
      availablePaise: 0,
    });
    expect(await storedReservation(first.id)).toEqual({ reservation: null, reservedPaise: 0 });
  });

  it('a partial fill in several trades, a duplicate and a cancel: the filled share is held until each trade settles, released once', async () => {
    const order = await h.orders.place(USER, aPlaceOrder({ quantity: 10 }));
    broker(order.id, { type: 'BROKER_UPDATE', status: OrderStatus.PENDING, brokerOrderId: 'B1' });
    broker(order.id, {
      type: 'BROKER_UPDATE',
      status: OrderStatus.PART_TRADED,
      brokerOrderId: 'B1',
      filledQuantity: 6,
    });
    await h.orders.settled(order.id);
    expect(await expectRebuildEqual()).toMatchObject({ reservedPaise: 1_000_000 });

    const trade = {
      userId: USER,
      orderId: order.id,
      exchangeTradeId: 'T1',
      quantity: 2,
      price: 1000,
    };
    await h.storeTrade(trade);
    // Delivered again (a replay): settled once.
    const again: TradeStoredPayload = { trade: h.portfolio.trades[0] };
    await h.module.get(EventEmitter2).emitAsync(TRADE_STORED, again);
    expect(await expectRebuildEqual()).toMatchObject({
      reservedPaise: 800_000,
      usedPaise: 200_000,
    });

    // Cancelled with 6 filled, 2 of them settled: units 2 to 6 stay held, 6 to 10 are free.
    await h.orders.cancel(USER, order.id);
    await h.orders.settled(order.id);
    expect((await h.orders.get(USER, order.id)).status).toBe(OrderStatus.CANCELLED);
    expect(await expectRebuildEqual()).toMatchObject({
      reservedPaise: 400_000,
      usedPaise: 200_000,
    });
    expect(await storedReservation(order.id)).toMatchObject({ reservedPaise: 400_000 });

    await h.storeTrade({ ...trade, exchangeTradeId: 'T2', quantity: 3 });
    expect(await expectRebuildEqual()).toMatchObject({
      reservedPaise: 100_000,
      usedPaise: 500_000,
    });
    await h.storeTrade({ ...trade, exchangeTradeId: 'T3', quantity: 1 });
    expect(await expectRebuildEqual()).toMatchObject({
      reservedPaise: 0,
      usedPaise: 600_000,
      availablePaise: 100_000_000 - 600_000,
    });
    await eventually(
      async () => (await storedReservation(order.id)).reservation === null,
      'the settled reservation dropped from the cancelled order',
    );
  });

  it('a modification of a part-filled order keeps the filled share held; a refused one puts the stored reservation back', async () => {
    const order = await h.orders.place(USER, aPlaceOrder({ quantity: 10 }));
    broker(order.id, {
      type: 'BROKER_UPDATE',
      status: OrderStatus.PART_TRADED,
      brokerOrderId: 'B1',
      filledQuantity: 4,
    });
    await h.orders.settled(order.id);
    // 8 unfilled units at Rs 990, and the 4 filled units' Rs 4,000 until their trade settles.
    await h.orders.modify(USER, order.id, { quantity: 12, price: 990 });
    expect(await expectRebuildEqual()).toMatchObject({ reservedPaise: 792_000 + 400_000 });

    h.port.onModify = () => Promise.reject(new ExecutionRejectedError('DH-906: no'));
    await expect(h.orders.modify(USER, order.id, { quantity: 20 })).rejects.toThrow();
    expect(await expectRebuildEqual()).toMatchObject({ reservedPaise: 792_000 + 400_000 });

    await h.storeTrade({
      userId: USER,
      orderId: order.id,
      exchangeTradeId: 'T1',
      quantity: 4,
      price: 1000,
    });
    expect(await expectRebuildEqual()).toMatchObject({
      reservedPaise: 792_000,
      usedPaise: 400_000,
    });
  });

  it('an order stored before reservations by units keeps its meaning, and is stored by units at its next change', async () => {
    const order = await h.orders.place(USER, aPlaceOrder({ quantity: 10 }));
    broker(order.id, {
      type: 'BROKER_UPDATE',
      status: OrderStatus.PART_TRADED,
      brokerOrderId: 'B1',
      filledQuantity: 4,
    });
    await h.orders.settled(order.id);
    // As an earlier version left it: no parts, and the 6 unfilled units' Rs 6,000 held.
    await h.dataSource
      .getRepository(OrderEntity)
      .update({ id: order.id }, { reservation: null, reservedPaise: 600_000 });
    h.module.get(OrderStore).forgetRows(); // the new version's boot reads the rows again
    await funds.reload(USER); // the boot of the new version
    expect(await expectRebuildEqual()).toMatchObject({ reservedPaise: 600_000 });

    broker(order.id, {
      type: 'BROKER_UPDATE',
      status: OrderStatus.PART_TRADED,
      brokerOrderId: 'B1',
      filledQuantity: 7,
    });
    await h.orders.settled(order.id);
    expect((await storedReservation(order.id)).reservation).not.toBeNull();
    expect(await expectRebuildEqual()).toMatchObject({ reservedPaise: 600_000 });
    // The 4 units filled before are not held any more; the next 3 are, until their trades.
    for (const [id, quantity] of [
      ['T1', 4],
      ['T2', 3],
    ] as const) {
      await h.storeTrade({
        userId: USER,
        orderId: order.id,
        exchangeTradeId: id,
        quantity,
        price: 1000,
      });
    }
    expect(await expectRebuildEqual()).toMatchObject({
      reservedPaise: 300_000,
      usedPaise: 700_000,
    });
  });

  it("a sliced order: its children's trades settle the margin the parent holds", async () => {
    await funds.adjust(USER, 1_000_000_000, 'margin for a sliced future');
    await h.risk.setRiskLimits(USER, {
      maxOrderValuePaise: 100_000_000_000,
      maxPositionValuePaise: 100_000_000_000,
      maxGrossExposurePaise: 100_000_000_000,
    });
    // 1,875 NIFTY futures (25 lots) above the 1,800 freeze quantity: two children.
    const parent = await h.orders.place(
      USER,
      aPlaceOrder({
        segment: NIFTY_FUT.segment,
        securityId: NIFTY_FUT.securityId,
        productType: 'MARGIN',
        quantity: 1_875,
        price: 24_000,
      }),
    );
    expect(parent.rejectionReason).toBeNull();
    await eventually(
      async () => (await h.rows()).filter((r) => r.parentId === parent.id).length === 2,
      'two children',
    );
    const children = (await h.rows())
      .filter((r) => r.parentId === parent.id)
      .sort((a, b) => b.quantity - a.quantity);
    const reserved = (await expectRebuildEqual()).reservedPaise;
    // 15 % of 1,875 x Rs 24,000.
    expect(reserved).toBe(675_000_000);

    const trade = (child: number, quantity: number) =>
      h.storeTrade({
        userId: USER,
        orderId: children[child].id,
        exchangeTradeId: `N${child}`,
        quantity,
        price: 24_000,
        segment: NIFTY_FUT.segment,
        securityId: NIFTY_FUT.securityId,
        productType: 'MARGIN',
      });
    await trade(0, 1_800);
    // 75 of 1,875 units left: ceil(675,000,000 x 75 / 1,875).
    expect(await expectRebuildEqual()).toMatchObject({
      reservedPaise: 27_000_000,
      usedPaise: 648_000_000,
    });
    await trade(1, 75);
    expect(await expectRebuildEqual()).toMatchObject({
      reservedPaise: 0,
      usedPaise: 675_000_000,
    });
  });
});
