import { aPosition, buy, sell } from '../__tests__/factories';

describe('scenario: adding to a position averages its cost', () => {
  it('averages two long buys at Rs 100 and Rs 110 to Rs 105', () => {
    const view = aPosition(buy(10, 100), buy(10, 110)).view(100);
    expect(view).toMatchObject({ netQuantity: 20, buyAverage: 105, openAverage: 105 });
    expect(view.unrealizedPnlPaise).toBe(-10_000n);
  });

  it('averages two short sells at Rs 200 and Rs 190 to Rs 195', () => {
    const view = aPosition(sell(5, 200), sell(5, 190)).view(180);
    expect(view).toMatchObject({ netQuantity: -10, sellAverage: 195, openAverage: 195 });
    expect(view.unrealizedPnlPaise).toBe(15_000n);
  });
});
