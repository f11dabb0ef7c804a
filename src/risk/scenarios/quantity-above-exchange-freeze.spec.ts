import { RiskDenialCode } from '../risk.types';
import { sliceQuantity } from '../risk-engine';
import { aContext, aFuture, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: quantity above the exchange freeze quantity is sliced or denied', () => {
  const ctx = (freezePolicy: 'SLICE' | 'DENY') =>
    aContext({
      instrument: aFuture({ lotSize: 75 }),
      freezeQuantity: 1800,
      market: { ltp: 100 },
      limits: { freezePolicy },
      balancePaise: 1_000_000_000,
    });
  const order = (quantity: number, action: 'PLACE' | 'MODIFY' = 'PLACE') =>
    anOrder({
      quantity,
      price: 100,
      productType: 'MARGIN',
      action,
      previous: anOrder({ quantity: 75, price: 100 }),
    });

  it('denies 1,875 under the DENY policy', () => {
    expect(checkOnce(order(1875), ctx('DENY'))).toMatchObject({
      pass: false,
      code: RiskDenialCode.QTY_ABOVE_FREEZE,
    });
  });

  it('slices 4,200 into 1,800 + 1,800 + 600 under the SLICE policy', () => {
    const verdict = checkOnce(order(4200), ctx('SLICE'));
    expect(verdict).toMatchObject({ pass: true, slices: [1800, 1800, 600] });
  });

  it('denies a modification above the freeze quantity even under SLICE (DhanHQ slices only new orders)', () => {
    expect(checkOnce(order(1875, 'MODIFY'), ctx('SLICE'))).toMatchObject({
      pass: false,
      code: RiskDenialCode.QTY_ABOVE_FREEZE,
    });
  });

  it('passes exactly the freeze quantity without slices', () => {
    const verdict = checkOnce(order(1800), ctx('DENY'));
    expect(verdict.pass).toBe(true);
    expect(verdict.pass && verdict.slices).toBeUndefined();
  });

  it('slices into lot multiples when the freeze quantity is not one', () => {
    expect(sliceQuantity(500, 180, 50)).toEqual([150, 150, 150, 50]);
  });
});
