import { RiskDenialCode } from '../risk.types';
import { aContext, aFuture, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: F&O quantity must be a multiple of the lot size', () => {
  const ctx = () => aContext({ instrument: aFuture({ lotSize: 75 }), market: { ltp: 240 } });
  const order = (quantity: number) => anOrder({ quantity, price: 240, productType: 'MARGIN' });

  it('denies 100 when the lot is 75', () => {
    expect(checkOnce(order(100), ctx())).toMatchObject({
      pass: false,
      code: RiskDenialCode.QTY_NOT_LOT_MULTIPLE,
    });
  });

  it('passes two lots (150)', () => {
    expect(checkOnce(order(150), ctx()).pass).toBe(true);
  });
});
