import { RiskDenialCode } from '../risk.types';
import { aContext, anOrder, checkOnce, rupees } from '../__tests__/factories';

describe('scenario: the position in one instrument may not exceed its value limit', () => {
  const ctx = (netQuantity: number, openBuyQuantity = 0) =>
    aContext({
      limits: { maxPositionValuePaise: rupees(100_000) },
      position: { netQuantity, openBuyQuantity },
    });
  const denied = { pass: false, code: RiskDenialCode.POSITION_LIMIT };

  it('denies a BUY taking a 95-share long to 105 at Rs 1,000', () => {
    expect(checkOnce(anOrder({ quantity: 10 }), ctx(95))).toMatchObject(denied);
  });

  it('counts working BUY orders towards the projected position', () => {
    expect(checkOnce(anOrder({ quantity: 10 }), ctx(50, 45))).toMatchObject(denied);
  });

  it('passes a BUY up to exactly Rs 1 lakh', () => {
    expect(checkOnce(anOrder({ quantity: 10 }), ctx(90)).pass).toBe(true);
  });

  it('passes a reducing SELL of a position already above the limit', () => {
    expect(checkOnce(anOrder({ side: 'SELL', quantity: 10 }), ctx(150)).pass).toBe(true);
  });
});
