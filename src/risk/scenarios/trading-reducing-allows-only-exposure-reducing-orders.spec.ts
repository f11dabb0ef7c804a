import { RiskDenialCode, TradingState } from '../risk.types';
import { aContext, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: trading REDUCING accepts only orders that reduce a position', () => {
  const reducing = (netQuantity: number, openSellQuantity = 0, openBuyQuantity = 0) =>
    aContext({
      userState: TradingState.REDUCING,
      position: { netQuantity, openSellQuantity, openBuyQuantity },
    });

  it('passes a SELL that partly closes a long position', () => {
    expect(checkOnce(anOrder({ side: 'SELL', quantity: 4 }), reducing(10)).pass).toBe(true);
  });

  it('passes a BUY that fully covers a short position', () => {
    expect(checkOnce(anOrder({ side: 'BUY', quantity: 10 }), reducing(-10)).pass).toBe(true);
  });

  it('denies a BUY that adds to a long position', () => {
    expect(checkOnce(anOrder({ side: 'BUY', quantity: 1 }), reducing(10))).toMatchObject({
      pass: false,
      code: RiskDenialCode.REDUCE_ONLY,
    });
  });

  it('denies a SELL that would flip a long position short', () => {
    expect(checkOnce(anOrder({ side: 'SELL', quantity: 11 }), reducing(10))).toMatchObject({
      pass: false,
      code: RiskDenialCode.REDUCE_ONLY,
    });
  });

  it('denies a SELL that flips the position together with working SELL orders', () => {
    expect(checkOnce(anOrder({ side: 'SELL', quantity: 4 }), reducing(10, 7))).toMatchObject({
      pass: false,
      code: RiskDenialCode.REDUCE_ONLY,
    });
  });

  it('denies any new order with no position', () => {
    expect(checkOnce(anOrder({ side: 'SELL' }), reducing(0))).toMatchObject({
      pass: false,
      code: RiskDenialCode.REDUCE_ONLY,
    });
  });

  it('denies when only GLOBAL is REDUCING and the user is ACTIVE', () => {
    const ctx = aContext({ globalState: TradingState.REDUCING });
    expect(checkOnce(anOrder(), ctx)).toMatchObject({
      pass: false,
      code: RiskDenialCode.REDUCE_ONLY,
    });
  });

  it('passes a modification that lowers the quantity of a non-reducing order', () => {
    const order = anOrder({ action: 'MODIFY', quantity: 5, previous: anOrder({ quantity: 10 }) });
    expect(checkOnce(order, reducing(0)).pass).toBe(true);
  });

  it('denies a modification that raises the quantity of a non-reducing order', () => {
    const order = anOrder({ action: 'MODIFY', quantity: 20, previous: anOrder({ quantity: 10 }) });
    expect(checkOnce(order, reducing(0))).toMatchObject({
      pass: false,
      code: RiskDenialCode.REDUCE_ONLY,
    });
  });

  it('denies a modification that raises a BUY limit price (more exposure)', () => {
    const order = anOrder({ action: 'MODIFY', price: 1010, previous: anOrder({ price: 1000 }) });
    expect(checkOnce(order, reducing(0))).toMatchObject({
      pass: false,
      code: RiskDenialCode.REDUCE_ONLY,
    });
  });

  it('passes a cancel', () => {
    expect(checkOnce(anOrder({ action: 'CANCEL' }), reducing(0)).pass).toBe(true);
  });
});
