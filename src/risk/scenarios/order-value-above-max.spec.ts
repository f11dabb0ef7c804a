import { RiskDenialCode } from '../risk.types';
import { aContext, anOrder, checkOnce, rupees } from '../__tests__/factories';

describe('scenario: an order worth more than the maximum order value is denied', () => {
  const ctx = () => aContext({ limits: { maxOrderValuePaise: rupees(10_000) } });

  it('denies 11 x Rs 1,000 with a Rs 10,000 maximum', () => {
    expect(checkOnce(anOrder({ quantity: 11 }), ctx())).toMatchObject({
      pass: false,
      code: RiskDenialCode.ORDER_VALUE_ABOVE_MAX,
    });
  });

  it('denies a market order valued at LTP plus the buffer above the maximum', () => {
    const order = anOrder({ quantity: 10, orderType: 'MARKET', price: undefined });
    expect(checkOnce(order, ctx())).toMatchObject({
      pass: false,
      code: RiskDenialCode.ORDER_VALUE_ABOVE_MAX,
    });
  });

  it('passes exactly Rs 10,000', () => {
    expect(checkOnce(anOrder({ quantity: 10 }), ctx()).pass).toBe(true);
  });

  it('passes a modification that lowers an order already above a since-lowered maximum', () => {
    const order = anOrder({ action: 'MODIFY', quantity: 15, previous: anOrder({ quantity: 20 }) });
    expect(checkOnce(order, ctx()).pass).toBe(true);
  });
});
