import { RiskDenialCode } from '../risk.types';
import { aContext, anOrder, checkOnce, rupees } from '../__tests__/factories';

describe('scenario: the daily loss limit denies new exposure and signals REDUCING', () => {
  const ctx = (dayPnlPaise: number, netQuantity = 0) =>
    aContext({
      limits: { maxDailyLossPaise: rupees(10_000) },
      account: { dayPnlPaise },
      position: { netQuantity },
    });
  const flip = { kind: 'FLIP_USER_TO_REDUCING', userId: 'user-1' };

  it('denies an exposure-increasing order at a Rs 10,000 loss and signals the flip', () => {
    const verdict = checkOnce(anOrder(), ctx(-rupees(10_000)));
    expect(verdict).toMatchObject({ pass: false, code: RiskDenialCode.DAILY_LOSS_LIMIT });
    expect(verdict.signals).toEqual([expect.objectContaining(flip)]);
  });

  it('passes a reducing order at the limit and still signals the flip', () => {
    const verdict = checkOnce(anOrder({ side: 'SELL', quantity: 5 }), ctx(-rupees(12_000), 10));
    expect(verdict.pass).toBe(true);
    expect(verdict.signals).toEqual([expect.objectContaining(flip)]);
  });

  it('passes with a loss one paisa short of the limit, without a signal', () => {
    const verdict = checkOnce(anOrder(), ctx(-rupees(10_000) + 1));
    expect(verdict.pass).toBe(true);
    expect(verdict.signals).toEqual([]);
  });
});
