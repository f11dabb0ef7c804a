import { RiskDenialCode } from '../risk.types';
import { aContext, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: IOC validity is refused where the exchange refuses it', () => {
  const notAllowed = { pass: false, code: RiskDenialCode.VALIDITY_NOT_ALLOWED };

  it('denies an IOC stop-loss', () => {
    const order = anOrder({
      validity: 'IOC',
      orderType: 'STOP_LOSS',
      price: 1020,
      triggerPrice: 1010,
    });
    expect(checkOnce(order, aContext())).toMatchObject(notAllowed);
  });

  it('denies an IOC cover order', () => {
    const order = anOrder({ validity: 'IOC', productType: 'CO', triggerPrice: 990 });
    expect(checkOnce(order, aContext())).toMatchObject(notAllowed);
  });

  it('passes an IOC limit order', () => {
    expect(checkOnce(anOrder({ validity: 'IOC' }), aContext()).pass).toBe(true);
  });
});
