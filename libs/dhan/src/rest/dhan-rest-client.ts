import { createHash } from 'node:crypto';
import { Agent, Dispatcher, request } from 'undici';
import { ExchangeSegment } from '../types';
import { Clock } from '../util/clock';
import {
  classifyDhanError,
  DhanAmbiguousError,
  DhanApiError,
  DhanNetworkError,
  parseErrorBody,
} from './dhan-errors';
import { ApiFamily, DhanRateLimiter, RateLimiterOptions } from './rate-limiter';
import {
  ChartCandle,
  ChartRequest,
  DhanHolding,
  DhanOrder,
  DhanPosition,
  DhanTrade,
  FullQuote,
  FundLimit,
  IntradayInterval,
  KillSwitchResponse,
  KillSwitchStatus,
  LtpQuote,
  MarginRequest,
  MarginResponse,
  MarketQuoteRequest,
  MarketQuoteResponse,
  ModifyOrderRequest,
  OhlcQuote,
  OptionChain,
  OptionChainRequest,
  OptionChainStrike,
  OptionLeg,
  OrderAck,
  PlaceOrderRequest,
} from './rest-types';

export const DHAN_API_URL = 'https://api.dhan.co/v2';

export interface DhanRestClientOptions {
  /** Defaults to DhanHQ's v2 base URL; point it at a simulator in tests. */
  baseUrl?: string;
  clientId: string;
  /** Read before every request so a rolled token is used at once. */
  token: () => Promise<string> | string;
  /** Time allowed for the response headers and then for the body, ms (default 10000). */
  timeoutMs?: number;
  /** TCP connect timeout, ms (default 5000). A connect failure is a plain retryable network error. */
  connectTimeoutMs?: number;
  rateLimit?: RateLimiterOptions;
  clock?: Clock;
  /** Use an existing undici dispatcher instead of the client's own Agent. */
  dispatcher?: Dispatcher;
}

/** Errors raised before a byte left: the request can be repeated safely. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const CORRELATION_ID = /^[A-Za-z0-9 _-]{1,25}$/;

/**
 * A correlationId DhanHQ accepts (at most 25 of [A-Za-z0-9 _-], DhanHQ v2: correlationId): the id itself
 * when it fits, otherwise a deterministic 25-character digest of it, so lookups can be repeated.
 */
export function toCorrelationId(id: string): string {
  if (CORRELATION_ID.test(id)) return id;
  return createHash('sha256').update(id).digest('hex').slice(0, 25);
}

/** Drops undefined, null and empty-string fields: DhanHQ refuses empty strings (DhanHQ v2: empty strings refused). */
function compact<T extends object>(body: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(body) as Array<[keyof T, T[keyof T]]>) {
    if (v === undefined || v === null || (v as unknown) === '') continue;
    out[k] = v;
  }
  return out;
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

interface CallOptions {
  body?: object;
  query?: Record<string, string>;
}

interface RawResponse {
  status: number;
  body: unknown;
}

/** DhanHQ v2 REST over undici, with typed requests, classified errors and client-side rate limits. */
export class DhanRestClient {
  readonly baseUrl: string;
  readonly limiter: DhanRateLimiter;
  private readonly opts: DhanRestClientOptions;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;

  constructor(options: DhanRestClientOptions) {
    this.opts = options;
    this.baseUrl = (options.baseUrl ?? DHAN_API_URL).replace(/\/+$/, '');
    this.limiter = new DhanRateLimiter({ clock: options.clock, ...options.rateLimit });
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Agent({ connect: { timeout: options.connectTimeoutMs ?? 5000 }, keepAliveTimeout: 4000 });
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  // ---- orders (DhanHQ v2: orders API) -------------------------------------------------------------------

  placeOrder(req: PlaceOrderRequest): Promise<OrderAck> {
    if (req.correlationId !== undefined && !CORRELATION_ID.test(req.correlationId)) {
      return Promise.reject(
        new DhanApiError(
          'correlationId must be 1-25 characters of [A-Za-z0-9 _-]; use toCorrelationId()',
          'input',
          undefined,
          0,
          'ClientValidation',
        ),
      );
    }
    return this.json<OrderAck>('order', 'POST', '/orders', { body: this.withClient(req) });
  }

  modifyOrder(orderId: string, req: ModifyOrderRequest): Promise<OrderAck> {
    return this.json<OrderAck>('order', 'PUT', `/orders/${enc(orderId)}`, {
      body: this.withClient({ orderId, ...req }),
    });
  }

  cancelOrder(orderId: string): Promise<OrderAck> {
    return this.json<OrderAck>('order', 'DELETE', `/orders/${enc(orderId)}`);
  }

  async getOrders(): Promise<DhanOrder[]> {
    return asArray(await this.json<unknown>('nonTrading', 'GET', '/orders')) as DhanOrder[];
  }

  /** One order, or undefined when DhanHQ does not know the id (it answers 200 `[]`). */
  async getOrder(orderId: string): Promise<DhanOrder | undefined> {
    const list = asArray(await this.json<unknown>('nonTrading', 'GET', `/orders/${enc(orderId)}`));
    return list[0] as DhanOrder | undefined;
  }

  /**
   * Orders carrying `correlationId`; an empty list when DhanHQ does not know it (404 DH-906).
   * A hit may come as one object or an array (DhanHQ v2: correlationId).
   */
  async getOrderByCorrelationId(correlationId: string): Promise<DhanOrder[]> {
    const res = await this.raw('nonTrading', 'GET', `/orders/external/${enc(correlationId)}`);
    if (res.status >= 400) {
      const e = classifyDhanError(res.status, res.body);
      if (e.category === 'not-found') return [];
      throw e;
    }
    return asArray(this.ok(res)) as DhanOrder[];
  }

  async getTrades(): Promise<DhanTrade[]> {
    return asArray(await this.json<unknown>('nonTrading', 'GET', '/trades')) as DhanTrade[];
  }

  async getTradesOfOrder(orderId: string): Promise<DhanTrade[]> {
    return asArray(
      await this.json<unknown>('nonTrading', 'GET', `/trades/${enc(orderId)}`),
    ) as DhanTrade[];
  }

  // ---- portfolio and funds (DhanHQ v2: portfolio and funds) ------------------------------------------------------

  async getPositions(): Promise<DhanPosition[]> {
    return asArray(await this.json<unknown>('nonTrading', 'GET', '/positions')) as DhanPosition[];
  }

  /** Holdings; DH-1111 ("No holdings available") is an empty list, not an error. */
  async getHoldings(): Promise<DhanHolding[]> {
    const res = await this.raw('nonTrading', 'GET', '/holdings');
    if (res.status >= 400 && parseErrorBody(res.body).errorCode === 'DH-1111') return [];
    return asArray(this.ok(res)) as DhanHolding[];
  }

  getFundLimit(): Promise<FundLimit> {
    return this.json<FundLimit>('nonTrading', 'GET', '/fundlimit');
  }

  calculateMargin(req: MarginRequest): Promise<MarginResponse> {
    return this.json<MarginResponse>('nonTrading', 'POST', '/margincalculator', {
      body: this.withClient(req),
    });
  }

  // ---- option chain (DhanHQ v2: option chain) -------------------------------------------------------------

  async getOptionChain(req: OptionChainRequest): Promise<OptionChain> {
    const body = await this.json<{
      data?: { last_price?: number; oc?: Record<string, { ce?: OptionLeg; pe?: OptionLeg }> };
    }>('optionChain', 'POST', '/optionchain', {
      body: {
        UnderlyingScrip: req.underlyingScrip,
        UnderlyingSeg: req.underlyingSeg,
        Expiry: req.expiry,
      },
    });
    const oc = body?.data?.oc ?? {};
    const strikes: OptionChainStrike[] = Object.entries(oc)
      .map(([k, v]) => ({
        strike: Number(k),
        ...(v.ce ? { ce: v.ce } : {}),
        ...(v.pe ? { pe: v.pe } : {}),
      }))
      .filter((s) => Number.isFinite(s.strike))
      .sort((a, b) => a.strike - b.strike);
    return { lastPrice: Number(body?.data?.last_price ?? 0), strikes };
  }

  /** Expiry dates (YYYY-MM-DD) of an underlying. */
  async getExpiryList(underlyingScrip: number, underlyingSeg: ExchangeSegment): Promise<string[]> {
    const body = await this.json<{ data?: unknown }>('data', 'POST', '/optionchain/expirylist', {
      body: { UnderlyingScrip: underlyingScrip, UnderlyingSeg: underlyingSeg },
    });
    return Array.isArray(body?.data)
      ? body.data.filter((d): d is string => typeof d === 'string')
      : [];
  }

  // ---- market quote (DhanHQ v2: market quote) -------------------------------------------------------------

  getLtp(req: MarketQuoteRequest): Promise<MarketQuoteResponse<LtpQuote>> {
    return this.quote<LtpQuote>('/marketfeed/ltp', req);
  }

  getOhlc(req: MarketQuoteRequest): Promise<MarketQuoteResponse<OhlcQuote>> {
    return this.quote<OhlcQuote>('/marketfeed/ohlc', req);
  }

  getQuote(req: MarketQuoteRequest): Promise<MarketQuoteResponse<FullQuote>> {
    return this.quote<FullQuote>('/marketfeed/quote', req);
  }

  // ---- historical data (DhanHQ v2: historical data) --------------------------------------------

  /** Daily bars from `fromDate` up to (not including) `toDate`. */
  async getHistorical(req: ChartRequest): Promise<ChartCandle[]> {
    return parseChart(
      await this.json<unknown>('data', 'POST', '/charts/historical', { body: compact(req) }),
    );
  }

  /** Minute bars (1, 5, 15, 25 or 60) from `fromDate` up to (not including) `toDate`. */
  async getIntraday(req: ChartRequest & { interval: IntradayInterval }): Promise<ChartCandle[]> {
    return parseChart(
      await this.json<unknown>('data', 'POST', '/charts/intraday', {
        body: compact({ ...req, interval: String(req.interval) }),
      }),
    );
  }

  // ---- kill switch (DhanHQ v2: kill switch) ------------------------------------------------------------

  setKillSwitch(status: KillSwitchStatus): Promise<KillSwitchResponse> {
    return this.json<KillSwitchResponse>('nonTrading', 'POST', '/killswitch', {
      query: { killSwitchStatus: status },
    });
  }

  getKillSwitch(): Promise<KillSwitchResponse> {
    return this.json<KillSwitchResponse>('nonTrading', 'GET', '/killswitch');
  }

  // ---- plumbing -----------------------------------------------------------------------------

  private async quote<Q>(path: string, req: MarketQuoteRequest): Promise<MarketQuoteResponse<Q>> {
    const body = await this.json<{ data?: MarketQuoteResponse<Q> }>('quote', 'POST', path, {
      body: req,
    });
    return body?.data ?? {};
  }

  private withClient<T extends object>(body: T): Partial<T> & { dhanClientId: string } {
    return { dhanClientId: this.opts.clientId, ...compact(body) };
  }

  private async json<T>(
    family: ApiFamily,
    method: Dispatcher.HttpMethod,
    path: string,
    call: CallOptions = {},
  ): Promise<T> {
    return this.ok(await this.raw(family, method, path, call)) as T;
  }

  private ok(res: RawResponse): unknown {
    if (res.status >= 200 && res.status < 300) {
      const parsed = parseErrorBody(res.body);
      // Data APIs report auth failures as 200 {"status":"failed","data":{"808":...}}.
      const b = res.body as { status?: unknown } | undefined;
      if (b && typeof b === 'object' && b.status === 'failed' && parsed.errorCode) {
        throw classifyDhanError(res.status, res.body);
      }
      return res.body;
    }
    throw classifyDhanError(res.status, res.body);
  }

  private async raw(
    family: ApiFamily,
    method: Dispatcher.HttpMethod,
    path: string,
    call: CallOptions = {},
  ): Promise<RawResponse> {
    let token = '';
    const first = await this.limited(family, async () => {
      token = await this.opts.token();
      return this.send(method, path, call, token);
    });
    // Refused for its token while the token was replaced (a renewal ends the old token at
    // once): DhanHQ did not act on it, so it is sent once more with the token now in use.
    if (!isAuthRefusal(first)) return first;
    const current = await this.opts.token();
    if (current === token) return first;
    return this.limited(family, () => this.send(method, path, call, current));
  }

  /** One call within the family's limits, counted from its answer (see RateTicket). */
  private async limited<T>(family: ApiFamily, call: () => Promise<T>): Promise<T> {
    const ticket = await this.limiter.acquire(family);
    try {
      return await call();
    } finally {
      ticket.settle();
    }
  }

  private async send(
    method: Dispatcher.HttpMethod,
    path: string,
    call: CallOptions,
    token: string,
  ): Promise<RawResponse> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(call.query ?? {})) url.searchParams.set(k, v);
    const timeout = this.opts.timeoutMs ?? 10_000;
    const headers: Record<string, string> = {
      'access-token': token,
      'client-id': this.opts.clientId,
      accept: 'application/json',
    };
    let payload: string | undefined;
    if (call.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(call.body);
    }
    try {
      const res = await request(url, {
        method,
        headers,
        body: payload,
        dispatcher: this.dispatcher,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      const text = await res.body.text();
      let body: unknown = undefined;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      return { status: res.statusCode, body };
    } catch (err) {
      const code = errorCode(err);
      if (code !== undefined && NOT_SENT_CODES.has(code)) {
        throw new DhanNetworkError(`${method} ${path}: could not connect (${code})`, code);
      }
      throw new DhanAmbiguousError(
        `${method} ${path}: no answer after the request was sent (${code ?? (err as Error).message})`,
        method,
        path,
        code,
      );
    }
  }
}

/** DhanHQ refused the request for its credentials (HTTP 401/403 or an auth error code). */
function isAuthRefusal(res: RawResponse): boolean {
  if (res.status === 401 || res.status === 403) return true;
  if (parseErrorBody(res.body).errorCode === undefined) return false;
  // A 2xx is a refusal only in the data APIs' `{"status":"failed"}` shape.
  const failed = (res.body as { status?: unknown } | undefined)?.status === 'failed';
  if (res.status < 300 && !failed) return false;
  return classifyDhanError(res.status, res.body).category === 'auth';
}

/** Parallel arrays (`open high low close volume timestamp`, maybe `open_interest`) to bars. */
export function parseChart(body: unknown): ChartCandle[] {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const data = (b.data && typeof b.data === 'object' ? b.data : b) as Record<string, unknown>;
  const col = (name: string): unknown[] => (Array.isArray(data[name]) ? data[name] : []);
  const ts = col('timestamp');
  const [open, high, low, close, volume] = ['open', 'high', 'low', 'close', 'volume'].map(col);
  const oi = Array.isArray(data.open_interest) ? data.open_interest : undefined;
  const out: ChartCandle[] = [];
  for (let i = 0; i < ts.length; i++) {
    const c: ChartCandle = {
      timestamp: Number(ts[i]),
      open: Number(open[i]),
      high: Number(high[i]),
      low: Number(low[i]),
      close: Number(close[i]),
      volume: Number(volume[i] ?? 0),
    };
    if (oi) c.openInterest = Number(oi[i]);
    if ([c.timestamp, c.open, c.high, c.low, c.close].every(Number.isFinite)) out.push(c);
  }
  return out;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function asArray(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (body && typeof body === 'object') {
    const data = (body as { data?: unknown }).data;
    if (Array.isArray(data)) return data;
    return Object.keys(body).length > 0 ? [body] : [];
  }
  return [];
}
