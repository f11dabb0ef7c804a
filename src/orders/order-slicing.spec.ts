import { OrderStatus } from '../trading/order-status';
import { aggregateSlices } from './order-slicing.service';

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
