import { FundsLedger } from '../funds-ledger';
import { RiskDenialCode } from '../risk.types';
import { aContext, aFuture, anOption, anOrder, checkOnce, rupees } from '../__tests__/factories';

describe('scenario: the order margin must fit in the available funds, and is reserved', () => {
  it('denies a CNC buy of Rs 10,000 with Rs 9,999.99 available', () => {
    const ctx = aContext({ balancePaise: rupees(10_000) - 1 });
    expect(checkOnce(anOrder({ quantity: 10 }), ctx)).toMatchObject({
      pass: false,
      code: RiskDenialCode.INSUFFICIENT_FUNDS,
    });
    expect(ctx.funds.snapshot().reservedPaise).toBe(0);
  });

  it('passes exactly Rs 10,000 and reserves it', () => {
    const ctx = aContext({ balancePaise: rupees(10_000) });
    const order = anOrder({ quantity: 10 });
    expect(checkOnce(order, ctx)).toMatchObject({
      pass: true,
      reservation: { orderId: order.orderId, amountPaise: rupees(10_000) },
    });
    expect(ctx.funds.snapshot()).toMatchObject({
      reservedPaise: rupees(10_000),
      availablePaise: 0,
    });
  });

  it('needs only 20% for INTRADAY equity', () => {
    const ctx = aContext({ balancePaise: rupees(2_000) });
    expect(checkOnce(anOrder({ quantity: 10, productType: 'INTRADAY' }), ctx).pass).toBe(true);
  });

  it('charges a futures carry-forward 15% of notional', () => {
    const ctx = aContext({
      instrument: aFuture(),
      market: { ltp: 240 },
      balancePaise: rupees(2_700),
    });
    const verdict = checkOnce(anOrder({ quantity: 75, price: 240, productType: 'MARGIN' }), ctx);
    expect(verdict).toMatchObject({ pass: true, reservation: { amountPaise: rupees(2_700) } });
  });

  it('charges an option buyer the premium and an option writer a share of the strike value', () => {
    const option = () =>
      aContext({ instrument: anOption(), market: { ltp: 100 }, balancePaise: rupees(1_000_000) });
    const buy = checkOnce(anOrder({ quantity: 75, price: 100, productType: 'MARGIN' }), option());
    expect(buy).toMatchObject({ pass: true, reservation: { amountPaise: rupees(7_500) } });
    const sell = checkOnce(
      anOrder({ side: 'SELL', quantity: 75, price: 100, productType: 'MARGIN' }),
      option(),
    );
    // 15% of 24,000 x 75
    expect(sell).toMatchObject({ pass: true, reservation: { amountPaise: rupees(270_000) } });
  });

  it('needs no margin to close a position', () => {
    const ctx = aContext({ balancePaise: 0, position: { netQuantity: 10 } });
    expect(checkOnce(anOrder({ side: 'SELL', quantity: 10 }), ctx)).toMatchObject({
      pass: true,
      reservation: { amountPaise: 0 },
    });
  });

  it('re-reserves only the increase on a modification', () => {
    const funds = new FundsLedger(rupees(15_000));
    const original = anOrder({ quantity: 10 });
    expect(checkOnce(original, aContext({ funds })).pass).toBe(true);
    const modify = anOrder({
      orderId: original.orderId,
      action: 'MODIFY',
      quantity: 15,
      previous: original,
    });
    expect(checkOnce(modify, aContext({ funds })).pass).toBe(true);
    expect(funds.snapshot()).toMatchObject({ reservedPaise: rupees(15_000), availablePaise: 0 });
  });
});
