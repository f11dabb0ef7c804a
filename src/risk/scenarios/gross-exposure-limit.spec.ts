import { RiskDenialCode } from '../risk.types';
import { aContext, anOrder, checkOnce, rupees } from '../__tests__/factories';

describe('scenario: gross exposure across the account may not exceed its limit', () => {
  const ctx = (grossExposurePaise: number, netQuantity = 0) =>
    aContext({
      limits: { maxGrossExposurePaise: rupees(500_000) },
      account: { grossExposurePaise },
      position: { netQuantity },
    });

  it('denies Rs 10,000 more on Rs 4,95,000 of exposure', () => {
    expect(checkOnce(anOrder({ quantity: 10 }), ctx(rupees(495_000)))).toMatchObject({
      pass: false,
      code: RiskDenialCode.EXPOSURE_LIMIT,
    });
  });

  it('passes up to exactly the limit', () => {
    expect(checkOnce(anOrder({ quantity: 10 }), ctx(rupees(490_000))).pass).toBe(true);
  });

  it('passes a reducing order above the limit', () => {
    expect(checkOnce(anOrder({ side: 'SELL', quantity: 10 }), ctx(rupees(900_000), 20)).pass).toBe(
      true,
    );
  });

  it('counts only the increase of a modification', () => {
    const order = anOrder({ action: 'MODIFY', quantity: 12, previous: anOrder({ quantity: 10 }) });
    expect(checkOnce(order, ctx(rupees(498_000))).pass).toBe(true);
  });
});
