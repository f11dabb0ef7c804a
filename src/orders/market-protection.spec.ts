import { marketProtection } from './market-protection';

describe('marketProtection', () => {
  const base = { tickSize: 0.05, percent: 2 };

  it('a market buy becomes a limit at LTP + band, rounded down onto the tick', () => {
    expect(marketProtection({ ...base, side: 'BUY', orderType: 'MARKET', ltp: 1234.5 })).toEqual({
      orderType: 'LIMIT',
      price: 1259.15, // 1234.50 * 1.02 = 1259.19 -> 1259.15
      percent: 2,
    });
  });

  it('a market sell becomes a limit at LTP - band, rounded up onto the tick', () => {
    expect(marketProtection({ ...base, side: 'SELL', orderType: 'MARKET', ltp: 1234.5 })).toEqual({
      orderType: 'LIMIT',
      price: 1209.85, // 1234.50 * 0.98 = 1209.81 -> 1209.85
      percent: 2,
    });
  });

  it('an SL-M becomes a stop-loss limit banded around its trigger', () => {
    expect(
      marketProtection({ ...base, side: 'SELL', orderType: 'STOP_LOSS_MARKET', triggerPrice: 100 }),
    ).toEqual({ orderType: 'STOP_LOSS', price: 98, percent: 2 });
  });

  it('stays within the circuit limits', () => {
    expect(
      marketProtection({
        ...base,
        side: 'BUY',
        orderType: 'MARKET',
        ltp: 100,
        upperCircuit: 101.02,
      }),
    ).toMatchObject({ price: 101 });
    expect(
      marketProtection({
        ...base,
        side: 'SELL',
        orderType: 'MARKET',
        ltp: 100,
        lowerCircuit: 99.01,
      }),
    ).toMatchObject({ price: 99.05 });
  });

  it('leaves limit orders alone and says when a market order has no price', () => {
    expect(
      marketProtection({ ...base, side: 'BUY', orderType: 'LIMIT', ltp: 100 }),
    ).toBeUndefined();
    expect(marketProtection({ ...base, side: 'BUY', orderType: 'MARKET' })).toBe('NO_PRICE');
  });
});
