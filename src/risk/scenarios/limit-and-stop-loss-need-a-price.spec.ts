import { RiskDenialCode } from '../risk.types';
import { aContext, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: LIMIT and STOP_LOSS orders need a price', () => {
  it('denies a LIMIT order without a price', () => {
    expect(checkOnce(anOrder({ orderType: 'LIMIT', price: undefined }), aContext())).toMatchObject({
      pass: false,
      code: RiskDenialCode.PRICE_REQUIRED,
    });
  });

  it('denies a STOP_LOSS order with price 0', () => {
    const order = anOrder({ orderType: 'STOP_LOSS', price: 0, triggerPrice: 1010 });
    expect(checkOnce(order, aContext())).toMatchObject({
      pass: false,
      code: RiskDenialCode.PRICE_REQUIRED,
    });
  });

  it('passes a MARKET order without a price', () => {
    expect(checkOnce(anOrder({ orderType: 'MARKET', price: undefined }), aContext()).pass).toBe(
      true,
    );
  });
});
