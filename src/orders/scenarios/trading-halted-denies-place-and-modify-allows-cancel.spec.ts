import { DomainError } from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import { RiskDenialCode, TradingState } from '../../risk/risk.types';
import { aPlaceOrder, createHarness, type Harness } from '../__tests__/harness';
import { OrderStatus } from '../../trading/order-status';

const USER = '00000000-0000-4000-8000-00000000000a';

describe('scenario: trading HALTED (globally or for the user) denies place and modify, allows cancel', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  async function aPendingOrder() {
    const order = await h.orders.place(USER, aPlaceOrder());
    h.emitBroker({
      orderId: order.id,
      userId: USER,
      source: 'socket',
      event: { type: 'BROKER_UPDATE', status: OrderStatus.PENDING },
    });
    await h.orders.settled(order.id);
    return order;
  }

  it.each([
    ['GLOBAL', null],
    ['USER', USER],
  ] as const)('%s halt', async (scope, userId) => {
    const working = await aPendingOrder();
    await h.risk.setTradingState(scope, userId, TradingState.HALTED, 'kill switch');

    const placed = await h.orders.place(USER, aPlaceOrder());
    expect(placed).toMatchObject({
      status: OrderStatus.REJECTED,
      rejectionReason: RiskDenialCode.TRADING_HALTED,
    });

    const modify = h.orders.modify(USER, working.id, { price: 999 });
    await expect(modify).rejects.toBeInstanceOf(DomainError);
    await expect(modify).rejects.toMatchObject({
      code: ErrorCode.BAD_USER_INPUT,
      details: { rejectionReason: RiskDenialCode.TRADING_HALTED },
    });
    expect(h.port.modified).toHaveLength(0);
    expect(await h.orders.get(USER, working.id)).toMatchObject({
      price: 1000,
      modificationCount: 0,
    });

    expect((await h.orders.cancel(USER, working.id)).status).toBe(OrderStatus.CANCELLED);
    expect(h.port.cancelled).toEqual([working.id]);
    expect(h.port.placed).toHaveLength(1);
  });

  it('back to ACTIVE, orders pass again', async () => {
    await h.risk.setTradingState('GLOBAL', null, TradingState.HALTED);
    await h.risk.setTradingState('GLOBAL', null, TradingState.ACTIVE);
    expect((await h.orders.place(USER, aPlaceOrder())).status).toBe(OrderStatus.TRANSIT);
  });
});
