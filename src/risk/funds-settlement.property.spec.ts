import { ExchangeSegment } from '@app/dhan/types';
import fc from 'fast-check';
import {
  FundsBook,
  type SettlementEntry,
  type SettlementRules,
  type SettlementTrade,
} from './funds-settlement';
import { chargesFor } from './trade-charges';

/**
 * The funds invariant over random fill sequences (long, short, partial, reversal through zero,
 * several positions, adjustments in between), to the paisa:
 *   balance = opening + realised P&L - charges + adjustments, used = margin of open positions,
 * and a rebuild from the stored entries gives back exactly the same ledger.
 */
const OPENING = 100_000_000;
const BPS: Record<string, number> = { INTRADAY: 2_000, CNC: 10_000 };

const keys = [
  { segment: ExchangeSegment.NSE_EQ, securityId: '11', productType: 'INTRADAY' },
  { segment: ExchangeSegment.NSE_EQ, securityId: '11', productType: 'CNC' },
  { segment: ExchangeSegment.NSE_FNO, securityId: '42', productType: 'INTRADAY' },
];

const marginOf = (productType: string, openCostPaise: number) =>
  Math.ceil((openCostPaise * BPS[productType]) / 10_000);

const rules = (charges: boolean): SettlementRules => ({
  marginOf: (trade, _side, _quantity, openCostPaise) =>
    marginOf(trade.key.productType, openCostPaise),
  chargesOf: (trade, value) =>
    charges ? chargesFor(trade.key.segment, trade.side, value).totalPaise : 0,
});

const step = fc.oneof(
  {
    weight: 9,
    arbitrary: fc.record({
      kind: fc.constant('fill' as const),
      key: fc.integer({ min: 0, max: keys.length - 1 }),
      side: fc.constantFrom('BUY' as const, 'SELL' as const),
      quantity: fc.integer({ min: 1, max: 400 }),
      pricePaise: fc.integer({ min: 5, max: 300_000 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('adjust' as const),
      amount: fc.integer({ min: -500_000, max: 500_000 }).filter((n) => n !== 0),
    }),
  },
);

describe('funds settlement (property, seeded)', () => {
  it.each([
    ['charges off', false],
    ['charges on', true],
  ])('keeps the invariant to the paisa over random fill sequences (%s)', (_label, charges) => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 60 }),
        fc.array(fc.integer({ min: 5, max: 300_000 }), {
          minLength: keys.length,
          maxLength: keys.length,
        }),
        (steps, closePrices) => {
          const r = rules(charges);
          const book = new FundsBook(OPENING);
          const trades: SettlementTrade[] = [];
          const entries: SettlementEntry[] = [];
          let adjustments = 0;
          let buyValue = 0;
          let sellValue = 0;
          let seq = 0;
          const fill = (k: number, side: 'BUY' | 'SELL', quantity: number, pricePaise: number) => {
            const trade: SettlementTrade = {
              tradeKey: `${keys[k].segment}|T${++seq}`,
              orderId: `o${seq}`,
              key: { userId: 'u', ...keys[k] },
              side,
              quantity,
              priceUnits: pricePaise * 100,
            };
            const entry = book.settle(trade, r);
            expect(entry).toBeDefined();
            // A trade settles once: the same trade again changes nothing.
            expect(book.settle(trade, r)).toBeUndefined();
            trades.push(trade);
            entries.push(entry!);
            if (side === 'BUY') buyValue += quantity * pricePaise;
            else sellValue += quantity * pricePaise;
          };
          const check = () => {
            const s = book.ledger.snapshot();
            const realised = entries.reduce((sum, e) => sum + e.realizedPaise, 0);
            const charged = entries.reduce((sum, e) => sum + e.chargesPaise, 0);
            expect(s.realizedPnlPaise).toBe(realised);
            expect(s.chargesPaise).toBe(charged);
            expect(s.balancePaise).toBe(OPENING + realised - charged + adjustments);
            const margins = book
              .openPositions()
              .reduce((sum, p) => sum + marginOf(p.key.productType, p.openCostPaise), 0);
            expect(s.usedPaise).toBe(margins);
            expect(s.availablePaise).toBe(s.balancePaise - s.usedPaise - s.reservedPaise);
          };

          for (const st of steps) {
            if (st.kind === 'adjust') {
              book.ledger.adjust(st.amount);
              adjustments += st.amount;
            } else {
              fill(st.key, st.side, st.quantity, st.pricePaise);
            }
            check();
          }

          // A rebuild replaying the stored entries, and one recomputing them, give the same ledger.
          const replayed = new FundsBook(OPENING);
          const recomputed = new FundsBook(OPENING);
          replayed.ledger.adjust(adjustments);
          recomputed.ledger.adjust(adjustments);
          trades.forEach((trade, i) => {
            replayed.settle(trade, r, entries[i]);
            expect(recomputed.settle(trade, r)).toEqual(entries[i]);
          });
          expect(replayed.ledger.snapshot()).toEqual(book.ledger.snapshot());
          expect(recomputed.ledger.snapshot()).toEqual(book.ledger.snapshot());

          // Close everything: realised P&L is then exactly sell value - buy value, used is 0.
          for (const p of book.openPositions()) {
            const k = keys.findIndex(
              (x) =>
                x.securityId === p.key.securityId &&
                x.productType === p.key.productType &&
                x.segment === p.key.segment,
            );
            fill(k, p.net > 0 ? 'SELL' : 'BUY', Math.abs(p.net), closePrices[k]);
          }
          check();
          const s = book.ledger.snapshot();
          expect(s.usedPaise).toBe(0);
          expect(s.realizedPnlPaise).toBe(sellValue - buyValue);
        },
      ),
      { seed: 20_261_205, numRuns: 400 },
    );
  });

  it('partial fills and a reversal through zero: margin follows the open side at the traded prices', () => {
    const book = new FundsBook(OPENING);
    const r = rules(false);
    const key = { userId: 'u', ...keys[0] };
    const at = (n: number, side: 'BUY' | 'SELL', quantity: number, rupees: number) =>
      book.settle(
        { tradeKey: `t${n}`, orderId: `o${n}`, key, side, quantity, priceUnits: rupees * 10_000 },
        r,
      )!;
    at(1, 'BUY', 10, 100); // long 10 @ 100: margin 20% of 1,000
    at(2, 'BUY', 10, 110); // long 20, cost 2,100
    expect(book.ledger.snapshot().usedPaise).toBe(42_000);
    const reduce = at(3, 'SELL', 5, 120); // closes 5 at avg 105: +75
    expect(reduce.realizedPaise).toBe(7_500);
    expect(book.ledger.snapshot().usedPaise).toBe(31_500);
    const flip = at(4, 'SELL', 25, 90); // closes 15 (-225), opens short 10 @ 90
    expect(flip.realizedPaise).toBe(-22_500);
    expect(flip.marginPaise).toBe(18_000);
    at(5, 'BUY', 10, 95); // short closed at a loss of 50
    expect(book.ledger.snapshot()).toMatchObject({
      usedPaise: 0,
      realizedPnlPaise: 7_500 - 22_500 - 5_000,
      balancePaise: OPENING - 20_000,
    });
  });
});
