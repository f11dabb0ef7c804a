import { RiskDenialCode, TradingState } from '../risk.types';
import { aContext, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: trading HALTED denies new orders and modifications, never cancels', () => {
  const halted = [
    { scope: 'GLOBAL', ctx: () => aContext({ globalState: TradingState.HALTED }) },
    { scope: 'USER', ctx: () => aContext({ userState: TradingState.HALTED }) },
  ];

  it.each(halted)('denies a new order when $scope is HALTED', ({ ctx }) => {
    const verdict = checkOnce(anOrder(), ctx());
    expect(verdict).toMatchObject({ pass: false, code: RiskDenialCode.TRADING_HALTED });
  });

  it.each(halted)('denies a modification when $scope is HALTED', ({ ctx }) => {
    const order = anOrder({ action: 'MODIFY', quantity: 5, previous: anOrder({ quantity: 10 }) });
    expect(checkOnce(order, ctx())).toMatchObject({
      pass: false,
      code: RiskDenialCode.TRADING_HALTED,
    });
  });

  it.each(halted)('denies even an exposure-reducing order when $scope is HALTED', ({ ctx }) => {
    const base = ctx();
    const verdict = checkOnce(anOrder({ side: 'SELL' }), {
      ...base,
      position: { ...base.position, netQuantity: 10 },
    });
    expect(verdict).toMatchObject({ pass: false, code: RiskDenialCode.TRADING_HALTED });
  });

  it.each(halted)('passes a cancel when $scope is HALTED', ({ ctx }) => {
    expect(checkOnce(anOrder({ action: 'CANCEL' }), ctx()).pass).toBe(true);
  });

  it('passes a new order when both scopes are ACTIVE', () => {
    expect(checkOnce(anOrder(), aContext()).pass).toBe(true);
  });

  it('names the global scope in the message', () => {
    const verdict = checkOnce(anOrder(), aContext({ globalState: TradingState.HALTED }));
    expect(verdict.pass === false && verdict.message).toMatch(/globally/);
  });
});
