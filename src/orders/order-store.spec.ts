import { OrderStatus } from '../trading/order-status';
import { OrderStore } from './order-store';
import { aPlaceOrder, createHarness, type Harness } from './__tests__/harness';

const USER = '00000000-0000-4000-8000-000000000001';

/**
 * With REDIS_URL two instances write the same order: the leader applies the broker's word on an
 * order another instance sent, while that instance is still waiting for the broker's answer.
 * The second write finds the row changed and applies its step to the newer row.
 */
describe('OrderStore: a row another instance changed meanwhile (real database, fake broker)', () => {
  let h: Harness;
  let store: OrderStore;

  beforeEach(async () => {
    h = await createHarness();
    store = h.module.get(OrderStore);
  });

  afterEach(async () => {
    await h.close();
  });

  const conflicts = async () =>
    (await h.metrics.registry.getSingleMetric('oms_write_conflicts_total')?.get())?.values[0]
      ?.value ?? 0;

  it("the broker's update stored before the send's answer: the answer applies to the newer row; no error, no lookup, no resend", async () => {
    h.port.onPlace = async (order) => {
      const ack = h.port.accept(order);
      // What the leader does with the order-update socket's message, on the row as stored now.
      await store.apply(
        await store.load(order.orderId),
        { type: 'BROKER_UPDATE', status: OrderStatus.PENDING, brokerOrderId: ack.brokerOrderId },
        'socket',
      );
      return ack;
    };
    const placed = await h.orders.place(USER, aPlaceOrder());
    expect(placed.status).toBe(OrderStatus.PENDING);
    const row = (await h.rows()).find((r) => r.id === placed.id)!;
    expect(row.status).toBe(OrderStatus.PENDING);
    expect(row.brokerOrderId).toBe(h.port.book.get(placed.id)!.brokerOrderId);
    // The acknowledgement changed nothing more (the broker had moved the order on): no event row.
    expect((await h.eventRows(placed.id)).map((e) => e.type)).toEqual([
      'CREATED',
      'RISK_APPROVED',
      'SENT',
      'BROKER_UPDATE',
    ]);
    expect(h.port.lookups).toEqual([]);
    expect(h.port.placed).toHaveLength(1);
    expect(await conflicts()).toBe(1);
  });

  it('a fill stored by another instance meanwhile: a cancel acknowledgement lands on the filled row', async () => {
    const placed = await h.orders.place(USER, aPlaceOrder({ quantity: 10 }));
    const stale = await store.load(placed.id);
    const brokerOrderId = h.port.book.get(placed.id)!.brokerOrderId;
    await store.apply(
      await store.load(placed.id),
      { type: 'BROKER_UPDATE', status: OrderStatus.PART_TRADED, brokerOrderId, filledQuantity: 4 },
      'socket',
    );
    const ended = await store.apply(
      stale,
      { type: 'BROKER_UPDATE', status: OrderStatus.CANCELLED, brokerOrderId, filledQuantity: 4 },
      'socket',
    );
    expect(ended.applied).toBe(true);
    expect(ended.row.status).toBe(OrderStatus.CANCELLED);
    expect(ended.row.filledQuantity).toBe(4);
    expect(await conflicts()).toBe(1);
  });
});
