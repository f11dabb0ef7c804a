import { EventEmitter } from 'node:events';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import { Account, Accounts, SimulatorLogger, silentLogger } from './accounts';
import { istDateTime } from './calendar';
import { OrderEngine, OrderStatus, SimOrder } from './orders';

export interface OrderUpdateServerOptions {
  host?: string;
  port?: number;
  /** `camel` as on the live wire (DhanHQ v2: order-update payloads as seen); `pascal` as in the docs. Default camel. */
  keyCase?: 'camel' | 'pascal';
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  /** A socket that has not logged in within this long is closed. Default 15 s. */
  loginTimeoutMs?: number;
  logger?: SimulatorLogger;
}

interface Session {
  ws: WebSocket;
  clientId?: string;
  lastPongAt: number;
  openedAt: number;
}

const STATUS_TEXT: Record<OrderStatus, string> = {
  TRANSIT: 'Transit',
  PENDING: 'Pending',
  PART_TRADED: 'Part_Traded',
  TRADED: 'Traded',
  CANCELLED: 'Cancelled',
  REJECTED: 'Rejected',
  EXPIRED: 'Expired',
};

const PRODUCT_LETTER: Record<string, string> = {
  CNC: 'C',
  INTRADAY: 'I',
  MARGIN: 'M',
  MTF: 'F',
  CO: 'V',
  BO: 'B',
};

const ORDER_TYPE_TEXT: Record<string, string> = {
  LIMIT: 'LMT',
  MARKET: 'MKT',
  STOP_LOSS: 'SL',
  STOP_LOSS_MARKET: 'SLM',
};

/** The order-update socket: MsgCode 42 login, then an `order_alert` per state change. */
export interface OrderUpdateServerEvents {
  login: [clientId: string];
  loginFailed: [];
}

export class OrderUpdateServer extends EventEmitter<OrderUpdateServerEvents> {
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<Session>();
  private readonly opts: Required<Omit<OrderUpdateServerOptions, 'logger'>>;
  private readonly logger: SimulatorLogger;
  private timer: NodeJS.Timeout | undefined;
  private refusing = false;
  readonly stats = {
    logins: 0,
    loginFailures: 0,
    alertsSent: 0,
    messagesReceived: 0,
    refusedHandshakes: 0,
  };
  private readonly onUpdate = (order: SimOrder): void => this.broadcast(order);
  /** A session logged in with a token that expired ends, as a new login would be refused. */
  private readonly onTokenExpired = (account: Account): void => {
    for (const s of [...this.sessions]) {
      if (s.clientId !== account.clientId) continue;
      this.sessions.delete(s);
      s.ws.close(4001, 'Authentication failed: access token expired');
    }
  };

  constructor(
    private readonly engine: OrderEngine,
    private readonly accounts: Accounts,
    options: OrderUpdateServerOptions = {},
  ) {
    super();
    this.opts = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      keyCase: options.keyCase ?? 'camel',
      pingIntervalMs: options.pingIntervalMs ?? 10_000,
      pongTimeoutMs: options.pongTimeoutMs ?? 40_000,
      loginTimeoutMs: options.loginTimeoutMs ?? 15_000,
    };
    this.logger = options.logger ?? silentLogger;
    this.http = http.createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only');
    });
    this.wss = new WebSocketServer({
      server: this.http,
      maxPayload: 64 * 1024,
      verifyClient: (_info, done) => {
        if (!this.refusing) return done(true);
        this.stats.refusedHandshakes++;
        done(false, 503, 'Service Unavailable');
      },
    });
    this.wss.on('connection', (ws) => this.onConnection(ws));
    this.engine.on('update', this.onUpdate);
    this.accounts.on('tokenExpired', this.onTokenExpired);
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.timer = setInterval(() => this.keepAlive(), this.opts.pingIntervalMs);
    const { port } = this.http.address() as AddressInfo;
    return `ws://${this.opts.host}:${port}`;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.engine.off('update', this.onUpdate);
    this.accounts.off('tokenExpired', this.onTokenExpired);
    for (const s of this.sessions) s.ws.terminate();
    this.sessions.clear();
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      if (!this.http.listening) return resolve();
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  /** Logged-in sockets per client id. */
  sessionCount(clientId?: string): number {
    let n = 0;
    for (const s of this.sessions) if (s.clientId && (!clientId || s.clientId === clientId)) n++;
    return n;
  }

  // ---- fault hooks -----------------------------------------------------------------------

  /**
   * Cuts every open order-update socket at once (no close frame), as a network drop does.
   * Alerts of the meantime are lost, like DhanHQ's: the client must reconcile over REST.
   */
  dropConnections(): number {
    let n = 0;
    for (const s of this.sessions) {
      s.ws.terminate();
      n++;
    }
    this.sessions.clear();
    return n;
  }

  /** While on, new handshakes are refused with HTTP 503 (the outage lasts until turned off). */
  refuseConnections(on: boolean): void {
    this.refusing = on;
  }

  setKeyCase(keyCase: 'camel' | 'pascal'): void {
    this.opts.keyCase = keyCase;
  }

  private onConnection(ws: WebSocket): void {
    const now = performance.now();
    const session: Session = { ws, lastPongAt: now, openedAt: now };
    this.sessions.add(session);
    ws.on('pong', () => {
      session.lastPongAt = performance.now();
    });
    ws.on('message', (data) => this.onMessage(session, data));
    ws.on('close', () => this.sessions.delete(session));
    ws.on('error', (err) => this.logger.debug('order-update socket error', { error: err.message }));
  }

  private onMessage(session: Session, data: RawData): void {
    this.stats.messagesReceived++;
    if (session.clientId) return;
    let msg: unknown;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      msg = undefined;
    }
    const login = (msg as { LoginReq?: Record<string, unknown> } | undefined)?.LoginReq;
    const code = login ? Number(login.MsgCode) : NaN;
    const clientId = login && typeof login.ClientId === 'string' ? login.ClientId : undefined;
    const token = login && typeof login.Token === 'string' ? login.Token : undefined;
    const auth = code === 42 ? this.accounts.authenticate(clientId, token, false) : undefined;
    if (!auth?.ok) {
      this.stats.loginFailures++;
      session.ws.close(4001, 'Authentication failed');
      this.emit('loginFailed');
      return;
    }
    this.stats.logins++;
    session.clientId = auth.account.clientId;
    this.emit('login', session.clientId);
  }

  private broadcast(order: SimOrder): void {
    let payload: string | undefined;
    for (const s of this.sessions) {
      if (s.clientId !== order.clientId || s.ws.readyState !== WebSocket.OPEN) continue;
      payload ??= JSON.stringify({ Type: 'order_alert', Data: this.alertData(order) });
      s.ws.send(payload);
      this.stats.alertsSent++;
    }
  }

  private alertData(order: SimOrder): Record<string, unknown> {
    const inst = order.instrument;
    const avg = order.filledQty > 0 ? order.turnover / order.filledQty : 0;
    const camel: Record<string, unknown> = {
      exchange: inst.exchange,
      segment: inst.kind === 'EQUITY' ? 'E' : inst.exchange === 'MCX' ? 'M' : 'D',
      source: 'P',
      securityId: inst.securityId,
      clientId: order.clientId,
      exchOrderNo: order.exchangeOrderId,
      orderNo: order.orderId,
      product: PRODUCT_LETTER[order.productType] ?? order.productType,
      txnType: order.transactionType === 'BUY' ? 'B' : 'S',
      orderType: ORDER_TYPE_TEXT[order.orderType] ?? order.orderType,
      validity: order.validity,
      discQuantity: order.disclosedQuantity,
      discQtyRem: order.disclosedQuantity,
      remainingQuantity: order.quantity - order.filledQty,
      quantity: order.quantity,
      tradedQty: order.filledQty,
      price: order.price,
      triggerPrice: order.triggerPrice,
      tradedPrice: order.lastTradedPrice,
      avgTradedPrice: Math.round(avg * 100) / 100,
      algoOrdNo: '',
      offMktFlag: order.afterMarketOrder ? '1' : '0',
      orderDateTime: istDateTime(order.createdMs),
      exchOrderTime: order.exchangeMs ? istDateTime(order.exchangeMs) : '',
      lastUpdatedTime: istDateTime(order.updatedMs),
      remarks: '',
      mktType: 'NL',
      reasonDescription: order.omsErrorDescription || 'CONFIRMED',
      legNo: 1,
      instrument: inst.instrumentType,
      symbol: inst.underlying ?? inst.symbol,
      productName: order.productType,
      status: STATUS_TEXT[order.status],
      lotSize: inst.lotSize,
      strikePrice: inst.strike ?? 0,
      expiryDate: inst.expiry ?? '0001-01-01',
      optType: inst.optionType ?? 'XX',
      displayName: inst.displayName,
      isin: 'NA',
      series: inst.series,
      goodTillDaysDate: '',
      refLtp: order.lastTradedPrice,
      tickSize: inst.tickSize,
      algoId: '0',
      multiplier: 1,
      correlationId: order.correlationId,
    };
    if (this.opts.keyCase === 'camel') return camel;
    const pascal: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(camel)) {
      pascal[key.charAt(0).toUpperCase() + key.slice(1)] = value;
    }
    return pascal;
  }

  private keepAlive(): void {
    const now = performance.now();
    for (const s of this.sessions) {
      if (!s.clientId && now - s.openedAt > this.opts.loginTimeoutMs) {
        s.ws.close(4001, 'Login timeout');
        continue;
      }
      if (now - s.lastPongAt > this.opts.pongTimeoutMs) {
        this.sessions.delete(s);
        s.ws.terminate();
        continue;
      }
      if (s.ws.readyState === WebSocket.OPEN) s.ws.ping();
    }
  }
}
