import { exposureOf } from '../risk/risk-facts.service';
import { OrderStatus } from '../trading/order-status';
import { WorkingOrderIndex } from './working-order-index';

/** A small deterministic generator, so a failure replays. */
function generator(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

const STATUSES = [
  OrderStatus.NEW,
  OrderStatus.PENDING,
  OrderStatus.PART_TRADED,
  OrderStatus.TRADED,
  OrderStatus.CANCELLED,
  OrderStatus.REJECTED,
];

describe('WorkingOrderIndex: the sums RMS checks against', () => {
  it('equal the sums over the listed working orders after every change (5,000 random writes)', () => {
    const random = generator(42);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    const index = new WorkingOrderIndex();
    const users = ['u1', 'u2', 'u3'];
    const instruments = [
      ['NSE_EQ', '2885'],
      ['NSE_EQ', '11536'],
      ['NSE_FNO', '52175'],
    ] as const;
    const ids = Array.from({ length: 60 }, (_, i) => `o${i}`);
    const owner = new Map(ids.map((id) => [id, pick(users)]));
    const parents = new Map(ids.map((id, i) => [id, i % 7 === 0 ? 'o1' : null]));
    for (let step = 0; step < 5_000; step++) {
      const id = pick(ids);
      const [segment, securityId] = pick(instruments);
      const quantity = 1 + Math.floor(random() * 500);
      index.track({
        id,
        userId: owner.get(id)!,
        status: pick(STATUSES),
        parentId: parents.get(id)!,
        segment,
        securityId,
        productType: pick(['INTRADAY', 'CNC']),
        side: pick(['BUY', 'SELL']),
        quantity,
        filledQuantity: Math.floor(random() * quantity),
        // A market order has no price; prices in rupees as stored (text, two decimals).
        price: random() < 0.2 ? null : (random() * 3000).toFixed(2),
      });
      const userId = pick(users);
      const exceptOrderId = pick([...ids, 'none']);
      const [qSegment, qSecurityId] = pick(instruments);
      const query = {
        userId,
        exceptOrderId,
        segment: qSegment,
        securityId: qSecurityId,
        productType: pick(['INTRADAY', 'CNC']),
      };
      const listed = index.facts(userId, exceptOrderId).map((o) => ({
        ...o,
        price: o.price === null ? undefined : Number(o.price),
      }));
      expect(index.exposure(query)).toEqual(exposureOf(listed, query));
    }
  });

  it('counts a sliced order through its parent, never its children, and forgets ended orders', () => {
    const index = new WorkingOrderIndex();
    const base = {
      userId: 'u',
      segment: 'NSE_EQ',
      securityId: '2885',
      productType: 'INTRADAY',
      side: 'BUY',
      filledQuantity: 0,
      price: '100.00',
    };
    index.track({
      ...base,
      id: 'parent',
      status: OrderStatus.PENDING,
      parentId: null,
      quantity: 20,
    });
    index.track({
      ...base,
      id: 'child',
      status: OrderStatus.PENDING,
      parentId: 'parent',
      quantity: 10,
    });
    const query = {
      userId: 'u',
      exceptOrderId: 'new',
      segment: 'NSE_EQ',
      securityId: '2885',
      productType: 'INTRADAY',
    };
    // 20 x 100.00 rupees = 2,000 rupees = 200,000 paise.
    expect(index.exposure(query)).toEqual({
      count: 1,
      openBuy: 20,
      openSell: 0,
      valuePaise: 200_000,
    });
    index.track({
      ...base,
      id: 'parent',
      status: OrderStatus.TRADED,
      parentId: null,
      quantity: 20,
    });
    expect(index.exposure(query)).toEqual({ count: 0, openBuy: 0, openSell: 0, valuePaise: 0 });
  });
});
