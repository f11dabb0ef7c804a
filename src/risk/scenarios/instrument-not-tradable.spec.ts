import { RiskDenialCode } from '../risk.types';
import {
  TODAY,
  aContext,
  aFuture,
  anEquity,
  anIndex,
  anOrder,
  checkOnce,
} from '../__tests__/factories';

describe('scenario: only existing, unexpired, non-index instruments are tradable', () => {
  const denied = { pass: false, code: RiskDenialCode.INSTRUMENT_NOT_TRADABLE };

  it('denies an unknown instrument', () => {
    expect(checkOnce(anOrder(), aContext({ instrument: undefined }))).toMatchObject(denied);
  });

  it('denies an index (segment IDX_I)', () => {
    expect(checkOnce(anOrder(), aContext({ instrument: anIndex() }))).toMatchObject(denied);
  });

  it('denies a contract that expired yesterday', () => {
    const ctx = aContext({ instrument: aFuture({ expiry: '2026-11-24' }), market: { ltp: 24000 } });
    const order = anOrder({ quantity: 75, price: 24000, productType: 'MARGIN' });
    expect(checkOnce(order, ctx)).toMatchObject(denied);
  });

  it('passes a contract expiring today', () => {
    const ctx = aContext({ instrument: aFuture({ expiry: TODAY }), market: { ltp: 240 } });
    const order = anOrder({ quantity: 75, price: 240, productType: 'MARGIN' });
    expect(checkOnce(order, ctx).pass).toBe(true);
  });

  it('passes an equity', () => {
    expect(checkOnce(anOrder(), aContext({ instrument: anEquity() })).pass).toBe(true);
  });
});
