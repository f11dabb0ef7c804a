import { FundsService } from '../risk/funds.service';
import { OrderStatus } from '../trading/order-status';
import {
  NIFTY_FUT,
  aPlaceOrder,
  createHarness,
  eventually,
  type Harness,
} from './__tests__/harness';
import { SLICE_CAP_EXCEEDED } from './order-admission.service';
import { aggregateSlices } from './order-slicing.service';
import type { PlaceOrderCommand } from './order-terms';

const slice = (
  status: OrderStatus,
  quantity: number,
  filled = 0,
  averagePrice: string | null = null,
) => ({
  status,
  quantity,
  filledQuantity: filled,
  averagePrice,
});

describe('aggregateSlices: what a sliced order shows', () => {
  it('stays as it is while no slice has reached the broker', () => {
    expect(
      aggregateSlices([slice(OrderStatus.IN_FLIGHT, 1755), slice(OrderStatus.QUEUED, 845)]).status,
    ).toBeUndefined();
  });

  it('is PENDING once one slice is at the broker, PART_TRADED with any fill', () => {
    expect(
      aggregateSlices([slice(OrderStatus.PENDING, 1755), slice(OrderStatus.QUEUED, 845)]).status,
    ).toBe(OrderStatus.PENDING);
    expect(
      aggregateSlices([
        slice(OrderStatus.TRADED, 1755, 1755, '10.05'),
        slice(OrderStatus.PENDING, 845),
      ]),
    ).toMatchObject({ status: OrderStatus.PART_TRADED, quantity: 2600, filled: 1755 });
  });

  it('TRADED with the exact average over every slice (integer price units)', () => {
    const result = aggregateSlices([
      slice(OrderStatus.TRADED, 1755, 1755, '10.05'),
      slice(OrderStatus.TRADED, 1755, 1755, '10.1'),
      slice(OrderStatus.TRADED, 845, 845, '10.15'),
    ]);
    // (1755 x 100500 + 1755 x 101000 + 845 x 101500) / 4355 units
    const units = (1755 * 100_500 + 1755 * 101_000 + 845 * 101_500) / 4355;
    expect(result).toMatchObject({ status: OrderStatus.TRADED, quantity: 4355, filled: 4355 });
    expect(result.averagePrice).toBeCloseTo(units / 10_000, 10);
  });

  it('CANCELLED with what filled when the rest was cancelled; REJECTED only when all were', () => {
    expect(
      aggregateSlices([
        slice(OrderStatus.TRADED, 1755, 1755, '10'),
        slice(OrderStatus.CANCELLED, 845),
      ]),
    ).toMatchObject({ status: OrderStatus.CANCELLED, filled: 1755, averagePrice: 10 });
    expect(
      aggregateSlices([slice(OrderStatus.REJECTED, 1755), slice(OrderStatus.CANCELLED, 845)])
        .status,
    ).toBe(OrderStatus.CANCELLED);
    expect(
      aggregateSlices([slice(OrderStatus.REJECTED, 1755), slice(OrderStatus.REJECTED, 845)]).status,
    ).toBe(OrderStatus.REJECTED);
  });
});

const USER = '00000000-0000-4000-8000-00000000000c';

/**
 * The real placement path (validation, RMS, admission, slicing, dispatch) over a database with
 * a fake broker. NIFTY futures: freeze quantity 1,800 (24 lots of 75) at Rs 24,000.
 */
describe('an order above the freeze quantity through placement (real RMS and admission)', () => {
  // ORDER_SLICE_MAX=3: at most 3 x 1,800 units in one order.
  const maxSlices = 3;
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness({ maxSlices });
    // An account large enough for 5,400+ NIFTY futures, so only the slice cap can refuse.
    await h.module.get(FundsService).adjust(USER, 10_000_000_000, 'margin for sliced futures');
    await h.risk.setRiskLimits(USER, {
      maxOrderValuePaise: 100_000_000_000,
      maxPositionValuePaise: 100_000_000_000,
      maxGrossExposurePaise: 100_000_000_000,
    });
  });

  afterEach(async () => {
    await h.close();
  });

  const future = (quantity: number, change: Partial<PlaceOrderCommand> = {}) =>
    aPlaceOrder({
      segment: NIFTY_FUT.segment,
      securityId: NIFTY_FUT.securityId,
      productType: 'INTRADAY',
      quantity,
      price: 24_000,
      ...change,
    });

  const childrenOf = async (parentId: string) =>
    (await h.rows()).filter((r) => r.parentId === parentId).sort((a, b) => b.quantity - a.quantity);

  it('above ORDER_SLICE_MAX x the freeze quantity: REJECTED SLICE_CAP_EXCEEDED, nothing sent or held', async () => {
    // One lot more than 3 x 1,800: four children would be needed.
    const refused = await h.orders.place(USER, future(maxSlices * 1_800 + 75));
    expect(refused).toMatchObject({
      status: OrderStatus.REJECTED,
      rejectionReason: SLICE_CAP_EXCEEDED,
    });
    expect(h.port.placed).toHaveLength(0);
    expect(await h.rows()).toHaveLength(1);
    expect((await h.risk.funds(USER)).reservedPaise).toBe(0);
    // At the cap it goes, as three children of the freeze quantity (the parent is never sent).
    const parent = await h.orders.place(USER, future(maxSlices * 1_800));
    expect(parent).toMatchObject({ rejectionReason: null, sliceCount: maxSlices });
    await eventually(() => h.port.placed.length === maxSlices, 'three children sent');
    expect(h.port.placed.map((o) => o.quantity)).toEqual([1_800, 1_800, 1_800]);
    expect(h.port.placed.map((o) => o.orderId).sort()).toEqual(
      (await childrenOf(parent.id)).map((c) => c.id).sort(),
    );
  });

  it.each([
    [
      "the day cycle's intraday square-off",
      (h: Harness, quantity: number) =>
        h.orders.squareOff(
          {
            userId: USER,
            segment: NIFTY_FUT.segment,
            securityId: NIFTY_FUT.securityId,
            productType: 'INTRADAY',
            netQuantity: quantity,
          },
          '2026-12-04',
          'INTRADAY_SQUARE_OFF',
        ),
    ],
    [
      "the risk desk's square-off",
      (h: Harness, quantity: number) =>
        h.orders.placeForDesk(
          USER,
          future(quantity, { side: 'SELL', orderType: 'MARKET', price: undefined }),
          'Squared off by the risk desk (test): limit breach',
        ),
    ],
  ])('%s of a position above the freeze quantity goes as child orders', async (_label, close) => {
    // Long 1,875 (25 lots): one child of 1,800 and one of 75, both market sells.
    h.portfolio.positions.set(`${USER}:${NIFTY_FUT.securityId}`, 1_875);
    const parent = await close(h, 1_875);
    expect(parent).toMatchObject({
      side: 'SELL',
      orderType: 'MARKET',
      quantity: 1_875,
      rejectionReason: null,
      sliceCount: 2,
    });
    await eventually(() => h.port.placed.length === 2, 'two children sent');
    const children = await childrenOf(parent.id);
    expect(children.map((c) => c.quantity)).toEqual([1_800, 75]);
    // Each child is sent with the market protection of a market sell: a limit below the LTP.
    const sent = [...h.port.placed].sort((a, b) => b.quantity - a.quantity);
    expect(sent.map((o) => o.orderId)).toEqual(children.map((c) => c.id));
    for (const o of sent) {
      expect(o).toMatchObject({ side: 'SELL', orderType: 'LIMIT', productType: 'INTRADAY' });
      expect(o.price).toBeLessThan(24_000);
    }
  });
});
