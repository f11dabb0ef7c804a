import { decidePaperFill, type PaperQuote, type PaperWorkingOrder } from './paper-fill-rules';

function order(overrides: Partial<PaperWorkingOrder> = {}): PaperWorkingOrder {
  return {
    side: 'BUY',
    orderType: 'MARKET',
    validity: 'DAY',
    remaining: 10,
    triggered: false,
    ...overrides,
  };
}

const touch: PaperQuote = { ltp: 100, bestBid: 99.95, bestAsk: 100.05 };

describe('paper fill rules (the simulator matching engine on live ticks)', () => {
  it('MARKET fills the whole remaining quantity at the touch: ask for a buy, bid for a sell', () => {
    expect(decidePaperFill(order(), touch).fill).toEqual({ quantity: 10, price: 100.05 });
    expect(decidePaperFill(order({ side: 'SELL' }), touch).fill).toEqual({
      quantity: 10,
      price: 99.95,
    });
  });

  it('without depth the touch is the LTP', () => {
    expect(decidePaperFill(order(), { ltp: 101.5 }).fill).toEqual({ quantity: 10, price: 101.5 });
  });

  it('LIMIT fills only when the market crosses its price, at the touch', () => {
    const buyBelow = order({ orderType: 'LIMIT', price: 100 });
    expect(decidePaperFill(buyBelow, touch).fill).toBeUndefined();
    const buyAbove = order({ orderType: 'LIMIT', price: 100.05 });
    expect(decidePaperFill(buyAbove, touch).fill).toEqual({ quantity: 10, price: 100.05 });
    const sellAbove = order({ side: 'SELL', orderType: 'LIMIT', price: 100 });
    expect(decidePaperFill(sellAbove, touch).fill).toBeUndefined();
    const sellBelow = order({ side: 'SELL', orderType: 'LIMIT', price: 99.9 });
    expect(decidePaperFill(sellBelow, touch).fill).toEqual({ quantity: 10, price: 99.95 });
  });

  it('STOP_LOSS_MARKET waits for the trigger (buy at or above, sell at or below), then fills at market', () => {
    const buyStop = order({ orderType: 'STOP_LOSS_MARKET', triggerPrice: 101 });
    expect(decidePaperFill(buyStop, touch)).toEqual({ triggered: false, cancelRest: false });
    const fired = decidePaperFill(buyStop, { ltp: 101, bestBid: 100.95, bestAsk: 101.05 });
    expect(fired).toEqual({
      triggered: true,
      fill: { quantity: 10, price: 101.05 },
      cancelRest: false,
    });
    const sellStop = order({ side: 'SELL', orderType: 'STOP_LOSS_MARKET', triggerPrice: 99 });
    expect(decidePaperFill(sellStop, touch).triggered).toBe(false);
    expect(decidePaperFill(sellStop, { ltp: 98.9 }).fill).toEqual({ quantity: 10, price: 98.9 });
  });

  it('STOP_LOSS, once triggered, behaves as a LIMIT at its price and stays triggered', () => {
    const sl = order({ orderType: 'STOP_LOSS', triggerPrice: 101, price: 101.1 });
    const fired = decidePaperFill(sl, { ltp: 101, bestAsk: 101.2 });
    expect(fired).toEqual({ triggered: true, cancelRest: false });
    // The LTP falls back under the trigger: still triggered, fills once the ask crosses.
    const later = decidePaperFill({ ...sl, triggered: true }, { ltp: 100.9, bestAsk: 101.05 });
    expect(later).toEqual({
      triggered: true,
      fill: { quantity: 10, price: 101.05 },
      cancelRest: false,
    });
  });

  it('IOC cancels what did not fill at once; a filled IOC cancels nothing', () => {
    const ioc = order({ orderType: 'LIMIT', price: 99, validity: 'IOC' });
    expect(decidePaperFill(ioc, touch)).toEqual({ triggered: false, cancelRest: true });
    expect(decidePaperFill({ ...ioc, price: 101 }, touch).cancelRest).toBe(false);
  });

  it('no price, a stale price or a zero LTP never fills', () => {
    expect(decidePaperFill(order(), {}).fill).toBeUndefined();
    expect(decidePaperFill(order(), { ...touch, stale: true }).fill).toBeUndefined();
    expect(decidePaperFill(order(), { ltp: 0 }).fill).toBeUndefined();
    expect(decidePaperFill(order(), { ltp: Number.NaN }).fill).toBeUndefined();
    expect(decidePaperFill(order({ validity: 'IOC' }), {}).cancelRest).toBe(true);
  });
});
