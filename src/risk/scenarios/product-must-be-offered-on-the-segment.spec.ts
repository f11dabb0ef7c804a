import { RiskDenialCode } from '../risk.types';
import { aContext, aFuture, anOrder, checkOnce } from '../__tests__/factories';
import { ExchangeSegment } from '@app/dhan/types';

describe('scenario: the product must be offered on the segment', () => {
  const notAllowed = { pass: false, code: RiskDenialCode.PRODUCT_NOT_ALLOWED };
  const fno = () => aContext({ instrument: aFuture(), market: { ltp: 240 } });
  const mcx = () =>
    aContext({
      instrument: aFuture({
        segment: ExchangeSegment.MCX_COMM,
        instrumentType: 'FUTCOM',
        lotSize: 1,
      }),
      market: { ltp: 240 },
    });

  it('denies CNC on F&O (delivery is equity only)', () => {
    expect(
      checkOnce(anOrder({ quantity: 75, price: 240, productType: 'CNC' }), fno()),
    ).toMatchObject(notAllowed);
  });

  it('denies MTF on a commodity (equity only)', () => {
    expect(
      checkOnce(anOrder({ quantity: 1, price: 240, productType: 'MTF' }), mcx()),
    ).toMatchObject(notAllowed);
  });

  it('denies MARGIN on equity cash', () => {
    expect(checkOnce(anOrder({ productType: 'MARGIN' }), aContext())).toMatchObject(notAllowed);
  });

  it('denies a bracket order without target and stop offsets', () => {
    expect(checkOnce(anOrder({ productType: 'BO' }), aContext())).toMatchObject(notAllowed);
  });

  it('denies a cover order of type STOP_LOSS', () => {
    const order = anOrder({
      productType: 'CO',
      orderType: 'STOP_LOSS',
      price: 1010,
      triggerPrice: 1005,
    });
    expect(checkOnce(order, aContext())).toMatchObject(notAllowed);
  });

  it('passes CNC, MTF and INTRADAY on equity and MARGIN on F&O', () => {
    for (const productType of ['CNC', 'MTF', 'INTRADAY'] as const) {
      expect(checkOnce(anOrder({ productType }), aContext()).pass).toBe(true);
    }
    expect(
      checkOnce(anOrder({ quantity: 75, price: 240, productType: 'MARGIN' }), fno()).pass,
    ).toBe(true);
  });

  it('passes a bracket order with both offsets', () => {
    const order = anOrder({ productType: 'BO', boProfitValue: 10, boStopLossValue: 5 });
    expect(checkOnce(order, aContext()).pass).toBe(true);
  });
});
