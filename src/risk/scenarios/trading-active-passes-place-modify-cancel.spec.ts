import { aContext, anOrder, checkOnce } from '../__tests__/factories';

describe('scenario: trading ACTIVE passes place, modify and cancel', () => {
  it('passes a new exposure-increasing order', () => {
    expect(checkOnce(anOrder({ side: 'BUY' }), aContext()).pass).toBe(true);
  });

  it('passes a modification that raises exposure within the limits', () => {
    const order = anOrder({ action: 'MODIFY', quantity: 20, previous: anOrder({ quantity: 10 }) });
    expect(checkOnce(order, aContext()).pass).toBe(true);
  });

  it('passes a cancel', () => {
    expect(checkOnce(anOrder({ action: 'CANCEL' }), aContext()).pass).toBe(true);
  });
});
