import { aPosition, buy, sell } from '../__tests__/factories';

describe('scenario: closing a position fully', () => {
  it('realises the whole result and leaves nothing unrealised', () => {
    const position = aPosition(buy(10, 100), buy(10, 110), sell(20, 100));
    expect(position.view(90)).toMatchObject({
      netQuantity: 0,
      openAverage: 0,
      buyQuantity: 20,
      sellQuantity: 20,
      realizedPnlPaise: -10_000n,
      unrealizedPnlPaise: 0n,
    });
  });

  it('covers a short at a profit', () => {
    expect(aPosition(sell(10, 200), buy(10, 190)).realizedPnlPaise()).toBe(10_000n);
  });

  it('starts a fresh average after going flat', () => {
    const view = aPosition(buy(10, 100), sell(10, 110), buy(10, 200)).view(210);
    expect(view).toMatchObject({ netQuantity: 10, openAverage: 200, buyAverage: 150 });
    expect(view.realizedPnlPaise).toBe(10_000n);
    expect(view.unrealizedPnlPaise).toBe(10_000n);
  });
});
