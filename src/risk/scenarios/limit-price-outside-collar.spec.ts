import { RiskDenialCode } from '../risk.types';
import { aContext, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: a limit price must sit within the collar around LTP and inside the circuit', () => {
  const outside = { pass: false, code: RiskDenialCode.PRICE_OUTSIDE_COLLAR };
  const ctx = (market = {}) =>
    aContext({ limits: { priceCollarBps: 500 }, market: { ltp: 1000, ...market } });

  it('denies a BUY 5.05% above LTP with a 5% collar', () => {
    expect(checkOnce(anOrder({ price: 1050.5 }), ctx())).toMatchObject(outside);
  });

  it('denies a SELL 5.05% below LTP', () => {
    expect(
      checkOnce(anOrder({ side: 'SELL', price: 949.5, productType: 'INTRADAY' }), ctx()),
    ).toMatchObject(outside);
  });

  it('denies a price above the upper circuit even inside the collar', () => {
    expect(checkOnce(anOrder({ price: 1020 }), ctx({ upperCircuit: 1015 }))).toMatchObject(outside);
  });

  it('passes exactly 5% away', () => {
    expect(checkOnce(anOrder({ price: 1050 }), ctx()).pass).toBe(true);
  });

  it('passes when no price is known (nothing to collar against)', () => {
    expect(
      checkOnce(anOrder({ price: 5000 }), ctx({ ltp: undefined, lastTickAt: undefined })).pass,
    ).toBe(true);
  });
});
