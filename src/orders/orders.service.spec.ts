import { ErrorCode } from '../common/errors/error-code';
import { FundsService } from '../risk/funds.service';
import { DomainError } from '../common/errors/domain-error';
import { RiskDenialCode } from '../risk/risk.types';
import {
  ExecutionAmbiguousError,
  ExecutionRejectedError,
  ExecutionUnavailableError,
  NIFTY_FUT,
  aPlaceOrder,
  createHarness,
  eventually,
  type Harness,
} from './__tests__/harness';
import { OrderStatus } from '../trading/order-status';
import { OrderStore } from './order-store';
import { WORKING_STATUSES } from './order-row';

const WORKING = new Set<OrderStatus>(WORKING_STATUSES);

const USER = '00000000-0000-4000-8000-000000000001';
const OTHER = '00000000-0000-4000-8000-000000000002';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  return undefined;
}

describe('OrdersService (real SQLite, fake ExecutionPort)', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  it('places a LIMIT order: NEW -> IN_FLIGHT (sent) -> TRANSIT, every step in the event log', async () => {
    const order = await h.orders.place(USER, aPlaceOrder());
    expect(order).toMatchObject({ status: OrderStatus.TRANSIT, brokerOrderId: 'B1', price: 1000 });
    expect(h.port.placed).toHaveLength(1);
    expect(h.port.placed[0]).toMatchObject({ orderId: order.id, quantity: 10, price: 1000 });
    const log = await h.eventRows(order.id);
    expect(log.map((e) => [e.seq, e.type, e.fromStatus, e.toStatus])).toEqual([
      [1, 'CREATED', null, 'NEW'],
      [2, 'RISK_APPROVED', 'NEW', 'IN_FLIGHT'],
      [3, 'SENT', 'IN_FLIGHT', 'IN_FLIGHT'],
      [4, 'ACKNOWLEDGED', 'IN_FLIGHT', 'TRANSIT'],
    ]);
    // One update per change a client can see: SENT changes nothing shown, so it sends none.
    expect(h.updates.map((u) => u.order.status)).toEqual(['NEW', 'IN_FLIGHT', 'TRANSIT']);
    // Margin of 10 x Rs 1,000 (CNC: 100%) is held, and the instrument is streamed.
    expect((await h.risk.funds(USER)).reservedPaise).toBe(1_000_000);
    expect(h.marketData.held.map((r) => r.holderId)).toEqual([order.id]);
  });

  it("writes RMS's approval with the send, in one transaction, before the broker is called", async () => {
    // Transactions begun, as the database is asked: SQLite's BEGIN, PostgreSQL's START, or a
    // PostgreSQL statement that is a transaction of its own (EntityRows.write's WITH statements).
    let begun = 0;
    const logQuery = jest
      .spyOn(h.dataSource.logger, 'logQuery')
      .mockImplementation((sql: string) => {
        if (/^\s*(BEGIN|START TRANSACTION|WITH)\b/i.test(sql)) begun += 1;
      });
    let atBroker: { status: string; sendAttempts: number; events: string[] } | undefined;
    let transactionsBeforeBroker = 0;
    h.port.onPlace = async (order) => {
      transactionsBeforeBroker = begun;
      const [row] = await h.rows();
      const events = (await h.eventRows(order.orderId)).map((e) => e.type);
      atBroker = { status: row.status, sendAttempts: row.sendAttempts, events };
      return h.port.accept(order);
    };
    await h.orders.place(USER, aPlaceOrder());
    // Written ahead and durable when the broker is asked: approved (funds held) and SENT.
    expect(atBroker).toEqual({
      status: OrderStatus.IN_FLIGHT,
      sendAttempts: 1,
      events: ['CREATED', 'RISK_APPROVED', 'SENT'],
    });
    // CREATED, then RISK_APPROVED + SENT together: two transactions, not three.
    expect(transactionsBeforeBroker).toBe(2);
    logQuery.mockRestore();
  });

  it("keeps RMS's working orders in memory equal to the database's, and rebuilds them from it", async () => {
    const store = h.module.get(OrderStore);
    const fromDatabase = async (userId: string) =>
      (await h.rows())
        .filter(
          (r) => r.userId === userId && r.parentId === null && WORKING.has(r.status as OrderStatus),
        )
        .map((r) => r.id)
        .sort();
    const inMemory = async (userId: string) =>
      (await store.workingFacts(userId, '')).map((o) => o.id).sort();
    const a = await h.orders.place(USER, aPlaceOrder());
    const b = await h.orders.place(USER, aPlaceOrder({ quantity: 5 }));
    const c = await h.orders.place(OTHER, aPlaceOrder());
    const denied = await h.orders.place(USER, aPlaceOrder({ quantity: 100_000 }));
    expect(denied.status).toBe(OrderStatus.REJECTED);
    for (const [order, userId] of [
      [a, USER],
      [c, OTHER],
    ] as const) {
      h.emitBroker({
        orderId: order.id,
        userId,
        source: 'socket',
        event: {
          type: 'BROKER_UPDATE',
          status: OrderStatus.PENDING,
          brokerOrderId: order.brokerOrderId!,
        },
      });
      await h.orders.settled(order.id);
    }
    h.emitBroker({
      orderId: a.id,
      userId: USER,
      source: 'socket',
      event: { type: 'FILL', tradeId: 'T1', quantity: 10, price: 1000 },
    });
    await h.orders.settled(a.id);
    await h.orders.cancel(OTHER, c.id);
    for (const user of [USER, OTHER])
      expect(await inMemory(user)).toEqual(await fromDatabase(user));
    expect(await inMemory(USER)).toEqual([b.id]);
    expect(await inMemory(OTHER)).toEqual([]);
    // RMS is handed the same facts the database holds, the order checked left out.
    expect(await store.workingFacts(USER, b.id)).toEqual([]);
    // At boot the index is read from the database.
    await store.onModuleInit();
    expect(await inMemory(USER)).toEqual([b.id]);
  });

  it.each([
    ['quantity 0', { quantity: 0 }],
    ['fractional quantity', { quantity: 1.5 }],
    ['price off the tick', { price: 1000.03 }],
    ['LIMIT without a price', { price: null }],
    ['MARKET with a price', { orderType: 'MARKET' as const, price: 1000 }],
    ['STOP_LOSS without a trigger', { orderType: 'STOP_LOSS' as const }],
    ['unknown instrument', { securityId: '999999' }],
    ['an index', { segment: 'IDX_I' as never, securityId: '13' }],
    [
      'CNC on NSE_FNO',
      { segment: NIFTY_FUT.segment, securityId: NIFTY_FUT.securityId, quantity: 75 },
    ],
    [
      'not a lot multiple',
      {
        segment: NIFTY_FUT.segment,
        securityId: NIFTY_FUT.securityId,
        productType: 'MARGIN' as const,
        quantity: 50,
        price: 24000,
      },
    ],
    [
      'IOC stop-loss',
      { orderType: 'STOP_LOSS' as const, triggerPrice: 999, validity: 'IOC' as const },
    ],
    ['a bad clientOrderId', { clientOrderId: 'has spaces and / slashes' }],
  ])('refuses %s with BAD_USER_INPUT and stores nothing', async (_label, change) => {
    expect(await codeOf(h.orders.place(USER, aPlaceOrder(change)))).toBe(ErrorCode.BAD_USER_INPUT);
    expect(await h.rows()).toHaveLength(0);
    expect(await h.eventRows()).toHaveLength(0);
    expect(h.port.placed).toHaveLength(0);
    expect(h.updates).toHaveLength(0);
  });

  it('refuses bad terms with the code RMS gives them (one rule set), as rejectionReason', async () => {
    const refusal = await h.orders
      .place(USER, aPlaceOrder({ orderType: 'MARKET', price: 1000 }))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(refusal).toBeInstanceOf(DomainError);
    expect(refusal).toMatchObject({
      code: ErrorCode.BAD_USER_INPUT,
      details: { rejectionReason: RiskDenialCode.PRICE_NOT_ALLOWED },
    });
    const offTick = await h.orders.place(USER, aPlaceOrder({ price: 1000.03 })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(offTick).toMatchObject({ details: { rejectionReason: RiskDenialCode.PRICE_OFF_TICK } });
    expect(await h.rows()).toHaveLength(0);
  });

  it('returns the original order for a repeated clientOrderId with the same terms', async () => {
    const input = aPlaceOrder();
    const first = await h.orders.place(USER, input);
    const again = await h.orders.place(USER, { ...input });
    expect(again.id).toBe(first.id);
    expect(h.port.placed).toHaveLength(1);
    expect(await h.rows()).toHaveLength(1);
  });

  it('answers CONFLICT for a repeated clientOrderId with different terms', async () => {
    const input = aPlaceOrder();
    await h.orders.place(USER, input);
    expect(await codeOf(h.orders.place(USER, { ...input, quantity: 11 }))).toBe(ErrorCode.CONFLICT);
    expect(await codeOf(h.orders.place(USER, { ...input, price: 1000.05 }))).toBe(
      ErrorCode.CONFLICT,
    );
    expect(await h.rows()).toHaveLength(1);
    expect(h.port.placed).toHaveLength(1);
  });

  it('keys idempotency per user: the same clientOrderId of another user is another order', async () => {
    const input = aPlaceOrder();
    const mine = await h.orders.place(USER, input);
    const theirs = await h.orders.place(OTHER, input);
    expect(theirs.id).not.toBe(mine.id);
    expect(h.port.placed).toHaveLength(2);
  });

  it('ten concurrent calls with one key make one order row and one broker order', async () => {
    const input = aPlaceOrder();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => h.orders.place(USER, { ...input })),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(await h.rows()).toHaveLength(1);
    expect(h.port.placed).toHaveLength(1);
  });

  it('stores a risk denial as REJECTED with the code as rejectionReason, never sent', async () => {
    await h.risk.setRiskLimits(USER, { maxOrderValuePaise: 500_000 });
    const order = await h.orders.place(USER, aPlaceOrder());
    expect(order).toMatchObject({
      status: OrderStatus.REJECTED,
      rejectionReason: RiskDenialCode.ORDER_VALUE_ABOVE_MAX,
    });
    expect(h.port.placed).toHaveLength(0);
    expect((await h.risk.funds(USER)).reservedPaise).toBe(0);
    expect(h.marketData.held).toHaveLength(0);
  });

  it('two concurrent orders cannot both spend the same funds', async () => {
    // Rs 10 lakh of funds; each order needs Rs 6 lakh (600 x Rs 1,000, CNC).
    const [a, b] = await Promise.all([
      h.orders.place(USER, aPlaceOrder({ quantity: 600 })),
      h.orders.place(USER, aPlaceOrder({ quantity: 600 })),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([OrderStatus.REJECTED, OrderStatus.TRANSIT].sort());
    expect([a, b].find((o) => o.status === OrderStatus.REJECTED)?.rejectionReason).toBe(
      RiskDenialCode.INSUFFICIENT_FUNDS,
    );
    expect(h.port.placed).toHaveLength(1);
  });

  it('logs, counts and never applies an illegal broker event', async () => {
    const order = await h.orders.place(USER, aPlaceOrder());
    const before = await h.eventRows(order.id);
    h.emitBroker({
      orderId: order.id,
      userId: USER,
      source: 'socket',
      event: { type: 'FILL', tradeId: 'T1', quantity: 11, price: 1000 },
    });
    await h.orders.settled(order.id);
    expect(await h.orders.get(USER, order.id)).toMatchObject({
      status: OrderStatus.TRANSIT,
      filledQuantity: 0,
    });
    expect(await h.eventRows(order.id)).toHaveLength(before.length);
    const metric = await h.metrics.registry.getSingleMetricAsString(
      'oms_illegal_transitions_total',
    );
    expect(metric).toMatch(/oms_illegal_transitions_total\{event="FILL",from="TRANSIT"\} 1/);
  });

  it('applies broker updates and fills: PENDING, PART_TRADED, TRADED; the reservation is freed as the trades settle', async () => {
    const order = await h.orders.place(USER, aPlaceOrder());
    const send = (event: Parameters<Harness['emitBroker']>[0]['event']) =>
      h.emitBroker({ orderId: order.id, userId: USER, source: 'socket', event });
    send({ type: 'BROKER_UPDATE', status: OrderStatus.PENDING, brokerOrderId: 'B1' });
    await h.storeTrade({
      userId: USER,
      orderId: order.id,
      exchangeTradeId: 'T1',
      quantity: 4,
      price: 999.95,
    });
    send({ type: 'FILL', tradeId: 'T1', quantity: 4, price: 999.95 });
    send({ type: 'FILL', tradeId: 'T1', quantity: 4, price: 999.95 }); // duplicate: ignored
    await h.orders.settled(order.id);
    // 6 of 10 units still held; the 4 traded hold margin through the position (CNC: 100 %).
    expect(h.risk.reservationOf(USER, order.id).heldPaise).toBe(600_000);
    expect(await h.orders.get(USER, order.id)).toMatchObject({
      status: OrderStatus.PART_TRADED,
      filledQuantity: 4,
      averagePrice: 999.95,
    });
    await h.storeTrade({
      userId: USER,
      orderId: order.id,
      exchangeTradeId: 'T2',
      quantity: 6,
      price: 1000,
    });
    send({ type: 'FILL', tradeId: 'T2', quantity: 6, price: 1000 });
    await h.orders.settled(order.id);
    const done = await h.orders.get(USER, order.id);
    expect(done).toMatchObject({ status: OrderStatus.TRADED, filledQuantity: 10 });
    expect(done.averagePrice).toBeCloseTo(999.98, 10);
    const funds = await h.risk.funds(USER);
    expect(funds).toMatchObject({ reservedPaise: 0, usedPaise: 999_980 });
    expect(h.marketData.held).toHaveLength(0);
    // Nothing left to hold: the order stores no reservation any more.
    const [row] = await h.rows();
    expect(row).toMatchObject({ reservation: null, reservedPaise: 0 });
  });

  it('sends one orderUpdates message per visible change through a modify and a cancel', async () => {
    const order = await h.orders.place(USER, aPlaceOrder());
    const send = (event: Parameters<Harness['emitBroker']>[0]['event']) =>
      h.emitBroker({ orderId: order.id, userId: USER, source: 'socket', event });
    send({ type: 'BROKER_UPDATE', status: OrderStatus.PENDING, brokerOrderId: 'B1' });
    send({ type: 'BROKER_UPDATE', status: OrderStatus.PENDING, brokerOrderId: 'B1' });
    await h.orders.settled(order.id);
    await h.orders.modify(USER, order.id, { price: 999 });
    send({ type: 'BROKER_UPDATE', status: OrderStatus.PENDING, brokerOrderId: 'B1' });
    await h.orders.settled(order.id);
    await h.orders.cancel(USER, order.id);
    await h.orders.settled(order.id);
    const shown = h.updates
      .filter((u) => u.order.id === order.id)
      .map((u) => JSON.stringify({ ...u.order, updatedAt: 0 }));
    expect(shown.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < shown.length; i++) expect(shown[i]).not.toBe(shown[i - 1]);
    expect(h.updates.at(-1)!.order.status).toBe(OrderStatus.CANCELLED);
  });

  it('ignores a broker event for another user s order', async () => {
    const order = await h.orders.place(USER, aPlaceOrder());
    h.emitBroker({
      orderId: order.id,
      userId: OTHER,
      source: 'socket',
      event: { type: 'BROKER_UPDATE', status: OrderStatus.CANCELLED },
    });
    await h.orders.settled(order.id);
    expect((await h.orders.get(USER, order.id)).status).toBe(OrderStatus.TRANSIT);
  });

  it('hides other users orders: get, modify and cancel answer NOT_FOUND', async () => {
    const order = await h.orders.place(USER, aPlaceOrder());
    expect(await codeOf(h.orders.get(OTHER, order.id))).toBe(ErrorCode.NOT_FOUND);
    expect(await codeOf(h.orders.modify(OTHER, order.id, { price: 999 }))).toBe(
      ErrorCode.NOT_FOUND,
    );
    expect(await codeOf(h.orders.cancel(OTHER, order.id))).toBe(ErrorCode.NOT_FOUND);
    expect(await h.orders.list(OTHER)).toEqual([]);
    expect((await h.orders.list(USER)).map((o) => o.id)).toEqual([order.id]);
    expect(h.port.cancelled).toHaveLength(0);
  });

  it('modifies a pending order (terms applied on the broker s ack) and cancels it', async () => {
    const order = await h.orders.place(USER, aPlaceOrder());
    h.emitBroker({
      orderId: order.id,
      userId: USER,
      source: 'socket',
      event: { type: 'BROKER_UPDATE', status: OrderStatus.PENDING },
    });
    await h.orders.settled(order.id);
    const modified = await h.orders.modify(USER, order.id, { price: 990, quantity: 12 });
    expect(modified).toMatchObject({
      status: OrderStatus.PENDING,
      price: 990,
      quantity: 12,
      modificationCount: 1,
    });
    expect(h.port.modified[0]).toMatchObject({ change: { price: 990, quantity: 12 } });
    expect((await h.risk.funds(USER)).reservedPaise).toBe(1_188_000);

    const cancelled = await h.orders.cancel(USER, order.id);
    expect(cancelled.status).toBe(OrderStatus.CANCELLED);
    expect(h.port.cancelled).toEqual([order.id]);
    expect((await h.risk.funds(USER)).reservedPaise).toBe(0);
  });

  it('cancel of an order the broker no longer knows (DH-906) ends it, funds released, instead of CONFLICT', async () => {
    const order = await h.orders.place(USER, aPlaceOrder());
    h.emitBroker({
      orderId: order.id,
      userId: USER,
      source: 'socket',
      event: { type: 'BROKER_UPDATE', status: OrderStatus.PENDING },
    });
    await h.orders.settled(order.id);
    expect((await h.risk.funds(USER)).reservedPaise).toBe(1_000_000);
    h.port.book.delete(order.id); // the broker's books were reset
    h.port.onCancel = () =>
      Promise.reject(new ExecutionRejectedError('DH-906: order unknown to the broker', 'DH-906'));
    const cancelled = await h.orders.cancel(USER, order.id);
    expect(cancelled).toMatchObject({ status: OrderStatus.CANCELLED, tag: 'BROKER_LOST' });
    expect(h.port.lookups).toContain(order.id);
    expect((await h.risk.funds(USER)).reservedPaise).toBe(0);
  });

  it('a refused cancel of an order the broker still holds stays CONFLICT and keeps the order', async () => {
    const order = await h.orders.place(USER, aPlaceOrder());
    h.emitBroker({
      orderId: order.id,
      userId: USER,
      source: 'socket',
      event: { type: 'BROKER_UPDATE', status: OrderStatus.PENDING },
    });
    await h.orders.settled(order.id);
    h.port.onCancel = () => Promise.reject(new ExecutionRejectedError('DH-905: not now', 'DH-905'));
    expect(await codeOf(h.orders.cancel(USER, order.id))).toBe(ErrorCode.CONFLICT);
    expect(await h.orders.get(USER, order.id)).toMatchObject({ status: OrderStatus.PENDING });
    expect((await h.risk.funds(USER)).reservedPaise).toBe(1_000_000);
  });

  it('funds adjust (for the audited admin credit/debit): moves the balance, refuses a bad amount or an over-debit', async () => {
    const funds = h.module.get(FundsService);
    await expect(funds.adjust(USER, 50_000, 'pay-in')).resolves.toMatchObject({
      balancePaise: 100_050_000,
      adjustmentsPaise: 50_000,
    });
    await expect(funds.adjust(USER, -20_000, 'pay-out')).resolves.toMatchObject({
      balancePaise: 100_030_000,
      adjustmentsPaise: 30_000,
    });
    for (const [amount, reason] of [
      [0, 'zero'],
      [1.5, 'fraction'],
      [-100_030_001, 'more than available'],
      [100, ' '],
    ] as const) {
      expect(await codeOf(funds.adjust(USER, amount, reason))).toBe(ErrorCode.BAD_USER_INPUT);
    }
    expect((await h.risk.funds(USER)).balancePaise).toBe(100_030_000);
  });

  it('a refused modification leaves terms and reservation as they were', async () => {
    const order = await h.orders.place(USER, aPlaceOrder());
    h.emitBroker({
      orderId: order.id,
      userId: USER,
      source: 'socket',
      event: { type: 'BROKER_UPDATE', status: OrderStatus.PENDING },
    });
    await h.orders.settled(order.id);
    h.port.onModify = () => Promise.reject(new ExecutionRejectedError('DH-906: bad price'));
    expect(await codeOf(h.orders.modify(USER, order.id, { quantity: 20 }))).toBe(
      ErrorCode.CONFLICT,
    );
    expect(await h.orders.get(USER, order.id)).toMatchObject({ quantity: 10, price: 1000 });
    expect((await h.risk.funds(USER)).reservedPaise).toBe(1_000_000);
  });

  it('cannot modify or cancel an order in TRANSIT (CONFLICT, nothing sent)', async () => {
    const order = await h.orders.place(USER, aPlaceOrder());
    expect(await codeOf(h.orders.modify(USER, order.id, { price: 999 }))).toBe(ErrorCode.CONFLICT);
    expect(await codeOf(h.orders.cancel(USER, order.id))).toBe(ErrorCode.CONFLICT);
    expect(h.port.modified).toHaveLength(0);
    expect(h.port.cancelled).toHaveLength(0);
  });

  it('a broker rejection is REJECTED with the broker s reason and releases the funds', async () => {
    h.port.onPlace = () => Promise.reject(new ExecutionRejectedError('DH-905: market closed'));
    const order = await h.orders.place(USER, aPlaceOrder());
    expect(order).toMatchObject({
      status: OrderStatus.REJECTED,
      rejectionReason: 'DH-905: market closed',
    });
    expect((await h.risk.funds(USER)).reservedPaise).toBe(0);
  });

  it('an ambiguous send goes UNKNOWN and is resolved by lookup, never resent', async () => {
    h.port.onPlace = (o) => {
      h.port.accept(o); // the broker took it, the answer was lost
      return Promise.reject(new ExecutionAmbiguousError('timeout'));
    };
    const order = await h.orders.place(USER, aPlaceOrder());
    expect(order.status).toBe(OrderStatus.UNKNOWN);
    await eventually(
      async () => (await h.orders.get(USER, order.id)).status === OrderStatus.PENDING,
      'PENDING by lookup',
    );
    expect(h.port.placed).toHaveLength(1);
    expect(h.port.lookups.length).toBeGreaterThanOrEqual(1);
    const types = (await h.eventRows(order.id)).map((e) => e.type);
    expect(types).toEqual([
      'CREATED',
      'RISK_APPROVED',
      'SENT',
      'AMBIGUOUS',
      'ACKNOWLEDGED',
      'BROKER_UPDATE',
    ]);
  });

  it('an ambiguous send the broker never got is resent once, with the same order id, after the grace period', async () => {
    h.port.onPlace = (o, call) =>
      call === 1
        ? Promise.reject(new ExecutionAmbiguousError('connection reset'))
        : Promise.resolve(h.port.accept(o));
    const order = await h.orders.place(USER, aPlaceOrder());
    await eventually(
      async () => (await h.orders.get(USER, order.id)).status === OrderStatus.TRANSIT,
      'TRANSIT after the resend',
    );
    expect(h.port.placed.map((p) => p.orderId)).toEqual([order.id, order.id]);
    const types = (await h.eventRows(order.id)).map((e) => e.type);
    expect(types).toContain('RESOLVED_NOT_FOUND');
    expect((await h.orders.get(USER, order.id)).brokerOrderId).toBe('B1');
  });

  it('a broker that is unavailable is retried with backoff; the order stays IN_FLIGHT meanwhile', async () => {
    h.port.onPlace = (o, call) =>
      call < 3
        ? Promise.reject(new ExecutionUnavailableError('connection refused'))
        : Promise.resolve(h.port.accept(o));
    const order = await h.orders.place(USER, aPlaceOrder());
    expect(order.status).toBe(OrderStatus.IN_FLIGHT);
    await eventually(
      async () => (await h.orders.get(USER, order.id)).status === OrderStatus.TRANSIT,
      'TRANSIT after retries',
    );
    expect(h.port.placed).toHaveLength(3);
  });

  it('gives up after maxSendAttempts sends that never left: REJECTED BROKER_UNAVAILABLE', async () => {
    h.port.onPlace = () => Promise.reject(new ExecutionUnavailableError('down'));
    const order = await h.orders.place(USER, aPlaceOrder());
    await eventually(
      async () => (await h.orders.get(USER, order.id)).status === OrderStatus.REJECTED,
      'REJECTED',
    );
    expect(await h.orders.get(USER, order.id)).toMatchObject({
      rejectionReason: 'BROKER_UNAVAILABLE',
    });
    expect(h.port.placed).toHaveLength(5);
    expect((await h.risk.funds(USER)).reservedPaise).toBe(0);
  });
});
