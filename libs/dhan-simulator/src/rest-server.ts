import { performance } from 'node:perf_hooks';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { base32Decode, totp } from '@app/dhan/auth/totp';
import { ExchangeSegment, FeedDisconnectCode } from '@app/dhan/types';
import { Accounts, SimulatorLogger, silentLogger } from './accounts';
import { addDays, istDateTime, istTimeMs } from './calendar';
import { ChartHistory, SimBar } from './charts';
import { SimApiError, apiErrors } from './errors';
import { Clock, Market } from './market';
import {
  ModifyRequest,
  ORDER_TYPES,
  OrderEngine,
  OrderType,
  PRODUCT_TYPES,
  PlaceRequest,
  ProductType,
  TRANSACTION_TYPES,
  TransactionType,
  VALIDITIES,
  Validity,
  orderView,
  round2,
  tradeView,
} from './orders';
import { ApiFamily, RateLimitOptions, RateLimiter } from './rate-limit';
import { SimInstrument, Universe } from './universe';

export const SCRIP_MASTER_PATH = '/api-data/api-scrip-master.csv';

export interface HoldingSeed {
  exchange: string;
  tradingSymbol: string;
  securityId: string;
  isin: string;
  totalQty: number;
  dpQty: number;
  t1Qty: number;
  availableQty: number;
  collateralQty: number;
  avgCostPrice: number;
}

export interface RestServerOptions {
  host?: string;
  port?: number;
  /** `false` switches every limit off. */
  rateLimits?: RateLimitOptions | false;
  /** Shape of a correlationId hit (DhanHQ v2: correlationId saw both). Default 'object'. */
  correlationLookup?: 'object' | 'array';
  holdings?: HoldingSeed[];
  logger?: SimulatorLogger;
  /** The scrip master answers after this long (a slow download: warm-up tests). Default 0. */
  scripMasterDelayMs?: number;
  /** Seed of the chart history (`/charts/*`); the simulator passes its own. Default 42. */
  seed?: number | string;
}

/** Longest span one intraday chart request may cover (DhanHQ: 90 days). */
export const INTRADAY_MAX_DAYS = 90;
const noop = (): void => undefined;
const INTRADAY_INTERVALS = new Set([1, 5, 15, 25, 60]);

/** Which requests a fault applies to: `METHOD /path` tested against a RegExp or a prefix. */
export interface FaultMatch {
  pattern?: string | RegExp;
  /** How many matching requests are affected; omitted = all of them until cleared. */
  count?: number;
}

interface ActiveFault extends FaultMatch {
  kind: 'delay' | 'error' | 'acceptThenTimeout';
  ms?: number;
  until?: Promise<unknown>;
  status?: number;
  mode?: 'hang' | 'destroy';
}

interface Ctx {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  clientId: string;
}

type Handler = (ctx: Ctx, params: string[]) => unknown;

interface Route {
  method: string;
  pattern: RegExp;
  family: ApiFamily | 'optionChain';
  /** Data APIs answer auth failures with `{data:{code:msg}, status:"failed"}` (DhanHQ v2: error bodies). */
  dataApi: boolean;
  handler: Handler;
  /** Place order: subject to accept-then-time-out. */
  acceptable?: boolean;
}

const CORRELATION_ID = /^[A-Za-z0-9 _-]{1,25}$/;

const DATA_AUTH_MESSAGES: Partial<Record<number, string>> = {
  [FeedDisconnectCode.DATA_API_NOT_SUBSCRIBED]: 'Data APIs not subscribed',
  [FeedDisconnectCode.ACCESS_TOKEN_EXPIRED]: 'Access token is expired',
  [FeedDisconnectCode.AUTHENTICATION_FAILED]:
    'Authentication Failed - Client ID or Access Token invalid',
  [FeedDisconnectCode.ACCESS_TOKEN_INVALID]: 'Access token invalid',
};

class DataApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** DhanHQ's v2 REST API over node `http`, with fault hooks. */
export class RestServer {
  private readonly http: http.Server;
  private readonly routes: Route[];
  private readonly limiter: RateLimiter;
  private readonly faults: ActiveFault[] = [];
  private readonly logger: SimulatorLogger;
  private readonly opts: {
    host: string;
    port: number;
    correlationLookup: 'object' | 'array';
    scripMasterDelayMs: number;
  };
  private readonly holdings: HoldingSeed[];
  private readonly charts: ChartHistory;
  readonly stats = {
    requests: 0,
    byRoute: {} as Record<string, number>,
    /** Data-API requests by `METHOD /path` (e.g. `POST /v2/marketfeed/quote`), refused ones too. */
    byEndpoint: {} as Record<string, number>,
    faultsApplied: 0,
    /** Tokens given out by RenewToken and by generateAccessToken, and refusals of either. */
    tokensRenewed: 0,
    tokensGenerated: 0,
    tokenRequestsRefused: 0,
  };
  /**
   * Every order-family request (place, modify, cancel) as it arrived, on the monotonic clock,
   * and whether the rate limit refused it (DH-904): what a test checks a governor against.
   */
  readonly orderArrivals: Array<{ at: number; method: string; refused: boolean }> = [];

  constructor(
    private readonly universe: Universe,
    private readonly market: Market,
    private readonly engine: OrderEngine,
    private readonly accounts: Accounts,
    private readonly clock: Clock,
    options: RestServerOptions = {},
  ) {
    this.opts = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      correlationLookup: options.correlationLookup ?? 'object',
      scripMasterDelayMs: options.scripMasterDelayMs ?? 0,
    };
    this.limiter = new RateLimiter(options.rateLimits ?? {});
    this.logger = options.logger ?? silentLogger;
    this.holdings = options.holdings ?? [];
    this.charts = new ChartHistory(universe, market, options.seed ?? 42);
    this.routes = this.buildRoutes();
    this.http = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.warn('rest handler failed', { error: String(err) });
        if (!res.headersSent && !res.destroyed) send(res, 500, apiErrors.internal().body());
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const { port } = this.http.address() as AddressInfo;
    return `http://${this.opts.host}:${port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.http.listening) return resolve();
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  // ---- fault hooks -----------------------------------------------------------------------

  /**
   * Delays matching requests before they are handled: by `ms`, or until `until` settles (a test
   * holds a request in flight until what it waits for has happened).
   */
  delay(match: FaultMatch & ({ ms: number } | { until: Promise<unknown> })): void {
    this.faults.push({ ...match, kind: 'delay' });
  }

  /** Answers matching requests with a 5xx (DH-908 body) without handling them. */
  failWith(match: FaultMatch & { status?: number }): void {
    this.faults.push({ ...match, kind: 'error', status: match.status ?? 500 });
  }

  /**
   * The ambiguous case: the request IS handled (an order is placed) but the answer never
   * comes (`hang`) or the socket is destroyed after acceptance (`destroy`). Default pattern:
   * order placement.
   */
  acceptThenTimeout(match: FaultMatch & { mode?: 'hang' | 'destroy' } = {}): void {
    this.faults.push({
      pattern: match.pattern ?? /^POST \/v2\/orders$/,
      count: match.count,
      kind: 'acceptThenTimeout',
      mode: match.mode ?? 'hang',
    });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  // ---- dispatch --------------------------------------------------------------------------

  private takeFault(kind: ActiveFault['kind'], line: string): ActiveFault | undefined {
    for (let i = 0; i < this.faults.length; i++) {
      const f = this.faults[i];
      if (f.kind !== kind) continue;
      const p = f.pattern;
      const hit =
        p === undefined ? true : typeof p === 'string' ? line.startsWith(p) : p.test(line);
      if (!hit) continue;
      if (f.count !== undefined) {
        f.count--;
        if (f.count <= 0) this.faults.splice(i, 1);
      }
      this.stats.faultsApplied++;
      return f;
    }
    return undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.stats.requests++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const line = `${method} ${path}`;
    const raw = await readBody(req);

    const failure = this.takeFault('error', line);
    if (failure) {
      send(res, failure.status ?? 500, apiErrors.internal(failure.status).body());
      return;
    }
    const delay = this.takeFault('delay', line);
    if (delay?.until) await delay.until.then(noop, noop);
    else if (delay?.ms) await new Promise((resolve) => setTimeout(resolve, delay.ms));
    if (res.destroyed) return;

    if (method === 'GET' && path === SCRIP_MASTER_PATH) {
      const wait = this.opts.scripMasterDelayMs;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'text/csv' }).end(this.universe.toCsv());
      return;
    }

    if (path === '/v2/RenewToken' && (method === 'GET' || method === 'POST')) {
      this.answerToken(res, () => this.renewToken(req));
      return;
    }
    if (path === '/app/generateAccessToken' && method === 'POST') {
      this.answerToken(res, () => this.generateAccessToken(url.searchParams));
      return;
    }

    let route: Route | undefined;
    let params: string[] = [];
    for (const r of this.routes) {
      if (r.method !== method) continue;
      const m = r.pattern.exec(path);
      if (m) {
        route = r;
        params = m.slice(1).map((p) => decodeURIComponent(p));
        break;
      }
    }
    if (!route) {
      send(res, 404, apiErrors.input(`No route for ${line}`).body());
      return;
    }
    this.stats.byRoute[route.pattern.source] = (this.stats.byRoute[route.pattern.source] ?? 0) + 1;
    if (route.dataApi) this.stats.byEndpoint[line] = (this.stats.byEndpoint[line] ?? 0) + 1;

    try {
      const clientId = this.authenticate(req, route);
      const allowed =
        route.family === 'optionChain'
          ? this.limiter.allowOptionChain(clientId, raw)
          : this.limiter.allow(clientId, route.family);
      if (route.family === 'orders') {
        this.orderArrivals.push({ at: performance.now(), method, refused: !allowed });
      }
      if (!allowed) throw apiErrors.rateLimit();
      let body: unknown = undefined;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw);
        } catch {
          throw apiErrors.input('Invalid JSON body');
        }
      }
      const result = route.handler(
        { method, path, query: url.searchParams, body, clientId },
        params,
      );
      const timeout = route.acceptable ? this.takeFault('acceptThenTimeout', line) : undefined;
      if (timeout) {
        if (timeout.mode === 'destroy') res.socket?.destroy();
        // 'hang': never answer; stop() cuts the socket
        return;
      }
      send(res, 200, result);
    } catch (err) {
      if (err instanceof SimApiError) send(res, err.status, err.body());
      else if (err instanceof DataApiFailure) {
        send(res, err.status, { data: { [String(err.code)]: err.message }, status: 'failed' });
      } else throw err;
    }
  }

  private answerToken(res: http.ServerResponse, issue: () => { clientId: string; token: string }) {
    try {
      const { clientId, token } = issue();
      const account = this.accounts.get(clientId);
      send(res, 200, {
        dhanClientId: clientId,
        accessToken: token,
        expiryTime: account?.expiresAt !== undefined ? istIso(account.expiresAt) : undefined,
      });
    } catch (err) {
      if (!(err instanceof SimApiError)) throw err;
      this.stats.tokenRequestsRefused++;
      send(res, err.status, err.body());
    }
  }

  /** `RenewToken`: a valid, unexpired token buys another lifetime; the old token ends at once. */
  private renewToken(req: http.IncomingMessage): { clientId: string; token: string } {
    const clientId = header(req, 'dhanclientid') ?? header(req, 'client-id');
    const outcome = this.accounts.authenticate(clientId, header(req, 'access-token'), false);
    if (!outcome.ok) throw apiErrors.auth();
    this.stats.tokensRenewed++;
    return {
      clientId: outcome.account.clientId,
      token: this.accounts.issueToken(outcome.account.clientId),
    };
  }

  /** `generateAccessToken`: the client's PIN and the TOTP of this (or the previous) 30 s step. */
  private generateAccessToken(query: URLSearchParams): { clientId: string; token: string } {
    const clientId = query.get('dhanClientId') ?? '';
    const account = this.accounts.get(clientId);
    const code = query.get('totp') ?? '';
    const now = this.clock.now();
    const valid =
      account?.pin !== undefined &&
      account.totpSecret !== undefined &&
      query.get('pin') === account.pin &&
      [now, now - 30_000].some((at) => totp(base32Decode(account.totpSecret!), at) === code);
    if (!valid) throw apiErrors.auth();
    this.stats.tokensGenerated++;
    return { clientId, token: this.accounts.issueToken(clientId) };
  }

  private authenticate(req: http.IncomingMessage, route: Route): string {
    const token = header(req, 'access-token');
    const clientId = header(req, 'client-id');
    const outcome = this.accounts.authenticate(clientId, token, route.dataApi);
    if (outcome.ok) return outcome.account.clientId;
    if (route.dataApi) {
      const status = outcome.reason === FeedDisconnectCode.DATA_API_NOT_SUBSCRIBED ? 403 : 401;
      throw new DataApiFailure(status, outcome.reason, DATA_AUTH_MESSAGES[outcome.reason] ?? '');
    }
    throw apiErrors.auth();
  }

  private buildRoutes(): Route[] {
    const r = (
      method: string,
      pattern: RegExp,
      family: Route['family'],
      handler: Handler,
      extra: Partial<Route> = {},
    ): Route => ({ method, pattern, family, handler, dataApi: false, ...extra });
    return [
      r('POST', /^\/v2\/orders$/, 'orders', (c) => this.placeOrder(c), { acceptable: true }),
      r('PUT', /^\/v2\/orders\/([^/]+)$/, 'orders', (c, p) => this.modifyOrder(c, p[0])),
      r('DELETE', /^\/v2\/orders\/([^/]+)$/, 'orders', (c, p) => {
        const order = this.engine.cancel(c.clientId, p[0]);
        return { orderId: order.orderId, orderStatus: order.status };
      }),
      r('GET', /^\/v2\/orders$/, 'nonTrading', (c) =>
        this.engine.ordersOf(c.clientId).map(orderView),
      ),
      r('GET', /^\/v2\/orders\/external\/([^/]+)$/, 'nonTrading', (c, p) => {
        const hits = this.engine.byCorrelationId(c.clientId, p[0]);
        if (hits.length === 0) {
          throw apiErrors.order('Incorrect request for order and cannot be processed', 404);
        }
        return this.opts.correlationLookup === 'array'
          ? hits.map(orderView)
          : orderView(hits[hits.length - 1]);
      }),
      r('GET', /^\/v2\/orders\/([^/]+)$/, 'nonTrading', (c, p) => {
        const order = this.engine.order(c.clientId, p[0]);
        return order ? orderView(order) : [];
      }),
      r('GET', /^\/v2\/trades$/, 'nonTrading', (c) =>
        this.engine.tradesOf(c.clientId).map(tradeView),
      ),
      r('GET', /^\/v2\/trades\/([^/]+)$/, 'nonTrading', (c, p) =>
        this.engine.tradesOf(c.clientId, p[0]).map(tradeView),
      ),
      r('GET', /^\/v2\/positions$/, 'nonTrading', (c) => this.engine.positionsOf(c.clientId)),
      r('GET', /^\/v2\/holdings$/, 'nonTrading', () => {
        if (this.holdings.length === 0) throw apiErrors.noHoldings();
        return this.holdings;
      }),
      r('GET', /^\/v2\/fundlimit$/, 'nonTrading', (c) => this.engine.funds(c.clientId)),
      r('POST', /^\/v2\/margincalculator$/, 'nonTrading', (c) => this.marginCalculator(c)),
      r('GET', /^\/v2\/profile$/, 'nonTrading', (c) => {
        const account = this.accounts.get(c.clientId);
        return {
          dhanClientId: c.clientId,
          tokenValidity: istDateTime(this.clock.now() + 86_400_000).replace(' ', ' '),
          activeSegment: 'Equity, Derivative, Commodity',
          ddpi: 'Deactive',
          mtf: 'Deactive',
          dataPlan: account?.dataPlan ? 'Active' : 'Deactive',
          dataValidity: istDateTime(this.clock.now() + 30 * 86_400_000),
        };
      }),
      r('POST', /^\/v2\/killswitch$/, 'nonTrading', (c) => {
        const status = c.query.get('killSwitchStatus');
        if (status !== 'ACTIVATE' && status !== 'DEACTIVATE') {
          throw apiErrors.input('killSwitchStatus must be ACTIVATE or DEACTIVATE');
        }
        this.engine.setKillSwitch(c.clientId, status === 'ACTIVATE');
        return {
          dhanClientId: c.clientId,
          killSwitchStatus: `Kill Switch has been successfully ${status === 'ACTIVATE' ? 'activated' : 'deactivated'}`,
        };
      }),
      r('GET', /^\/v2\/killswitch$/, 'nonTrading', (c) => ({
        dhanClientId: c.clientId,
        killSwitchStatus: this.engine.killSwitchActive(c.clientId) ? 'ACTIVATE' : 'DEACTIVATE',
      })),
      r('POST', /^\/v2\/optionchain$/, 'optionChain', (c) => this.optionChain(c), {
        dataApi: true,
      }),
      r('POST', /^\/v2\/optionchain\/expirylist$/, 'data', (c) => this.expiryList(c), {
        dataApi: true,
      }),
      r('POST', /^\/v2\/charts\/intraday$/, 'data', (c) => this.chart(c, true), {
        dataApi: true,
      }),
      r('POST', /^\/v2\/charts\/historical$/, 'data', (c) => this.chart(c, false), {
        dataApi: true,
      }),
      r(
        'POST',
        /^\/v2\/marketfeed\/(ltp|ohlc|quote)$/,
        'quote',
        (c, p) => this.marketFeed(c, p[0] as 'ltp' | 'ohlc' | 'quote'),
        { dataApi: true },
      ),
    ];
  }

  // ---- orders ----------------------------------------------------------------------------

  private placeOrder(c: Ctx): unknown {
    const b = objectBody(c.body);
    refuseEmptyStrings(b);
    checkClientId(b, c.clientId);
    const transactionType = enumField<TransactionType>(b, 'transactionType', TRANSACTION_TYPES);
    const segment = enumField<ExchangeSegment>(
      b,
      'exchangeSegment',
      Object.values(ExchangeSegment),
    );
    const productType = enumField<ProductType>(b, 'productType', PRODUCT_TYPES);
    const orderType = enumField<OrderType>(b, 'orderType', ORDER_TYPES);
    const validity = enumField<Validity>(b, 'validity', VALIDITIES);
    const securityId = b.securityId;
    if (typeof securityId !== 'string' && typeof securityId !== 'number') {
      throw apiErrors.input('Missing required field securityId');
    }
    const instrument = this.universe.get(segment, securityId);
    if (!instrument) throw apiErrors.input('Invalid SecurityId');
    const quantity = numberField(b, 'quantity', true);
    if (!Number.isInteger(quantity) || quantity <= 0) {
      throw apiErrors.input('Quantity must be a positive integer');
    }
    const price = numberField(b, 'price', orderType === 'LIMIT' || orderType === 'STOP_LOSS');
    const triggerPrice = numberField(
      b,
      'triggerPrice',
      orderType === 'STOP_LOSS' || orderType === 'STOP_LOSS_MARKET',
    );
    if ((orderType === 'LIMIT' || orderType === 'STOP_LOSS') && !(price > 0)) {
      throw apiErrors.input('Price must be greater than 0 for LIMIT and STOP_LOSS orders');
    }
    if ((orderType === 'STOP_LOSS' || orderType === 'STOP_LOSS_MARKET') && !(triggerPrice > 0)) {
      throw apiErrors.input('Trigger price must be greater than 0 for stop-loss orders');
    }
    const disclosedQuantity = numberField(b, 'disclosedQuantity', false);
    if (disclosedQuantity < 0 || disclosedQuantity > quantity) {
      throw apiErrors.input('Invalid disclosedQuantity');
    }
    let correlationId: string | undefined;
    if (b.correlationId !== undefined) {
      if (typeof b.correlationId !== 'string' || !CORRELATION_ID.test(b.correlationId)) {
        throw apiErrors.input(
          'correlationId must be at most 25 characters from letters, digits, space, _ and -',
        );
      }
      correlationId = b.correlationId;
    }
    const afterMarketOrder = b.afterMarketOrder === true || b.afterMarketOrder === 'true';
    if (
      b.algoId !== undefined &&
      (typeof b.algoId !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(b.algoId))
    ) {
      throw apiErrors.input('algoId must be 1-32 characters from letters, digits, _ and -');
    }
    const req: PlaceRequest = {
      correlationId,
      transactionType,
      instrument,
      productType,
      orderType,
      validity,
      quantity,
      disclosedQuantity,
      price: orderType === 'MARKET' || orderType === 'STOP_LOSS_MARKET' ? 0 : price,
      triggerPrice:
        orderType === 'STOP_LOSS' || orderType === 'STOP_LOSS_MARKET' ? triggerPrice : 0,
      afterMarketOrder,
      boProfitValue: optionalNumber(b, 'boProfitValue'),
      boStopLossValue: optionalNumber(b, 'boStopLossValue'),
      ...(typeof b.algoId === 'string' ? { algoId: b.algoId } : {}),
    };
    const order = this.engine.place(c.clientId, req);
    return { orderId: order.orderId, orderStatus: 'TRANSIT' };
  }

  private modifyOrder(c: Ctx, orderId: string): unknown {
    const b = objectBody(c.body);
    refuseEmptyStrings(b);
    checkClientId(b, c.clientId);
    if (b.orderId !== undefined && String(b.orderId) !== orderId) {
      throw apiErrors.input('orderId in the body does not match the path');
    }
    const req: ModifyRequest = {
      orderType: enumField<OrderType>(b, 'orderType', ORDER_TYPES),
      quantity: optionalNumber(b, 'quantity'),
      price: optionalNumber(b, 'price'),
      triggerPrice: optionalNumber(b, 'triggerPrice'),
      disclosedQuantity: optionalNumber(b, 'disclosedQuantity'),
      validity:
        b.validity === undefined ? undefined : enumField<Validity>(b, 'validity', VALIDITIES),
      legName: typeof b.legName === 'string' ? b.legName : undefined,
    };
    if (req.quantity !== undefined && (!Number.isInteger(req.quantity) || req.quantity <= 0)) {
      throw apiErrors.input('Quantity must be a positive integer');
    }
    const order = this.engine.modify(c.clientId, orderId, req);
    return { orderId: order.orderId, orderStatus: order.status };
  }

  private marginCalculator(c: Ctx): unknown {
    const b = objectBody(c.body);
    refuseEmptyStrings(b);
    const segment = enumField<ExchangeSegment>(
      b,
      'exchangeSegment',
      Object.values(ExchangeSegment),
    );
    const side = enumField<TransactionType>(b, 'transactionType', TRANSACTION_TYPES);
    const productType = enumField<ProductType>(b, 'productType', PRODUCT_TYPES);
    const quantity = numberField(b, 'quantity', true);
    const securityId = b.securityId;
    if (typeof securityId !== 'string' && typeof securityId !== 'number') {
      throw apiErrors.input('Missing required field securityId');
    }
    const inst = this.universe.get(segment, securityId);
    if (!inst) throw apiErrors.input('Invalid SecurityId');
    return this.engine.margin(
      c.clientId,
      inst,
      side,
      productType,
      quantity,
      numberField(b, 'price', false),
    );
  }

  // ---- data APIs -------------------------------------------------------------------------

  private underlyingFor(c: Ctx): SimInstrument {
    const b = objectBody(c.body);
    const scrip = b.UnderlyingScrip;
    const seg = b.UnderlyingSeg;
    if ((typeof scrip !== 'number' && typeof scrip !== 'string') || typeof seg !== 'string') {
      throw new DataApiFailure(400, FeedDisconnectCode.INVALID_REQUEST, 'Invalid Request');
    }
    // BSE index chains are asked for with IDX_I or BSE_FNO (DhanHQ v2: option chain): both are served
    const lookupSeg = seg === ExchangeSegment.BSE_FNO ? ExchangeSegment.IDX_I : seg;
    const inst = this.universe.get(lookupSeg, scrip);
    if (!inst || this.universe.expiries(inst).length === 0) {
      throw new DataApiFailure(400, FeedDisconnectCode.INVALID_SECURITY_ID, 'Invalid SecurityId');
    }
    return inst;
  }

  private expiryList(c: Ctx): unknown {
    const underlying = this.underlyingFor(c);
    return { data: this.universe.expiries(underlying), status: 'success' };
  }

  private optionChain(c: Ctx): unknown {
    const underlying = this.underlyingFor(c);
    const expiry = objectBody(c.body).Expiry;
    if (typeof expiry !== 'string' || !this.universe.expiries(underlying).includes(expiry)) {
      throw new DataApiFailure(400, FeedDisconnectCode.INVALID_EXPIRY_DATE, 'Invalid Expiry Date');
    }
    const now = this.clock.now();
    const oc: Record<string, { ce?: unknown; pe?: unknown }> = {};
    for (const slice of this.universe.chain(underlying, expiry)) {
      const entry: { ce?: unknown; pe?: unknown } = {};
      if (slice.ce) entry.ce = this.chainSide(slice.ce, now);
      if (slice.pe) entry.pe = this.chainSide(slice.pe, now);
      oc[slice.strike.toFixed(6)] = entry;
    }
    return {
      data: { last_price: this.market.mark(underlying, now).ltp, oc },
      status: 'success',
    };
  }

  private chainSide(inst: SimInstrument, now: number): unknown {
    const state = this.market.mark(inst, now);
    const g = this.market.greeks(inst, now);
    const { bid, ask } = this.market.touch(inst, now);
    return {
      average_price: round2(this.market.averagePrice(state)),
      greeks: {
        delta: round5(g?.delta ?? 0),
        theta: round5(g?.theta ?? 0),
        gamma: round5(g?.gamma ?? 0),
        vega: round5(g?.vega ?? 0),
      },
      implied_volatility: round2((g?.vol ?? 0) * 100),
      last_price: state.ltp,
      oi: state.oi,
      previous_close_price: state.prevClose,
      previous_oi: state.prevOi,
      previous_volume: Math.round(state.prevOi * 3),
      security_id: inst.id,
      top_ask_price: ask,
      top_ask_quantity: inst.lotSize * 10,
      top_bid_price: bid,
      top_bid_quantity: inst.lotSize * 12,
      volume: state.volume,
    };
  }

  /**
   * `/charts/intraday` and `/charts/historical` (DhanHQ v2: historical data): parallel arrays
   * of bars starting in [fromDate, toDate) (toDate non-inclusive; IST dates, intraday may carry
   * a time), timestamps in true UTC epoch seconds, daily bars stamped at IST midnight.
   */
  private chart(c: Ctx, intraday: boolean): unknown {
    const b = objectBody(c.body);
    const segment = b.exchangeSegment;
    const securityId = b.securityId;
    if (
      typeof segment !== 'string' ||
      (typeof securityId !== 'string' && typeof securityId !== 'number')
    ) {
      throw new DataApiFailure(400, FeedDisconnectCode.INVALID_REQUEST, 'Invalid Request');
    }
    const inst = this.universe.get(segment, securityId);
    if (!inst) {
      throw new DataApiFailure(400, FeedDisconnectCode.INVALID_SECURITY_ID, 'Invalid SecurityId');
    }
    const from = chartTime(b.fromDate);
    const to = chartTime(b.toDate);
    if (from === undefined || to === undefined || to <= from) {
      throw new DataApiFailure(400, FeedDisconnectCode.INVALID_REQUEST, 'Invalid date range');
    }
    const now = this.clock.now();
    let bars: SimBar[];
    if (intraday) {
      const interval = Number(b.interval);
      if (!INTRADAY_INTERVALS.has(interval)) {
        throw new DataApiFailure(400, FeedDisconnectCode.INVALID_REQUEST, 'Invalid interval');
      }
      if (to - from > INTRADAY_MAX_DAYS * 86_400_000) {
        throw new DataApiFailure(
          400,
          FeedDisconnectCode.INVALID_REQUEST,
          `Intraday data is served ${INTRADAY_MAX_DAYS} days per request`,
        );
      }
      bars = this.charts.intraday(inst, from, to, now, interval);
    } else {
      bars = this.charts.daily(
        inst,
        String(b.fromDate).slice(0, 10),
        String(b.toDate).slice(0, 10),
        now,
      );
    }
    const out: Record<string, number[]> = {
      open: bars.map((x) => x.o),
      high: bars.map((x) => x.h),
      low: bars.map((x) => x.l),
      close: bars.map((x) => x.c),
      volume: bars.map((x) => x.v),
      timestamp: bars.map((x) => x.t),
    };
    if (b.oi === true) out.open_interest = bars.map((x) => x.oi);
    return out;
  }

  private marketFeed(c: Ctx, kind: 'ltp' | 'ohlc' | 'quote'): unknown {
    const b = objectBody(c.body);
    const data: Record<string, Record<string, unknown>> = {};
    let total = 0;
    const now = this.clock.now();
    for (const [segment, ids] of Object.entries(b)) {
      if (!Array.isArray(ids)) throw apiErrors.input(`${segment} must map to an array of ids`);
      total += ids.length;
      if (total > 1000) throw apiErrors.input('At most 1000 instruments per request');
      const out: Record<string, unknown> = {};
      for (const id of ids) {
        const inst =
          typeof id === 'number' || typeof id === 'string'
            ? this.universe.get(segment, id)
            : undefined;
        if (!inst) continue;
        out[String(inst.id)] = this.quoteOf(inst, kind, now);
      }
      data[segment] = out;
    }
    return { data, status: 'success' };
  }

  private quoteOf(inst: SimInstrument, kind: 'ltp' | 'ohlc' | 'quote', now: number): unknown {
    const s = this.market.mark(inst, now);
    if (kind === 'ltp') return { last_price: s.ltp };
    const ohlc = { open: s.open, close: s.prevClose, high: s.high, low: s.low };
    if (kind === 'ohlc') return { last_price: s.ltp, ohlc };
    const depth = this.market.depth(inst, s);
    return {
      average_price: round2(this.market.averagePrice(s)),
      buy_quantity: s.totalBuyQty,
      depth: {
        buy: depth.map((d) => ({ quantity: d.bidQty, orders: d.bidOrders, price: d.bidPrice })),
        sell: depth.map((d) => ({ quantity: d.askQty, orders: d.askOrders, price: d.askPrice })),
      },
      last_price: s.ltp,
      last_quantity: s.ltq,
      last_trade_time: tradeTime(s.lastTradeMs),
      lower_circuit_limit: round2(s.prevClose * 0.8),
      upper_circuit_limit: round2(s.prevClose * 1.2),
      net_change: round2(s.ltp - s.prevClose),
      ohlc,
      oi: s.oi,
      oi_day_high: s.oiHigh,
      oi_day_low: s.oiLow,
      sell_quantity: s.totalSellQty,
      volume: s.volume,
    };
  }
}

// ---- helpers -----------------------------------------------------------------------------

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 1024 * 1024) {
        req.destroy();
        reject(new Error('body too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `YYYY-MM-DDTHH:MM:SS` IST wall clock, as DhanHQ writes times. */
function istIso(epochMs: number): string {
  return istDateTime(epochMs).replace(' ', 'T');
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw apiErrors.input('Request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function refuseEmptyStrings(b: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(b)) {
    if (typeof value === 'string' && value.trim() === '') {
      throw apiErrors.input(`Invalid value for ${key}: empty string`);
    }
  }
}

function checkClientId(b: Record<string, unknown>, clientId: string): void {
  if (b.dhanClientId === undefined) throw apiErrors.input('Missing required field dhanClientId');
  if (String(b.dhanClientId) !== clientId) throw apiErrors.input('Invalid dhanClientId');
}

function enumField<T extends string>(
  b: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
): T {
  const value = b[name];
  if (value === undefined) throw apiErrors.input(`Missing required field ${name}`);
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw apiErrors.input(`Invalid value for ${name}`);
  }
  return value as T;
}

function numberField(b: Record<string, unknown>, name: string, required: boolean): number {
  const value = b[name];
  if (value === undefined || value === null) {
    if (required) throw apiErrors.input(`Missing required field ${name}`);
    return 0;
  }
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw apiErrors.input(`Invalid value for ${name}`);
  return n;
}

function optionalNumber(b: Record<string, unknown>, name: string): number | undefined {
  return b[name] === undefined || b[name] === null ? undefined : numberField(b, name, false);
}

/** `YYYY-MM-DD` (IST midnight) or `YYYY-MM-DD HH:MM[:SS]` (IST) to epoch ms. */
function chartTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value.trim());
  if (!m) return undefined;
  const ms = istTimeMs(m[1], Number(m[2] ?? 0), Number(m[3] ?? 0)) + Number(m[4] ?? 0) * 1000;
  return Number.isFinite(ms) && addDays(m[1], 0) === m[1] ? ms : undefined;
}

function round5(value: number): number {
  return Math.round(value * 100_000) / 100_000;
}

/** `DD/MM/YYYY HH:MM:SS` in IST, as the quote API writes it. */
function tradeTime(epochMs: number): string {
  const t = istDateTime(epochMs);
  return `${t.slice(8, 10)}/${t.slice(5, 7)}/${t.slice(0, 4)} ${t.slice(11)}`;
}
