import { aPosition, buy, sell } from '../__tests__/factories';

describe('scenario: partly closing a position realises P&L at the open average', () => {
  it('sells 5 of 20 (average Rs 105) at Rs 120 and realises Rs 75', () => {
    const position = aPosition(buy(10, 100), buy(10, 110), sell(5, 120));
    expect(position.view(120)).toMatchObject({
      netQuantity: 15,
      openAverage: 105,
      sellAverage: 120,
      realizedPnlPaise: 7_500n,
      unrealizedPnlPaise: 22_500n,
    });
  });

  it('keeps realised and unrealised adding up to the total in paise when averages are fractional', () => {
    // Open average 300.10 / 3 = Rs 100.0333...: the realised part rounds to the paisa.
    const position = aPosition(buy(1, 100), buy(2, 100.05), sell(1, 101));
    const view = position.view(101);
    expect(view.realizedPnlPaise).toBe(97n);
    expect(view.unrealizedPnlPaise).toBe(193n);
    expect(position.totalPnlPaise(101)).toBe(290n);
  });
});
