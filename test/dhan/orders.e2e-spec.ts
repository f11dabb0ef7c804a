import {
  DhanAmbiguousError,
  DhanApiError,
  DhanRestClient,
  ExchangeSegment,
  OrderUpdate,
  OrderUpdateConnection,
} from '@app/dhan';
import { DhanSimulator, SimInstrument, SimOrder, SimulatorUrls } from '@app/dhan-simulator';
import { startSimulator, until, waitFor } from './helpers';

/** Statuses of one order as they came over the order-update socket. */
function statusesOf(updates: OrderUpdate[], orderId: string): string[] {
  return updates.filter((u) => u.orderNo === orderId).map((u) => u.status);
}

/** Consecutive duplicates removed: the stream repeats a status for a fill or a modify. */
function transitions(statuses: string[]): string[] {
  return statuses.filter((s, i) => i === 0 || statuses[i - 1] !== s);
}

describe('DhanRestClient and OrderUpdateConnection against the simulator', () => {
  let sim: DhanSimulator;
  let urls: SimulatorUrls;
  let rest: DhanRestClient;
  let stream: OrderUpdateConnection;
  let updates: OrderUpdate[];
  let simUpdates: Array<{ orderId: string; status: string }>;
  let equity: SimInstrument;

  beforeEach(async () => {
    ({ sim, urls } = await startSimulator({ orders: { matchIntervalMs: 20, transitDelayMs: 5 } }));
    const { clientId, accessToken } = sim.credentials;
    rest = new DhanRestClient({ baseUrl: urls.apiUrl, clientId, token: () => accessToken });
    stream = new OrderUpdateConnection({
      url: urls.orderUpdateUrl,
      clientId,
      token: () => accessToken,
      pingIntervalMs: 0,
    });
    updates = [];
    simUpdates = [];
    stream.on('update', (u) => updates.push(u));
    stream.on('error', () => undefined);
    sim.orders.on('update', (o: SimOrder) =>
      simUpdates.push({ orderId: o.orderId, status: o.status }),
    );
    const login = waitFor<[string]>(sim.orderUpdates, 'login');
    stream.start();
    const [who] = await login;
    expect(who).toBe(clientId);
    const found = sim.universe.get(ExchangeSegment.NSE_EQ, '2885');
    if (!found) throw new Error('the simulator universe has no NSE_EQ 2885');
    equity = found;
  });

  afterEach(async () => {
    await stream.stop();
    await rest.close();
    await sim.stop();
  });

  /** A LIMIT price well below the market, on the tick grid. */
  function farBelow(inst: SimInstrument, fraction = 0.5): number {
    const ltp = sim.market.mark(inst).ltp;
    const ticks = Math.floor((ltp * fraction) / inst.tickSize);
    return Math.round(ticks * inst.tickSize * 100) / 100;
  }

  async function streamReaches(orderId: string, status: string): Promise<void> {
    await until(
      () => statusesOf(updates, orderId).includes(status),
      `order ${orderId} reached ${status} on the order-update stream`,
      [[stream, 'update']],
    );
  }

  it('logs in on the order-update socket (MsgCode 42) before any order', () => {
    expect(sim.orderUpdates.sessionCount(sim.credentials.clientId)).toBe(1);
    expect(sim.orderUpdates.stats.logins).toBe(1);
    expect(sim.orderUpdates.stats.loginFailures).toBe(0);
    expect(stream.state).toBe('open');
  });

  it('runs a market order through TRANSIT, PENDING, PART_TRADED to TRADED with partial fills', async () => {
    sim.orders.setMaxFillQtyPerStep(2);
    const ack = await rest.placeOrder({
      correlationId: 'it3-market-1',
      transactionType: 'BUY',
      exchangeSegment: ExchangeSegment.NSE_EQ,
      productType: 'INTRADAY',
      orderType: 'MARKET',
      validity: 'DAY',
      securityId: '2885',
      quantity: 5,
    });
    expect(ack.orderStatus).toBe('TRANSIT');
    await streamReaches(ack.orderId, 'TRADED');

    const fromStream = statusesOf(updates, ack.orderId);
    expect(transitions(fromStream)).toEqual(['TRANSIT', 'PENDING', 'PART_TRADED', 'TRADED']);
    // one alert per state change or fill, in the simulator's order
    expect(fromStream).toEqual(
      simUpdates.filter((u) => u.orderId === ack.orderId).map((u) => u.status),
    );
    const fills = updates.filter((u) => u.orderNo === ack.orderId && u.tradedQty !== undefined);
    expect(fills.map((u) => u.tradedQty)).toEqual([0, 0, 2, 4, 5]);

    const order = await rest.getOrder(ack.orderId);
    expect(order?.orderStatus).toBe('TRADED');
    expect(order?.filledQty).toBe(5);
    expect(order?.correlationId).toBe('it3-market-1');

    const trades = await rest.getTradesOfOrder(ack.orderId);
    const simTrades = sim.orders.tradesOf(sim.credentials.clientId, ack.orderId);
    expect(trades.map((t) => t.tradedQuantity)).toEqual([2, 2, 1]);
    expect(trades.map((t) => [t.tradedQuantity, t.tradedPrice, t.exchangeTradeId])).toEqual(
      simTrades.map((t) => [t.tradedQuantity, t.tradedPrice, t.exchangeTradeId]),
    );
    const all = await rest.getTrades();
    expect(all.filter((t) => t.orderId === ack.orderId)).toHaveLength(3);
  });

  it('keeps an uncrossed LIMIT pending, modifies it, cancels it', async () => {
    const price = farBelow(equity);
    const ack = await rest.placeOrder({
      correlationId: 'it3-limit-1',
      transactionType: 'BUY',
      exchangeSegment: ExchangeSegment.NSE_EQ,
      productType: 'CNC',
      orderType: 'LIMIT',
      validity: 'DAY',
      securityId: '2885',
      quantity: 3,
      price,
    });
    expect(ack.orderStatus).toBe('TRANSIT');
    await streamReaches(ack.orderId, 'PENDING');
    // a few matching passes against a live price: still not crossed
    await waitFor(sim.orders, 'matchCycle');
    await waitFor(sim.orders, 'matchCycle');
    expect((await rest.getOrder(ack.orderId))?.orderStatus).toBe('PENDING');

    const newPrice = farBelow(equity, 0.4);
    const modified = await rest.modifyOrder(ack.orderId, {
      orderType: 'LIMIT',
      validity: 'DAY',
      quantity: 4,
      price: newPrice,
    });
    expect(modified.orderId).toBe(ack.orderId);
    await until(
      () => updates.some((u) => u.orderNo === ack.orderId && u.quantity === 4),
      'the modification on the stream',
      [[stream, 'update']],
    );
    const afterModify = await rest.getOrder(ack.orderId);
    expect(afterModify?.quantity).toBe(4);
    expect(afterModify?.price).toBeCloseTo(newPrice, 2);
    expect(afterModify?.orderStatus).toBe('PENDING');

    const cancelled = await rest.cancelOrder(ack.orderId);
    expect(cancelled.orderId).toBe(ack.orderId);
    await streamReaches(ack.orderId, 'CANCELLED');
    expect((await rest.getOrder(ack.orderId))?.orderStatus).toBe('CANCELLED');
    expect(sim.orders.order(sim.credentials.clientId, ack.orderId)?.status).toBe('CANCELLED');
    expect(transitions(statusesOf(updates, ack.orderId))).toEqual([
      'TRANSIT',
      'PENDING',
      'CANCELLED',
    ]);
    expect(sim.orders.tradesOf(sim.credentials.clientId, ack.orderId)).toHaveLength(0);
  });

  it('maps every alert of an order to typed fields (status, product, type, side, segment)', async () => {
    sim.orders.setMaxFillQtyPerStep(1);
    const ack = await rest.placeOrder({
      correlationId: 'it3-typed-1',
      transactionType: 'SELL',
      exchangeSegment: ExchangeSegment.NSE_EQ,
      productType: 'INTRADAY',
      orderType: 'MARKET',
      validity: 'DAY',
      securityId: '2885',
      quantity: 2,
    });
    await streamReaches(ack.orderId, 'TRADED');
    const mine = updates.filter((u) => u.orderNo === ack.orderId);
    expect(mine.length).toBeGreaterThanOrEqual(4);
    for (const u of mine) {
      expect(u).toMatchObject({
        correlationId: 'it3-typed-1',
        securityId: '2885',
        exchangeSegment: ExchangeSegment.NSE_EQ,
        productType: 'INTRADAY',
        transactionType: 'SELL',
        orderType: 'MARKET',
        quantity: 2,
      });
    }
    expect(mine.map((u) => u.rawStatus)).toEqual(['Transit', 'Pending', 'Part_Traded', 'Traded']);
    expect(mine.map((u) => u.status)).toEqual(['TRANSIT', 'PENDING', 'PART_TRADED', 'TRADED']);
    const traded = mine[mine.length - 1];
    expect(traded.remainingQuantity).toBe(0);
    const simTrades = sim.orders.tradesOf(sim.credentials.clientId, ack.orderId);
    const avg = simTrades.reduce((s, t) => s + t.tradedPrice * t.tradedQuantity, 0) / 2;
    expect(traded.avgTradedPrice).toBeCloseTo(avg, 2);
    expect(stream.getStats().malformed).toBe(0);
  });

  it('finds an order by correlation id; a miss is an empty result, not an error', async () => {
    const ack = await rest.placeOrder({
      correlationId: 'it3-lookup-1',
      transactionType: 'BUY',
      exchangeSegment: ExchangeSegment.NSE_EQ,
      productType: 'CNC',
      orderType: 'LIMIT',
      validity: 'DAY',
      securityId: '2885',
      quantity: 1,
      price: farBelow(equity),
    });
    const hit = await rest.getOrderByCorrelationId('it3-lookup-1');
    expect(hit.map((o) => o.orderId)).toEqual([ack.orderId]);
    await expect(rest.getOrderByCorrelationId('it3-nobody-knows')).resolves.toEqual([]);
  });

  it('classifies a validation error (DH-905) and an auth error (DH-901)', async () => {
    const invalid = rest.placeOrder({
      transactionType: 'BUY',
      exchangeSegment: ExchangeSegment.NSE_EQ,
      productType: 'CNC',
      orderType: 'LIMIT',
      validity: 'DAY',
      securityId: '2885',
      quantity: 0,
      price: 100,
    });
    await expect(invalid).rejects.toBeInstanceOf(DhanApiError);
    await expect(invalid).rejects.toMatchObject({
      category: 'input',
      errorCode: 'DH-905',
      httpStatus: 400,
      retryable: false,
    });

    const stranger = new DhanRestClient({
      baseUrl: urls.apiUrl,
      clientId: sim.credentials.clientId,
      token: () => 'not-the-token',
    });
    try {
      const denied = stranger.getOrders();
      await expect(denied).rejects.toMatchObject({
        category: 'auth',
        errorCode: 'DH-901',
        httpStatus: 401,
        retryable: false,
      });
    } finally {
      await stranger.close();
    }
    expect(sim.orders.ordersOf(sim.credentials.clientId)).toHaveLength(0);
  });

  it('resolves an accepted-then-silent placement by correlation id (exactly one order)', async () => {
    const slow = new DhanRestClient({
      baseUrl: urls.apiUrl,
      clientId: sim.credentials.clientId,
      token: () => sim.credentials.accessToken,
      timeoutMs: 400,
    });
    sim.rest.acceptThenTimeout({ count: 1 });
    try {
      const placing = slow.placeOrder({
        correlationId: 'it3-ambiguous-1',
        transactionType: 'BUY',
        exchangeSegment: ExchangeSegment.NSE_EQ,
        productType: 'CNC',
        orderType: 'LIMIT',
        validity: 'DAY',
        securityId: '2885',
        quantity: 1,
        price: farBelow(equity),
      });
      await expect(placing).rejects.toBeInstanceOf(DhanAmbiguousError);
      await expect(placing).rejects.toMatchObject({ category: 'ambiguous', retryable: false });

      const found = await slow.getOrderByCorrelationId('it3-ambiguous-1');
      expect(found).toHaveLength(1);
      expect(found[0].correlationId).toBe('it3-ambiguous-1');
      const held = sim.orders.byCorrelationId(sim.credentials.clientId, 'it3-ambiguous-1');
      expect(held).toHaveLength(1);
      expect(held[0].orderId).toBe(found[0].orderId);
      expect(sim.orders.ordersOf(sim.credentials.clientId)).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });
});
