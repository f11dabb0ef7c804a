import { RiskDenialCode } from '../risk.types';
import { NOW, aContext, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: a market order needs a fresh, non-stale last price (RELIABILITY F11)', () => {
  const market = () => anOrder({ orderType: 'MARKET', price: undefined });
  const noPrice = { pass: false, code: RiskDenialCode.NO_FRESH_PRICE };

  it('denies when there is no price at all', () => {
    const ctx = aContext({ market: { ltp: undefined, lastTickAt: undefined } });
    expect(checkOnce(market(), ctx)).toMatchObject(noPrice);
  });

  it('denies when the last tick is older than the staleness threshold', () => {
    const ctx = aContext({ limits: { staleAfterMs: 5_000 }, market: { lastTickAt: NOW - 5_001 } });
    expect(checkOnce(market(), ctx)).toMatchObject(noPrice);
  });

  it('denies when the tick store marks the instrument stale', () => {
    expect(checkOnce(market(), aContext({ market: { stale: true } }))).toMatchObject(noPrice);
  });

  it('passes with a tick exactly at the threshold', () => {
    const ctx = aContext({ limits: { staleAfterMs: 5_000 }, market: { lastTickAt: NOW - 5_000 } });
    expect(checkOnce(market(), ctx).pass).toBe(true);
  });

  it('passes a limit order without any price (it does not need the market)', () => {
    const ctx = aContext({ market: { ltp: undefined, lastTickAt: undefined } });
    expect(checkOnce(anOrder(), ctx).pass).toBe(true);
  });
});
