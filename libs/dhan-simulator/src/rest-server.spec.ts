import { nextEvent, untilEvent } from './__tests__/helpers';
import { SimOrder } from './orders';
import { DhanSimulator, SimulatorUrls } from './simulator';

const CLOCK = { now: () => Date.parse('2026-11-25T05:00:00Z') };

describe('REST server', () => {
  let sim: DhanSimulator;
  let urls: SimulatorUrls;

  beforeAll(async () => {
    sim = new DhanSimulator({
      seed: 11,
      today: '2026-11-25',
      clock: CLOCK,
      orders: { transitDelayMs: 5, matchIntervalMs: 10 },
      // this suite fires requests back to back; the limits get their own simulator below
      rest: { rateLimits: { orders: false, nonTrading: false, quote: false, data: false } },
      accounts: [{ clientId: 'NODATA', accessToken: 'nodata-token', dataPlan: false }],
    });
    urls = await sim.start();
  });

  afterAll(async () => {
    await sim.stop();
  });

  afterEach(() => {
    sim.rest.clearFaults();
    sim.orders.setMaxFillQtyPerStep(undefined);
    sim.orders.setTransitDelayMs(5);
  });

  function headers(clientId = sim.credentials.clientId, token = sim.credentials.accessToken) {
    return { 'access-token': token, 'client-id': clientId, 'content-type': 'application/json' };
  }

  async function call(
    method: string,
    path: string,
    body?: unknown,
    hdrs: Record<string, string> = headers(),
  ): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${urls.apiUrl}${path}`, {
      method,
      headers: hdrs,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  }

  function order(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      dhanClientId: sim.credentials.clientId,
      transactionType: 'BUY',
      exchangeSegment: 'NSE_EQ',
      productType: 'INTRADAY',
      orderType: 'MARKET',
      validity: 'DAY',
      securityId: '2885',
      quantity: 10,
      ...extra,
    };
  }

  const ltp = (id = 2885): number => sim.market.mark(sim.universe.get('NSE_EQ', id)!).ltp;
  const tick = (price: number): number => Math.round(price / 0.05) * 0.05;

  function statusOf(orderId: string): string | undefined {
    return sim.orders.order(sim.credentials.clientId, orderId)?.status;
  }

  async function until(orderId: string, status: string): Promise<void> {
    await untilEvent(sim.orders, 'update', () => statusOf(orderId) === status, status);
  }

  async function place(extra: Record<string, unknown> = {}): Promise<string> {
    const res = await call('POST', '/orders', order(extra));
    expect(res.status).toBe(200);
    return (res.json as { orderId: string }).orderId;
  }

  async function cycles(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await nextEvent(sim.orders, 'matchCycle');
  }

  describe('auth', () => {
    it('refuses missing or wrong credentials with 401 DH-901', async () => {
      const none = await call('GET', '/orders', undefined, {});
      expect(none.status).toBe(401);
      expect(none.json).toMatchObject({ errorCode: 'DH-901', errorType: 'Invalid_Authentication' });
      const wrong = await call('GET', '/fundlimit', undefined, headers(undefined, 'bad'));
      expect(wrong.status).toBe(401);
      expect((wrong.json as { errorCode: string }).errorCode).toBe('DH-901');
    });

    it('refuses an expired token with 401 DH-901 until it is renewed', async () => {
      sim.expireToken(sim.credentials.clientId);
      const expired = await call('GET', '/positions');
      expect(expired.status).toBe(401);
      expect((expired.json as { errorCode: string }).errorCode).toBe('DH-901');
      const feedShape = await call('POST', '/marketfeed/ltp', { NSE_EQ: [2885] });
      expect(feedShape.json).toEqual({ data: { '807': expect.any(String) }, status: 'failed' });
      sim.accounts.renewToken(sim.credentials.clientId, sim.credentials.accessToken);
      expect((await call('GET', '/positions')).status).toBe(200);
    });

    it('answers data APIs in their own failure shape', async () => {
      const wrong = await call(
        'POST',
        '/marketfeed/ltp',
        { NSE_EQ: [2885] },
        headers(undefined, 'bad'),
      );
      expect(wrong.status).toBe(401);
      expect(wrong.json).toEqual({ data: { '809': expect.any(String) }, status: 'failed' });
      const noData = await call(
        'POST',
        '/marketfeed/ltp',
        { NSE_EQ: [2885] },
        headers('NODATA', 'nodata-token'),
      );
      expect(noData.json).toEqual({ data: { '806': expect.any(String) }, status: 'failed' });
    });
  });

  describe('orders and matching', () => {
    it('place -> TRANSIT ack -> PENDING -> TRADED, with trades, positions and funds', async () => {
      const before = (await call('GET', '/fundlimit')).json as { availabelBalance: number };
      const seen: string[] = [];
      const onUpdate = (o: SimOrder): void => {
        if (o.correlationId === 'life-1') seen.push(o.status);
      };
      sim.orders.on('update', onUpdate);
      const res = await call('POST', '/orders', order({ correlationId: 'life-1' }));
      expect(res.status).toBe(200);
      const ack = res.json as { orderId: string; orderStatus: string };
      expect(ack.orderStatus).toBe('TRANSIT');
      await until(ack.orderId, 'TRADED');
      sim.orders.off('update', onUpdate);
      expect(seen).toEqual(['TRANSIT', 'PENDING', 'TRADED']);
      const book = (await call('GET', `/orders/${ack.orderId}`)).json as Record<string, unknown>;
      expect(book).toMatchObject({
        orderStatus: 'TRADED',
        filledQty: 10,
        remainingQuantity: 0,
        correlationId: 'life-1',
        tradingSymbol: 'RELIANCE',
      });
      const trades = (await call('GET', `/trades/${ack.orderId}`)).json as Record<
        string,
        unknown
      >[];
      expect(trades.reduce((n, t) => n + (t.tradedQuantity as number), 0)).toBe(10);
      expect(trades[0].exchangeTradeId).toEqual(expect.any(String));
      // MARKET buys at the touch: one tick above LTP
      expect(trades[0].tradedPrice).toBeCloseTo(ltp() + 0.05, 5);
      const positions = (await call('GET', '/positions')).json as Record<string, unknown>[];
      expect(positions.find((p) => p.securityId === '2885')).toMatchObject({
        netQty: 10,
        positionType: 'LONG',
      });
      const after = (await call('GET', '/fundlimit')).json as { availabelBalance: number };
      expect(after.availabelBalance).toBeLessThan(before.availabelBalance);
      expect((await call('GET', '/trades')).json).toEqual(expect.arrayContaining(trades));
    });

    it('a LIMIT buy below the market stays PENDING; crossing it fills', async () => {
      const price = tick(ltp() * 0.9);
      const id = await place({ orderType: 'LIMIT', price });
      await until(id, 'PENDING');
      await cycles(3);
      expect(statusOf(id)).toBe('PENDING');
      sim.market.setLevel('RELIANCE', price - 1);
      await until(id, 'TRADED');
      const [trade] = sim.orders.tradesOf(sim.credentials.clientId, id);
      expect(trade.tradedPrice).toBeLessThanOrEqual(price);
      sim.market.setLevel('RELIANCE', price / 0.9);
    });

    it('fills a large order partially over several steps (PART_TRADED)', async () => {
      sim.orders.setMaxFillQtyPerStep(100);
      const id = await place({ quantity: 1000 });
      await until(id, 'PART_TRADED');
      await until(id, 'TRADED');
      const trades = (await call('GET', `/trades/${id}`)).json as unknown[];
      expect(trades).toHaveLength(10);
    });

    it('IOC cancels the unfilled rest', async () => {
      sim.orders.setMaxFillQtyPerStep(30);
      const partial = await place({ validity: 'IOC', quantity: 100 });
      await until(partial, 'CANCELLED');
      expect(sim.orders.order(sim.credentials.clientId, partial)!.filledQty).toBe(30);
      const none = await place({ validity: 'IOC', orderType: 'LIMIT', price: tick(ltp() * 0.8) });
      await until(none, 'CANCELLED');
      expect(sim.orders.order(sim.credentials.clientId, none)!.filledQty).toBe(0);
    });

    it('SL-M waits for its trigger, then fills at market', async () => {
      const trigger = tick(ltp() * 1.05);
      const id = await place({ orderType: 'STOP_LOSS_MARKET', triggerPrice: trigger });
      await until(id, 'PENDING');
      await cycles(2);
      expect(statusOf(id)).toBe('PENDING');
      const level = sim.market.level('RELIANCE')!;
      sim.market.setLevel('RELIANCE', trigger + 1);
      await until(id, 'TRADED');
      sim.market.setLevel('RELIANCE', level);
    });

    it('modifies a pending order (up to 25 times) and cancels it', async () => {
      const id = await place({ orderType: 'LIMIT', price: tick(ltp() * 0.8) });
      await until(id, 'PENDING');
      const modify = (price: number) =>
        call('PUT', `/orders/${id}`, {
          dhanClientId: sim.credentials.clientId,
          orderId: id,
          orderType: 'LIMIT',
          quantity: 20,
          price,
          validity: 'DAY',
        });
      for (let i = 0; i < 25; i++) {
        const res = await modify(tick(ltp() * 0.8) - i * 0.05);
        expect(res.status).toBe(200);
      }
      expect(sim.orders.order(sim.credentials.clientId, id)!.quantity).toBe(20);
      const over = await modify(tick(ltp() * 0.7));
      expect(over.status).toBe(400);
      expect((over.json as { errorCode: string }).errorCode).toBe('DH-906');
      const cancel = await call('DELETE', `/orders/${id}`);
      expect(cancel.json).toEqual({ orderId: id, orderStatus: 'CANCELLED' });
      const again = await call('DELETE', `/orders/${id}`);
      expect(again.status).toBe(400);
    });

    it('refuses to cancel an order in TRANSIT with 400 DH-906', async () => {
      sim.orders.setTransitDelayMs(60_000);
      const id = await place();
      const book = (await call('GET', `/orders/${id}`)).json as { orderStatus: string };
      expect(book.orderStatus).toBe('TRANSIT');
      const res = await call('DELETE', `/orders/${id}`);
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({
        errorCode: 'DH-906',
        errorMessage: 'Order is in Transit state',
      });
    });

    it('rejects a quantity off the lot size after transit', async () => {
      const option = sim.universe.instruments.find((i) => i.instrumentType === 'OPTIDX')!;
      const id = await place({
        exchangeSegment: 'NSE_FNO',
        securityId: option.securityId,
        quantity: 7,
      });
      await until(id, 'REJECTED');
      const book = (await call('GET', `/orders/${id}`)).json as Record<string, unknown>;
      expect(book.omsErrorDescription).toMatch(/lot size/);
    });
  });

  describe('validation and lookups', () => {
    it.each([
      ['an empty string', { price: '' }],
      ['a 26-character correlationId', { correlationId: 'a'.repeat(26) }],
      ['a correlationId with @', { correlationId: 'abc@1' }],
      ['a missing field', { transactionType: undefined }],
      ['a bad enum', { orderType: 'LMT' }],
      ['a LIMIT without price', { orderType: 'LIMIT' }],
      ['an unknown security', { securityId: '99999999' }],
    ])('refuses %s with 400 DH-905', async (_what, extra) => {
      const res = await call('POST', '/orders', order(extra));
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({
        errorType: 'Input_Exception',
        errorCode: 'DH-905',
        errorMessage: expect.any(String),
      });
    });

    it('accepts a 25-character correlationId and finds the order by it', async () => {
      const cid = 'Ab-_ 9'.padEnd(25, 'x');
      const id = await place({ correlationId: cid });
      const hit = await call('GET', `/orders/external/${encodeURIComponent(cid)}`);
      expect(hit.status).toBe(200);
      expect(hit.json).toMatchObject({ orderId: id, correlationId: cid });
    });

    it('misses: unknown correlationId 404 DH-906, unknown order id 200 []', async () => {
      const miss = await call('GET', '/orders/external/nope');
      expect(miss.status).toBe(404);
      expect((miss.json as { errorCode: string }).errorCode).toBe('DH-906');
      const unknown = await call('GET', '/orders/123456789');
      expect(unknown).toEqual({ status: 200, json: [] });
    });

    it('holdings: empty is 500 DH-1111', async () => {
      const res = await call('GET', '/holdings');
      expect(res.status).toBe(500);
      expect((res.json as { errorCode: string }).errorCode).toBe('DH-1111');
    });

    it('rate-limits orders at 10/s with 429 DH-904 (default limits)', async () => {
      const limited = new DhanSimulator({ seed: 11, today: '2026-11-25', clock: CLOCK });
      const limitedUrls = await limited.start();
      try {
        const results = await Promise.all(
          Array.from({ length: 12 }, async () => {
            const res = await fetch(`${limitedUrls.apiUrl}/orders`, {
              method: 'POST',
              headers: headers(limited.credentials.clientId, limited.credentials.accessToken),
              body: JSON.stringify(order({ dhanClientId: limited.credentials.clientId })),
            });
            return { status: res.status, json: (await res.json()) as unknown };
          }),
        );
        const refused = results.filter((r) => r.status === 429);
        expect(results.filter((r) => r.status === 200)).toHaveLength(10);
        expect(refused).toHaveLength(2);
        expect(refused[0].json).toMatchObject({ errorCode: 'DH-904' });
      } finally {
        await limited.stop();
      }
    });

    it('kill switch blocks new orders until deactivated', async () => {
      const on = await call('POST', '/killswitch?killSwitchStatus=ACTIVATE');
      expect(on.status).toBe(200);
      const refused = await call('POST', '/orders', order());
      expect(refused.status).toBe(400);
      await call('POST', '/killswitch?killSwitchStatus=DEACTIVATE');
      expect((await call('POST', '/orders', order())).status).toBe(200);
    });

    it('margin calculator and fund limit use DhanHQ field names', async () => {
      const margin = await call('POST', '/margincalculator', {
        dhanClientId: sim.credentials.clientId,
        exchangeSegment: 'NSE_EQ',
        transactionType: 'BUY',
        quantity: 10,
        productType: 'CNC',
        securityId: '2885',
        price: 1000,
      });
      expect(margin.json).toMatchObject({ totalMargin: 10_000, leverage: '1.00' });
      const funds = (await call('GET', '/fundlimit')).json as Record<string, unknown>;
      expect(funds).toHaveProperty('availabelBalance');
      expect(funds).toHaveProperty('sodLimit');
    });
  });

  describe('data APIs', () => {
    it('option chain: strikes with 6 decimals, ce/pe with greeks and IV', async () => {
      const list = await call('POST', '/optionchain/expirylist', {
        UnderlyingScrip: 13,
        UnderlyingSeg: 'IDX_I',
      });
      const expiries = (list.json as { data: string[]; status: string }).data;
      expect(expiries[0]).toBe('2026-12-01');
      const res = await call('POST', '/optionchain', {
        UnderlyingScrip: 13,
        UnderlyingSeg: 'IDX_I',
        Expiry: expiries[0],
      });
      const body = res.json as {
        status: string;
        data: {
          last_price: number;
          oc: Record<string, { ce: Record<string, unknown>; pe: unknown }>;
        };
      };
      expect(body.status).toBe('success');
      expect(body.data.last_price).toBeGreaterThan(20_000);
      const keys = Object.keys(body.data.oc);
      expect(keys.length).toBeGreaterThan(100);
      expect(keys.every((k) => /^\d+\.000000$/.test(k))).toBe(true);
      const atm = body.data.oc[keys[Math.floor(keys.length / 2)]];
      expect(atm.ce).toMatchObject({
        greeks: {
          delta: expect.any(Number),
          theta: expect.any(Number),
          gamma: expect.any(Number),
          vega: expect.any(Number),
        },
        implied_volatility: expect.any(Number),
        last_price: expect.any(Number),
        oi: expect.any(Number),
        security_id: expect.any(Number),
        top_bid_price: expect.any(Number),
        top_ask_price: expect.any(Number),
      });
      expect(atm.pe).toBeDefined();
      // the same request again within 3 s is refused
      const again = await call('POST', '/optionchain', {
        UnderlyingScrip: 13,
        UnderlyingSeg: 'IDX_I',
        Expiry: expiries[0],
      });
      expect(again.status).toBe(429);
    });

    it('serves BSE index chains for IDX_I and BSE_FNO; bad expiry is 811', async () => {
      const bse = await call('POST', '/optionchain/expirylist', {
        UnderlyingScrip: 51,
        UnderlyingSeg: 'BSE_FNO',
      });
      expect((bse.json as { data: string[] }).data[0]).toBe('2026-11-26');
      const bad = await call('POST', '/optionchain', {
        UnderlyingScrip: 51,
        UnderlyingSeg: 'IDX_I',
        Expiry: '2026-11-27',
      });
      expect(bad.status).toBe(400);
      expect(bad.json).toEqual({ data: { '811': expect.any(String) }, status: 'failed' });
    });

    it('serves MCX chains off the near-month FUTCOM id', async () => {
      const future = sim.universe.instruments.find(
        (i) => i.instrumentType === 'FUTCOM' && i.underlying === 'CRUDEOIL',
      )!;
      const list = await call('POST', '/optionchain/expirylist', {
        UnderlyingScrip: future.id,
        UnderlyingSeg: 'MCX_COMM',
      });
      const [expiry] = (list.json as { data: string[] }).data;
      expect(expiry < future.expiry!).toBe(true); // options expire before their future
      const chain = await call('POST', '/optionchain', {
        UnderlyingScrip: future.id,
        UnderlyingSeg: 'MCX_COMM',
        Expiry: expiry,
      });
      const body = chain.json as { data: { last_price: number; oc: Record<string, unknown> } };
      expect(body.data.last_price).toBeGreaterThan(3000);
      expect(Object.keys(body.data.oc).length).toBeGreaterThan(30);
    });

    it('market quote: ltp, ohlc and quote envelopes', async () => {
      const res = await call('POST', '/marketfeed/quote', { NSE_EQ: [2885], IDX_I: [13] });
      const body = res.json as { data: Record<string, Record<string, Record<string, unknown>>> };
      expect(body.data.NSE_EQ['2885']).toMatchObject({
        last_price: expect.any(Number),
        ohlc: { open: expect.any(Number), close: expect.any(Number) },
        depth: { buy: expect.any(Array), sell: expect.any(Array) },
      });
      expect(body.data.IDX_I['13'].last_price).toBeGreaterThan(20_000);
    });

    it('serves the scrip master CSV without auth', async () => {
      const res = await fetch(urls.instrumentsUrl);
      const text = await res.text();
      expect(text.startsWith('SEM_EXM_EXCH_ID,SEM_SEGMENT,SEM_SMST_SECURITY_ID')).toBe(true);
      expect(text.trimEnd().split('\n').length).toBe(sim.universe.size + 1);
    });
  });

  describe('fault hooks', () => {
    it('delay holds matching requests while others pass', async () => {
      sim.rest.delay({ pattern: 'GET /v2/fundlimit', ms: 300, count: 1 });
      const order: string[] = [];
      const slow = call('GET', '/fundlimit').then((r) => order.push(`funds:${r.status}`));
      const fast = call('GET', '/positions').then((r) => order.push(`positions:${r.status}`));
      await Promise.all([slow, fast]);
      expect(order).toEqual(['positions:200', 'funds:200']);
    });

    it('answers the next N requests with a 5xx', async () => {
      sim.rest.failWith({ pattern: /^GET \/v2\/positions$/, status: 503, count: 2 });
      const a = await call('GET', '/positions');
      const b = await call('GET', '/positions');
      const c = await call('GET', '/positions');
      expect([a.status, b.status, c.status]).toEqual([503, 503, 200]);
      expect((a.json as { errorCode: string }).errorCode).toBe('DH-908');
    });

    it('accept-then-time-out (destroy): the order exists exactly once', async () => {
      sim.rest.acceptThenTimeout({ mode: 'destroy', count: 1 });
      const before = sim.orders.allOrders().length;
      await expect(
        call('POST', '/orders', order({ correlationId: 'ambiguous-1' })),
      ).rejects.toThrow();
      expect(sim.orders.allOrders().length).toBe(before + 1);
      const hit = await call('GET', '/orders/external/ambiguous-1');
      expect(hit.status).toBe(200);
    });

    it('accept-then-time-out (hang): no answer, the order exists exactly once', async () => {
      sim.rest.acceptThenTimeout({ mode: 'hang', count: 1 });
      const before = sim.orders.allOrders().length;
      const controller = new AbortController();
      const placed = nextEvent(
        sim.orders,
        'update',
        (o: SimOrder) => o.correlationId === 'ambiguous-2',
      );
      const pending = fetch(`${urls.apiUrl}/orders`, {
        method: 'POST',
        headers: headers(),
        body: JSON.stringify(order({ correlationId: 'ambiguous-2' })),
        signal: controller.signal,
      });
      await placed;
      controller.abort();
      await expect(pending).rejects.toThrow();
      expect(sim.orders.allOrders().length).toBe(before + 1);
      expect(sim.orders.byCorrelationId(sim.credentials.clientId, 'ambiguous-2')).toHaveLength(1);
    });
  });
});
