import fc from 'fast-check';
import { aPosition, aTrade } from './__tests__/factories';

const fill = fc.record({
  side: fc.constantFrom('BUY' as const, 'SELL' as const),
  quantity: fc.integer({ min: 1, max: 500 }),
  // whole paise between Rs 0.05 and Rs 5,000
  pricePaise: fc.integer({ min: 5, max: 500_000 }),
});

describe('position properties', () => {
  it('realised + unrealised equals sell value - buy value + net x LTP, in paise', () => {
    fc.assert(
      fc.property(
        fc.array(fill, { maxLength: 40 }),
        fc.integer({ min: 5, max: 500_000 }),
        (fills, ltpPaise) => {
          const position = aPosition();
          let buyPaise = 0n;
          let sellPaise = 0n;
          let net = 0;
          for (const f of fills) {
            position.applyTrade(
              aTrade({ side: f.side, quantity: f.quantity, price: f.pricePaise / 100 }),
            );
            const value = BigInt(f.quantity) * BigInt(f.pricePaise);
            if (f.side === 'BUY') buyPaise += value;
            else sellPaise += value;
            net += f.side === 'BUY' ? f.quantity : -f.quantity;
          }
          const view = position.view(ltpPaise / 100);
          expect(view.netQuantity).toBe(net);
          expect(view.realizedPnlPaise + (view.unrealizedPnlPaise ?? 0n)).toBe(
            sellPaise - buyPaise + BigInt(net) * BigInt(ltpPaise),
          );
          if (net === 0) expect(view.unrealizedPnlPaise).toBe(0n);
        },
      ),
      { numRuns: 500 },
    );
  });
});
