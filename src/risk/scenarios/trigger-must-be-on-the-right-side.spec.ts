import { RiskDenialCode } from '../risk.types';
import { aContext, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: a trigger must be on the right side of the price and the market', () => {
  const invalid = { pass: false, code: RiskDenialCode.TRIGGER_INVALID };
  const sl = (side: 'BUY' | 'SELL', price: number, triggerPrice: number) =>
    anOrder({ side, orderType: 'STOP_LOSS', price, triggerPrice, productType: 'INTRADAY' });

  it('denies a BUY stop-loss whose trigger is above its limit price', () => {
    expect(checkOnce(sl('BUY', 1010, 1020), aContext())).toMatchObject(invalid);
  });

  it('denies a SELL stop-loss whose trigger is below its limit price', () => {
    expect(checkOnce(sl('SELL', 990, 980), aContext())).toMatchObject(invalid);
  });

  it('denies a BUY stop-loss whose trigger is already below the last price', () => {
    expect(checkOnce(sl('BUY', 995, 990), aContext())).toMatchObject(invalid);
  });

  it('denies a BUY cover order whose stop is above its price', () => {
    const order = anOrder({ productType: 'CO', price: 1000, triggerPrice: 1005 });
    expect(checkOnce(order, aContext())).toMatchObject(invalid);
  });

  it('passes a BUY stop-loss above the market with its limit above the trigger', () => {
    expect(checkOnce(sl('BUY', 1020, 1010), aContext()).pass).toBe(true);
  });

  it('passes a SELL stop-loss below the market with its limit below the trigger', () => {
    expect(checkOnce(sl('SELL', 980, 990), aContext()).pass).toBe(true);
  });

  it('passes a BUY cover order with its stop below its price', () => {
    const order = anOrder({ productType: 'CO', price: 1000, triggerPrice: 990 });
    expect(checkOnce(order, aContext()).pass).toBe(true);
  });
});
