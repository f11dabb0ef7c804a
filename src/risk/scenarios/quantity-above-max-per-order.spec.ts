import { RiskDenialCode } from '../risk.types';
import { aContext, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: quantity above the per-order maximum is denied', () => {
  const ctx = () => aContext({ limits: { maxQuantityPerOrder: 500 }, market: { ltp: 10 } });

  it('denies 501 when the maximum is 500', () => {
    expect(checkOnce(anOrder({ quantity: 501, price: 10 }), ctx())).toMatchObject({
      pass: false,
      code: RiskDenialCode.QTY_ABOVE_MAX,
    });
  });

  it('passes exactly 500', () => {
    expect(checkOnce(anOrder({ quantity: 500, price: 10 }), ctx()).pass).toBe(true);
  });
});
