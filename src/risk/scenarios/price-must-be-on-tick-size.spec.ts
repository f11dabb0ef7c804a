import { RiskDenialCode } from '../risk.types';
import { aContext, anEquity, anOrder, checkOnce } from '../__tests__/factories';
import { ExchangeSegment } from '@app/dhan/types';

describe('scenario: prices must sit on the tick size (integer arithmetic)', () => {
  const offTick = { pass: false, code: RiskDenialCode.PRICE_OFF_TICK };

  it('denies 1000.03 on a 0.05 tick', () => {
    expect(checkOnce(anOrder({ price: 1000.03 }), aContext())).toMatchObject(offTick);
  });

  it('denies a price with more precision than 1/10,000 rupee', () => {
    expect(checkOnce(anOrder({ price: 1000.000001 }), aContext())).toMatchObject(offTick);
  });

  it('denies a trigger off the tick', () => {
    const order = anOrder({ orderType: 'STOP_LOSS', price: 1010, triggerPrice: 1005.01 });
    expect(checkOnce(order, aContext())).toMatchObject(offTick);
  });

  it('passes 1000.05 and 999.95, which binary floats cannot represent exactly', () => {
    expect(checkOnce(anOrder({ price: 1000.05 }), aContext()).pass).toBe(true);
    expect(checkOnce(anOrder({ price: 999.95 }), aContext()).pass).toBe(true);
  });

  it('passes a quarter-paisa currency price on a 0.0025 tick', () => {
    const ctx = aContext({
      instrument: anEquity({
        segment: ExchangeSegment.NSE_CURRENCY,
        instrumentType: 'FUTCUR',
        tickSize: 0.0025,
      }),
      market: { ltp: 83.1225 },
    });
    const order = anOrder({ price: 83.1225, productType: 'INTRADAY', quantity: 1 });
    expect(checkOnce(order, ctx).pass).toBe(true);
  });
});
