import { RiskDenialCode } from '../risk.types';
import { aContext, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: stop-loss and cover orders need a trigger price', () => {
  const required = { pass: false, code: RiskDenialCode.TRIGGER_REQUIRED };

  it('denies a STOP_LOSS without a trigger', () => {
    expect(checkOnce(anOrder({ orderType: 'STOP_LOSS', price: 1010 }), aContext())).toMatchObject(
      required,
    );
  });

  it('denies a STOP_LOSS_MARKET without a trigger', () => {
    const order = anOrder({ orderType: 'STOP_LOSS_MARKET', price: undefined });
    expect(checkOnce(order, aContext())).toMatchObject(required);
  });

  it('denies a cover order without its stop trigger', () => {
    const order = anOrder({ productType: 'CO' });
    expect(checkOnce(order, aContext())).toMatchObject(required);
  });

  it('passes a BUY STOP_LOSS_MARKET with a trigger above the market', () => {
    const order = anOrder({ orderType: 'STOP_LOSS_MARKET', price: undefined, triggerPrice: 1010 });
    expect(checkOnce(order, aContext()).pass).toBe(true);
  });
});
