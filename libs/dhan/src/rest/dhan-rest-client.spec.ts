import fc from 'fast-check';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { ExchangeSegment } from '../types';
import { ManualClock } from '../util/clock';
import {
  classifyDhanError,
  DhanAmbiguousError,
  DhanApiError,
  DhanNetworkError,
  DhanRateLimitError,
} from './dhan-errors';
import {
  DhanRestClient,
  DhanRestClientOptions,
  parseChart,
  toCorrelationId,
} from './dhan-rest-client';
import { DhanRateLimiter } from './rate-limiter';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

type Handler = (req: Seen, res: ServerResponse) => void;

class TinyRest {
  readonly seen: Seen[] = [];
  handler: Handler = (_req, res) => reply(res, 200, {});
  private readonly open = new Set<import('node:net').Socket>();
  constructor(readonly server: Server) {
    server.on('connection', (s) => {
      this.open.add(s);
      s.on('close', () => this.open.delete(s));
    });
  }

  static async start(): Promise<TinyRest> {
    const holder: { self?: TinyRest } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const seen: Seen = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: text ? JSON.parse(text) : undefined,
        };
        holder.self?.seen.push(seen);
        holder.self?.handler(seen, res);
      });
    });
    const self = new TinyRest(server);
    holder.self = self;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v2`;
  }

  async close(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

describe('DhanRestClient against a local http server', () => {
  let srv: TinyRest;
  let client: DhanRestClient;

  function make(extra: Partial<DhanRestClientOptions> = {}): DhanRestClient {
    client = new DhanRestClient({
      baseUrl: srv.url,
      clientId: '1000000001',
      token: () => 'jwt-1',
      timeoutMs: 2000,
      ...extra,
    });
    return client;
  }

  beforeEach(async () => {
    srv = await TinyRest.start();
  });
  afterEach(async () => {
    await client?.close();
    await srv.close();
  });

  it('places an order with both auth headers, dhanClientId in the body and no empty fields', async () => {
    srv.handler = (_r, res) => reply(res, 200, { orderId: '112111182198', orderStatus: 'TRANSIT' });
    const ack = await make().placeOrder({
      correlationId: 'ord-42',
      transactionType: 'BUY',
      exchangeSegment: ExchangeSegment.NSE_EQ,
      productType: 'INTRADAY',
      orderType: 'LIMIT',
      validity: 'DAY',
      securityId: '1333',
      quantity: 5,
      price: 1428.5,
      triggerPrice: undefined,
    });
    expect(ack).toEqual({ orderId: '112111182198', orderStatus: 'TRANSIT' });
    const [req] = srv.seen;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v2/orders');
    expect(req.headers['access-token']).toBe('jwt-1');
    expect(req.headers['client-id']).toBe('1000000001');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body).toEqual({
      dhanClientId: '1000000001',
      correlationId: 'ord-42',
      transactionType: 'BUY',
      exchangeSegment: 'NSE_EQ',
      productType: 'INTRADAY',
      orderType: 'LIMIT',
      validity: 'DAY',
      securityId: '1333',
      quantity: 5,
      price: 1428.5,
    });
  });

  it('refuses a correlationId DhanHQ would reject, and derives a valid deterministic one', async () => {
    const long = '3f2c1e9a-8b7d-4c6e-9f01-23456789abcd';
    await expect(
      make().placeOrder({
        correlationId: long,
        transactionType: 'BUY',
        exchangeSegment: ExchangeSegment.NSE_EQ,
        productType: 'CNC',
        orderType: 'MARKET',
        validity: 'DAY',
        securityId: '1',
        quantity: 1,
      }),
    ).rejects.toMatchObject({ category: 'input' });
    expect(srv.seen).toHaveLength(0);
    const id = toCorrelationId(long);
    expect(id).toMatch(/^[A-Za-z0-9 _-]{25}$/);
    expect(toCorrelationId(long)).toBe(id);
    expect(toCorrelationId('short_id-1')).toBe('short_id-1');
  });

  it('modifies and cancels with the order id in the path', async () => {
    srv.handler = (r, res) =>
      reply(res, 200, {
        orderId: '7',
        orderStatus: r.method === 'DELETE' ? 'CANCELLED' : 'PENDING',
      });
    const c = make();
    await c.modifyOrder('7', { orderType: 'LIMIT', validity: 'DAY', quantity: 10, price: 101.5 });
    const cancelled = await c.cancelOrder('7');
    expect(srv.seen.map((s) => [s.method, s.url])).toEqual([
      ['PUT', '/v2/orders/7'],
      ['DELETE', '/v2/orders/7'],
    ]);
    expect(srv.seen[0].body).toEqual({
      dhanClientId: '1000000001',
      orderId: '7',
      orderType: 'LIMIT',
      validity: 'DAY',
      quantity: 10,
      price: 101.5,
    });
    expect(cancelled.orderStatus).toBe('CANCELLED');
  });

  it('reads order lookups as object or array, and a correlationId miss (404 DH-906) as not found', async () => {
    const order = {
      orderId: '9',
      orderStatus: 'TRADED',
      correlationId: 'abc',
      securityId: '1',
      quantity: 1,
    };
    const answers: Array<[number, unknown]> = [
      [200, order],
      [200, [order]],
      [
        404,
        {
          errorType: 'Order_Error',
          errorCode: 'DH-906',
          errorMessage: 'Incorrect request for order and cannot be processed',
        },
      ],
      [200, []],
      [200, order],
    ];
    srv.handler = (_r, res) => {
      const [s, b] = answers.shift() ?? [500, {}];
      reply(res, s, b);
    };
    const c = make();
    expect(await c.getOrderByCorrelationId('abc')).toEqual([order]);
    expect(await c.getOrderByCorrelationId('abc')).toEqual([order]);
    expect(await c.getOrderByCorrelationId('zzz')).toEqual([]);
    expect(await c.getOrder('404404')).toBeUndefined();
    expect(await c.getOrder('9')).toEqual(order);
    expect(srv.seen.map((s) => s.url)).toEqual([
      '/v2/orders/external/abc',
      '/v2/orders/external/abc',
      '/v2/orders/external/zzz',
      '/v2/orders/404404',
      '/v2/orders/9',
    ]);
  });

  it('treats DH-1111 on holdings as an empty list and keeps availabelBalance', async () => {
    srv.handler = (r, res) =>
      r.url === '/v2/holdings'
        ? reply(res, 500, {
            errorType: 'Holding_Error',
            errorCode: 'DH-1111',
            errorMessage: 'No holdings available',
          })
        : reply(res, 200, {
            dhanClientId: '1000000001',
            availabelBalance: 98440,
            sodLimit: 113642,
            collateralAmount: 0,
            receiveableAmount: 0,
            utilizedAmount: 15202,
            blockedPayoutAmount: 0,
            withdrawableBalance: 98310,
          });
    const c = make();
    expect(await c.getHoldings()).toEqual([]);
    expect((await c.getFundLimit()).availabelBalance).toBe(98440);
  });

  it('sends option chain and expiry list in PascalCase and parses strikes', async () => {
    srv.handler = (r, res) =>
      r.url.endsWith('/expirylist')
        ? reply(res, 200, { data: ['2026-12-01', '2026-12-08'], status: 'success' })
        : reply(res, 200, {
            data: {
              last_price: 25642.8,
              oc: {
                '25700.000000': { ce: { last_price: 80.5, security_id: 42 } },
                '25650.000000': { ce: { last_price: 101 }, pe: { last_price: 98 } },
              },
            },
            status: 'success',
          });
    const c = make();
    expect(await c.getExpiryList(13, ExchangeSegment.IDX_I)).toEqual(['2026-12-01', '2026-12-08']);
    const chain = await c.getOptionChain({
      underlyingScrip: 13,
      underlyingSeg: ExchangeSegment.IDX_I,
      expiry: '2026-12-01',
    });
    expect(srv.seen[0].body).toEqual({ UnderlyingScrip: 13, UnderlyingSeg: 'IDX_I' });
    expect(srv.seen[1].body).toEqual({
      UnderlyingScrip: 13,
      UnderlyingSeg: 'IDX_I',
      Expiry: '2026-12-01',
    });
    expect(chain.lastPrice).toBe(25642.8);
    expect(chain.strikes.map((s) => [s.strike, s.ce?.last_price, s.pe?.last_price])).toEqual([
      [25650, 101, 98],
      [25700, 80.5, undefined],
    ]);
  });

  it('posts market quotes as segment -> numeric ids and unwraps data', async () => {
    srv.handler = (_r, res) =>
      reply(res, 200, { data: { NSE_EQ: { '11536': { last_price: 4520 } } }, status: 'success' });
    const ltp = await make().getLtp({ NSE_EQ: [11536] });
    expect(srv.seen[0]).toMatchObject({ url: '/v2/marketfeed/ltp', body: { NSE_EQ: [11536] } });
    expect(ltp.NSE_EQ?.['11536'].last_price).toBe(4520);
  });

  it('sets the kill switch through the query string', async () => {
    srv.handler = (_r, res) =>
      reply(res, 200, {
        dhanClientId: '1000000001',
        killSwitchStatus: 'Kill Switch has been successfully activated',
      });
    await make().setKillSwitch('ACTIVATE');
    expect(srv.seen[0]).toMatchObject({
      method: 'POST',
      url: '/v2/killswitch?killSwitchStatus=ACTIVATE',
    });
  });

  it.each([
    [
      401,
      {
        errorType: 'Invalid_Authentication',
        errorCode: 'DH-901',
        errorMessage: 'Client ID or user generated access token is invalid or expired.',
      },
      'auth',
      'DH-901',
      false,
    ],
    [
      429,
      { errorType: 'Rate_Limit', errorCode: 'DH-904', errorMessage: 'Too many requests' },
      'rate-limited',
      'DH-904',
      true,
    ],
    [
      400,
      {
        errorType: 'Input_Exception',
        errorCode: 'DH-905',
        errorMessage: 'Missing required fields',
      },
      'input',
      'DH-905',
      false,
    ],
    [
      400,
      { errorType: 'Order_Error', errorCode: 'DH-906', errorMessage: 'Order is in Transit state' },
      'order-rejected',
      'DH-906',
      false,
    ],
    [
      400,
      { errorType: 'Order_Error', errorCode: 'DH-906', errorMessage: 'Invalid Token' },
      'auth',
      'DH-906',
      false,
    ],
    [
      400,
      { errorType: 'Data_Error', errorCode: 'DH-907', errorMessage: 'No data' },
      'data',
      'DH-907',
      false,
    ],
    [
      500,
      { errorType: 'Internal_Server_Error', errorCode: 'DH-908', errorMessage: 'Internal error' },
      'server',
      'DH-908',
      true,
    ],
    // body code first: a 500 whose body says DH-904 is rate-limited, not a server fault
    [
      500,
      { errorType: 'Rate_Limit', errorCode: 'DH-904', errorMessage: 'Too many requests' },
      'rate-limited',
      'DH-904',
      true,
    ],
    [502, 'Bad Gateway', 'server', undefined, true],
    [403, {}, 'auth', undefined, false],
  ])('classifies HTTP %s %j', async (status, body, category, code, retryable) => {
    srv.handler = (_r, res) => reply(res, status, body);
    const err = (await make()
      .getPositions()
      .catch((e: unknown) => e)) as DhanApiError;
    expect(err).toBeInstanceOf(DhanApiError);
    expect(err).toMatchObject({ category, errorCode: code, httpStatus: status, retryable });
  });

  it('resends once with the new token a request refused for a token replaced meanwhile', async () => {
    let token = 'jwt-old';
    srv.handler = (req, res) => {
      if (req.headers['access-token'] === 'jwt-old') {
        // The renewal lands while this request is in flight: DhanHQ has already ended the old token.
        token = 'jwt-new';
        return reply(res, 401, { errorType: 'Invalid_Authentication', errorCode: 'DH-901' });
      }
      reply(res, 200, []);
    };
    await expect(make({ token: () => token }).getPositions()).resolves.toEqual([]);
    expect(srv.seen.map((r) => r.headers['access-token'])).toEqual(['jwt-old', 'jwt-new']);
  });

  it('does not resend an auth refusal when the token is unchanged (it is the token that is refused)', async () => {
    srv.handler = (_r, res) =>
      reply(res, 401, { errorType: 'Invalid_Authentication', errorCode: 'DH-901' });
    await expect(make().getPositions()).rejects.toMatchObject({ category: 'auth' });
    expect(srv.seen).toHaveLength(1);
  });

  it('classifies the data-API failure envelope', async () => {
    srv.handler = (_r, res) =>
      reply(res, 200, {
        data: { '808': 'Authentication Failed - Client ID or Access Token invalid' },
        status: 'failed',
      });
    await expect(make().getLtp({ NSE_EQ: [1] })).rejects.toMatchObject({
      category: 'auth',
      errorCode: '808',
    });
  });

  it('reports a request that was accepted and never answered as ambiguous', async () => {
    srv.handler = () => undefined;
    const err = await make({ timeoutMs: 150 })
      .placeOrder({
        transactionType: 'SELL',
        exchangeSegment: ExchangeSegment.NSE_FNO,
        productType: 'MARGIN',
        orderType: 'MARKET',
        validity: 'DAY',
        securityId: '52175',
        quantity: 65,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DhanAmbiguousError);
    expect(err).toMatchObject({
      category: 'ambiguous',
      retryable: false,
      method: 'POST',
      path: '/orders',
    });
    expect(srv.seen).toHaveLength(1);
  });

  it('reports a reset after the request was sent as ambiguous', async () => {
    srv.handler = (_r, res) => res.socket?.destroy();
    const c = make();
    await expect(c.cancelOrder('1')).rejects.toMatchObject({
      category: 'ambiguous',
      retryable: false,
    });
    const read = await c.getPositions().catch((e: unknown) => e);
    expect(read).toBeInstanceOf(DhanAmbiguousError);
    expect(read).toMatchObject({ method: 'GET', retryable: true });
  });

  it('reports a refused connection as a plain retryable network error', async () => {
    const port = (srv.server.address() as AddressInfo).port;
    await srv.close();
    client = new DhanRestClient({
      baseUrl: `http://127.0.0.1:${port}/v2`,
      clientId: '1',
      token: () => 't',
    });
    const err = await client.getOrders().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DhanNetworkError);
    expect(err).toMatchObject({ retryable: true, causeCode: 'ECONNREFUSED' });
    srv = await TinyRest.start();
  });

  it('fails fast with RATE_LIMITED when configured, without sending', async () => {
    srv.handler = (_r, res) => reply(res, 200, { data: {}, status: 'success' });
    const clock = new ManualClock(0);
    const c = make({ clock, rateLimit: { mode: 'fail' } });
    await c.getLtp({ NSE_EQ: [1] });
    const err = await c.getLtp({ NSE_EQ: [1] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DhanRateLimitError);
    expect(err).toMatchObject({ code: 'RATE_LIMITED', family: 'quote', retryAfterMs: 1000 });
    expect(srv.seen).toHaveLength(1);
    clock.advance(1000);
    await c.getLtp({ NSE_EQ: [1] });
    expect(srv.seen).toHaveLength(2);
  });

  it('waits for a slot when configured to wait', async () => {
    srv.handler = (_r, res) => reply(res, 200, { data: {}, status: 'success' });
    const clock = new ManualClock(0);
    const c = make({ clock, rateLimit: { mode: 'wait' } });
    await c.getLtp({ NSE_EQ: [1] });
    let done = false;
    const second = c.getLtp({ NSE_EQ: [1] }).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    expect(srv.seen).toHaveLength(1);
    clock.advance(1000);
    await second;
    expect(srv.seen).toHaveLength(2);
  });
});

describe('DhanRateLimiter', () => {
  it('applies every window of the order family (10/s and 250/min)', async () => {
    const clock = new ManualClock(0);
    const l = new DhanRateLimiter({ clock, mode: 'fail' });
    for (let s = 0; s < 25; s++) {
      for (let i = 0; i < 10; i++) await l.acquire('order');
      await expect(l.acquire('order')).rejects.toBeInstanceOf(DhanRateLimitError);
      clock.advance(1000);
    }
    // 250 in the first 25 s: the minute window now holds until t = 60 s
    expect(l.delay('order')).toBe(35_000);
    clock.advance(35_000);
    expect(l.delay('order')).toBe(0);
  });

  it('allows one option chain call per 3 s and 20 non-trading calls per second', async () => {
    const clock = new ManualClock(0);
    const l = new DhanRateLimiter({ clock, mode: 'fail' });
    await l.acquire('optionChain');
    expect(l.delay('optionChain')).toBe(3000);
    for (let i = 0; i < 20; i++) await l.acquire('nonTrading');
    expect(l.delay('nonTrading')).toBe(1000);
    expect(l.delay('data')).toBe(0);
  });

  it('counts a settled call from its answer: a slow answer keeps its slot longer', async () => {
    const clock = new ManualClock(0);
    const l = new DhanRateLimiter({ clock, mode: 'fail' });
    const tickets = [];
    for (let i = 0; i < 20; i++) tickets.push(await l.acquire('nonTrading'));
    expect(l.delay('nonTrading')).toBe(1000);
    // The first call is answered 300 ms after it left: DhanHQ may have counted it that late.
    clock.advance(300);
    tickets[0].settle();
    clock.advance(700);
    expect(l.delay('nonTrading')).toBe(300);
    clock.advance(300);
    expect(l.delay('nonTrading')).toBe(0);
    // Settling never moves a call earlier.
    const late = await l.acquire('nonTrading');
    clock.advance(5);
    late.settle();
    expect(l.delay('nonTrading')).toBe(0);
  });

  it('serves waiting callers in order', async () => {
    const clock = new ManualClock(0);
    const l = new DhanRateLimiter({ clock, mode: 'wait' });
    const order: number[] = [];
    const all = [1, 2, 3].map((n) => l.acquire('quote').then(() => order.push(n)));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([1]);
    clock.advance(1000);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([1, 2]);
    clock.advance(1000);
    await Promise.all(all);
    expect(order).toEqual([1, 2, 3]);
  });
});

describe('classifyDhanError', () => {
  it('prefers the body code over the status', () => {
    expect(
      classifyDhanError(404, { errorCode: 'DH-906', errorMessage: 'Incorrect request' }).category,
    ).toBe('not-found');
    expect(classifyDhanError(400, { errorCode: 'DH-902' }).category).toBe('access');
    expect(classifyDhanError(418, undefined).category).toBe('input');
  });
});

describe('DhanRateLimiter properties', () => {
  it('never lets more than the limit through in any window, whatever the call times', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 80 }),
        async (gaps) => {
          const clock = new ManualClock(0);
          const l = new DhanRateLimiter({
            clock,
            mode: 'fail',
            limits: { data: [{ limit: 5, intervalMs: 1000 }] },
          });
          const taken: number[] = [];
          for (const gap of gaps) {
            clock.advance(gap);
            try {
              await l.acquire('data');
              taken.push(clock.now());
            } catch (e) {
              expect(e).toBeInstanceOf(DhanRateLimitError);
            }
          }
          for (let i = 5; i < taken.length; i++)
            expect(taken[i] - taken[i - 5]).toBeGreaterThanOrEqual(1000);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('parseChart (DhanHQ v2 charts: parallel arrays)', () => {
  it('zips the arrays into bars, bare or in a data envelope, open interest when present', () => {
    const arrays = {
      open: [1, 2],
      high: [3, 4],
      low: [0.5, 1.5],
      close: [2, 3],
      volume: [10, 20],
      timestamp: [1_700_000_000, 1_700_000_060],
      open_interest: [7, 8],
    };
    const bars = parseChart(arrays);
    expect(bars).toEqual([
      {
        timestamp: 1_700_000_000,
        open: 1,
        high: 3,
        low: 0.5,
        close: 2,
        volume: 10,
        openInterest: 7,
      },
      {
        timestamp: 1_700_000_060,
        open: 2,
        high: 4,
        low: 1.5,
        close: 3,
        volume: 20,
        openInterest: 8,
      },
    ]);
    expect(parseChart({ data: arrays, status: 'success' })).toEqual(bars);
  });

  it('drops bars with a missing or non-numeric price and tolerates an empty answer', () => {
    expect(
      parseChart({ open: [1, 'x'], high: [2, 2], low: [1, 1], close: [2, 2], timestamp: [5, 6] }),
    ).toEqual([{ timestamp: 5, open: 1, high: 2, low: 1, close: 2, volume: 0 }]);
    expect(parseChart(undefined)).toEqual([]);
    expect(parseChart({})).toEqual([]);
  });
});
