import { aPosition, buy } from '../__tests__/factories';

describe('scenario: opening a long position', () => {
  it('buys 10 at Rs 100 and marks Rs 5 up per share as Rs 50 unrealised, in paise', () => {
    const view = aPosition(buy(10, 100)).view(105);
    expect(view).toEqual({
      netQuantity: 10,
      buyQuantity: 10,
      sellQuantity: 0,
      buyAverage: 100,
      sellAverage: 0,
      openAverage: 100,
      realizedPnlPaise: 0n,
      unrealizedPnlPaise: 5_000n,
      ltp: 105,
    });
  });

  it('shows no unrealised P&L without an LTP', () => {
    expect(aPosition(buy(10, 100)).view().unrealizedPnlPaise).toBeUndefined();
  });
});
