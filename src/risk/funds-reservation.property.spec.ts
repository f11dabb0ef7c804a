import fc from 'fast-check';
import { ExchangeSegment } from '@app/dhan/types';
import { FundsBook, type SettlementRules, type SettlementTrade } from './funds-settlement';
import { endAt, heldBy, parseParts, serializeParts } from './reservation-parts';

const OPENING = 1_000_000_000_000;
const KEY = {
  userId: 'u',
  segment: ExchangeSegment.NSE_EQ,
  securityId: '2885',
  productType: 'INTRADAY',
};
const RULES: SettlementRules = {
  marginOf: (_trade, _side, _quantity, openCostPaise) => Math.ceil(openCostPaise / 5),
  chargesOf: () => 0,
};

/** One order as the OMS keeps it: its quantities and the reservation stored with its row. */
interface ModelOrder {
  id: string;
  quantity: number;
  /** Filled as the broker reported it (may run ahead of the stored trades, or lag them). */
  reported: number;
  traded: number;
  ended: boolean;
  terms: string | null;
}

const step = fc.oneof(
  fc.record({
    kind: fc.constant('place' as const),
    quantity: fc.integer({ min: 1, max: 40 }),
    paise: fc.integer({ min: 0, max: 2_000_000 }),
  }),
  fc.record({
    kind: fc.constant('report' as const),
    order: fc.nat(),
    units: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({
    kind: fc.constant('trade' as const),
    order: fc.nat(),
    units: fc.integer({ min: 1, max: 40 }),
    price: fc.integer({ min: 1, max: 500_000 }),
  }),
  fc.record({ kind: fc.constant('replay' as const), trade: fc.nat() }),
  fc.record({ kind: fc.constant('end' as const), order: fc.nat() }),
  fc.record({
    kind: fc.constant('modify' as const),
    order: fc.nat(),
    more: fc.integer({ min: 1, max: 20 }),
    paise: fc.integer({ min: 0, max: 2_000_000 }),
  }),
);

describe('order reservations against settled trades (property)', () => {
  it('the database (stored reservations, stored trades) rebuilds the live ledger after every step; each share is released once', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), (steps) => {
        const live = new FundsBook(OPENING);
        const orders: ModelOrder[] = [];
        const trades: SettlementTrade[] = [];
        const store = (o: ModelOrder) => {
          const held = live.ledger.reservationOf(o.id);
          o.terms = held > 0 ? serializeParts(live.ledger.partsOf(o.id)) : null;
        };
        const settle = (o: ModelOrder, units: number, price: number) => {
          const before = live.ledger.reservationOf(o.id);
          const trade: SettlementTrade = {
            tradeKey: `T${trades.length + 1}`,
            orderId: o.id,
            key: KEY,
            side: 'BUY',
            quantity: units,
            priceUnits: price * 100,
          };
          expect(live.settle(trade, RULES)).toBeDefined();
          trades.push(trade);
          o.traded += units;
          // A trade only ever releases.
          expect(live.ledger.reservationOf(o.id)).toBeLessThanOrEqual(before);
          // The OMS drops the stored reservation of an ended order that holds nothing more.
          for (const id of live.ledger.takeEmptied()) {
            const emptied = orders.find((x) => x.id === id)!;
            if (emptied.ended) emptied.terms = null;
          }
        };
        const end = (o: ModelOrder) => {
          // The OMS's filled quantity: the broker's figure or the trades applied, the larger.
          const filled = Math.max(o.reported, o.traded);
          const parts = o.terms === null ? [] : parseParts(o.terms);
          live.ledger.restore(o.id, endAt(parts, filled));
          o.ended = true;
          store(o);
        };
        const rebuild = () => {
          const book = new FundsBook(OPENING);
          for (const trade of trades) book.settle(trade, RULES);
          for (const o of orders) {
            if (o.terms !== null) book.ledger.restore(o.id, parseParts(o.terms));
          }
          return book;
        };
        const check = () => {
          const snapshot = live.ledger.snapshot();
          expect(rebuild().ledger.snapshot()).toEqual(snapshot);
          expect(snapshot.reservedPaise).toBeGreaterThanOrEqual(0);
          for (const o of orders) {
            // Held: what the stored parts reserve for the units no stored trade carries.
            const parts = o.terms === null ? [] : parseParts(o.terms);
            expect(live.ledger.reservationOf(o.id)).toBe(heldBy(parts, o.traded));
          }
        };

        for (const st of steps) {
          const o = orders.length > 0 && 'order' in st ? orders[st.order % orders.length] : null;
          if (st.kind === 'place') {
            const placed: ModelOrder = {
              id: `o${orders.length + 1}`,
              quantity: st.quantity,
              reported: 0,
              traded: 0,
              ended: false,
              terms: null,
            };
            expect(live.ledger.reserve(placed.id, st.paise, { to: st.quantity }).ok).toBe(true);
            orders.push(placed);
            store(placed);
          } else if (st.kind === 'report' && o) {
            o.reported = Math.min(o.quantity, o.reported + st.units);
          } else if (st.kind === 'trade' && o) {
            const units = Math.min(st.units, o.quantity - o.traded);
            if (units > 0) settle(o, units, st.price);
          } else if (st.kind === 'replay' && trades.length > 0) {
            // A trade delivered again (reconciliation, a replayed event): nothing moves.
            const before = live.ledger.snapshot();
            expect(live.settle(trades[st.trade % trades.length], RULES)).toBeUndefined();
            expect(live.ledger.snapshot()).toEqual(before);
          } else if (st.kind === 'end' && o && !o.ended) {
            end(o);
          } else if (st.kind === 'modify' && o && !o.ended) {
            const filled = Math.max(o.reported, o.traded);
            const quantity = filled + st.more;
            const answer = live.ledger.reserve(o.id, st.paise, { from: filled, to: quantity });
            expect(answer.ok).toBe(true);
            o.quantity = quantity;
            store(o);
          }
          check();
        }

        // Every order ends; the trades of its filled units all land: nothing is reserved, and
        // nothing is stored to hold (each share was released exactly once).
        for (const o of orders) if (!o.ended) end(o);
        for (const o of orders) {
          const filled = Math.max(o.reported, o.traded);
          if (filled > o.traded) settle(o, filled - o.traded, 1_000);
          check();
        }
        expect(live.ledger.snapshot().reservedPaise).toBe(0);
        expect(orders.filter((o) => o.terms !== null)).toEqual([]);
      }),
      { seed: 20_261_211, numRuns: 300 },
    );
  });
});
