import { RiskDenialCode, TradingState } from '../../risk/risk.types';
import { RELIANCE, aPlaceOrder, createHarness, type Harness } from '../__tests__/harness';
import { OrderStatus } from '../../trading/order-status';

const USER = '00000000-0000-4000-8000-00000000000b';

describe('scenario: trading REDUCING accepts only orders that reduce the position', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness();
    // Long 10 RELIANCE.
    h.portfolio.positions.set(`${USER}:${RELIANCE.securityId}`, 10);
  });

  afterEach(async () => {
    await h.close();
  });

  it('USER REDUCING: a sell within the long passes, a buy and an oversell are denied', async () => {
    await h.risk.setTradingState('USER', USER, TradingState.REDUCING);
    expect((await h.orders.place(USER, aPlaceOrder({ side: 'SELL', quantity: 6 }))).status).toBe(
      OrderStatus.TRANSIT,
    );
    // 6 already working to sell: another 6 would take the position through zero.
    expect(await h.orders.place(USER, aPlaceOrder({ side: 'SELL', quantity: 6 }))).toMatchObject({
      status: OrderStatus.REJECTED,
      rejectionReason: RiskDenialCode.REDUCE_ONLY,
    });
    expect(await h.orders.place(USER, aPlaceOrder({ side: 'BUY', quantity: 1 }))).toMatchObject({
      status: OrderStatus.REJECTED,
      rejectionReason: RiskDenialCode.REDUCE_ONLY,
    });
    expect(h.port.placed).toHaveLength(1);
  });

  it('GLOBAL REDUCING applies to every user', async () => {
    await h.risk.setTradingState('GLOBAL', null, TradingState.REDUCING);
    expect(await h.orders.place(USER, aPlaceOrder({ side: 'BUY' }))).toMatchObject({
      status: OrderStatus.REJECTED,
      rejectionReason: RiskDenialCode.REDUCE_ONLY,
    });
  });

  it('the daily loss limit flips the user to REDUCING (persisted) on the next order', async () => {
    h.portfolio.dayPnlPaise = -6_000_000; // Rs 60,000 loss; default limit Rs 50,000
    const denied = await h.orders.place(USER, aPlaceOrder({ side: 'BUY' }));
    expect(denied).toMatchObject({ status: OrderStatus.REJECTED });
    expect(await h.risk.tradingState('USER', USER)).toBe(TradingState.REDUCING);
    expect((await h.risk.tradingStateView('USER', USER)).reason).toMatch(/Daily loss limit/);
    expect((await h.orders.place(USER, aPlaceOrder({ side: 'SELL', quantity: 5 }))).status).toBe(
      OrderStatus.TRANSIT,
    );
  });
});
