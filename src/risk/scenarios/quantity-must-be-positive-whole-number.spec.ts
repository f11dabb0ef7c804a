import { RiskDenialCode } from '../risk.types';
import { aContext, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: quantity must be a whole number above zero', () => {
  it.each([0, -10, 2.5, Number.NaN])('denies quantity %p', (quantity) => {
    expect(checkOnce(anOrder({ quantity }), aContext())).toMatchObject({
      pass: false,
      code: RiskDenialCode.QTY_INVALID,
    });
  });

  it('denies a modification down to the quantity already filled', () => {
    const order = anOrder({
      action: 'MODIFY',
      quantity: 4,
      filledQuantity: 4,
      previous: anOrder(),
    });
    expect(checkOnce(order, aContext())).toMatchObject({
      pass: false,
      code: RiskDenialCode.QTY_INVALID,
    });
  });

  it('passes quantity 1', () => {
    expect(checkOnce(anOrder({ quantity: 1 }), aContext()).pass).toBe(true);
  });
});
