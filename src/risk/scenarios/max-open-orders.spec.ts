import { RiskDenialCode } from '../risk.types';
import { aContext, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: a user may have at most N working orders', () => {
  const ctx = (openOrderCount: number) =>
    aContext({ limits: { maxOpenOrders: 3 }, account: { openOrderCount } });

  it('denies a fourth working order', () => {
    expect(checkOnce(anOrder(), ctx(3))).toMatchObject({
      pass: false,
      code: RiskDenialCode.MAX_OPEN_ORDERS,
    });
  });

  it('passes the third', () => {
    expect(checkOnce(anOrder(), ctx(2)).pass).toBe(true);
  });

  it('passes a modification at the cap (it adds no order)', () => {
    const order = anOrder({ action: 'MODIFY', quantity: 5, previous: anOrder() });
    expect(checkOnce(order, ctx(3)).pass).toBe(true);
  });
});
