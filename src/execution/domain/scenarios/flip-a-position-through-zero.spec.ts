import { aPosition, buy, sell } from '../__tests__/factories';

describe('scenario: one trade flips a position through zero', () => {
  it('closes 10 long at Rs 110 (Rs 100 realised) and opens 5 short at Rs 110', () => {
    const position = aPosition(buy(10, 100));
    const result = position.applyTrade(sell(15, 110));
    expect(result).toEqual({ kind: 'APPLIED', realizedDeltaPaise: 10_000n, flipped: true });
    expect(position.view(100)).toMatchObject({
      netQuantity: -5,
      openAverage: 110,
      realizedPnlPaise: 10_000n,
      unrealizedPnlPaise: 5_000n,
    });
  });

  it('flips a short to a long', () => {
    const position = aPosition(sell(5, 200), buy(8, 190));
    expect(position.view(195)).toMatchObject({
      netQuantity: 3,
      openAverage: 190,
      realizedPnlPaise: 5_000n,
      unrealizedPnlPaise: 1_500n,
    });
  });
});
