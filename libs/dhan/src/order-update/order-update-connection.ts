import WebSocket from 'ws';
import { BackoffOptions, FullJitterBackoff } from '../util/backoff';
import { Clock, systemClock } from '../util/clock';
import { TypedEmitter } from '../util/typed-emitter';
import {
  encodeOrderUpdateLogin,
  OrderUpdate,
  parseOrderUpdateMessage,
} from './order-update.parser';

export const DHAN_ORDER_UPDATE_URL = 'wss://api-order-update.dhan.co';

export interface OrderUpdateConnectionOptions {
  url?: string;
  clientId: string;
  /** Read before every connection attempt. */
  token: () => Promise<string> | string;
  backoff?: BackoffOptions;
  clock?: Clock;
  /** Client pings; 0 disables. Default 10 s. DhanHQ has no application heartbeat here. */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  maxPayload?: number;
  handshakeTimeoutMs?: number;
}

export type OrderUpdateConnectionState =
  'idle' | 'connecting' | 'open' | 'backoff' | 'fatal' | 'stopped';

export interface OrderUpdateStats {
  state: OrderUpdateConnectionState;
  messages: number;
  updates: number;
  ignored: number;
  malformed: number;
  connects: number;
  reconnects: number;
  lastMessageAt: number;
}

export type OrderUpdateEvents = {
  connected: [];
  disconnected: [{ code: number; cause: string; upForMs: number; httpStatus?: number }];
  update: [OrderUpdate];
  error: [Error];
  fatal: [{ httpStatus: number; message: string }];
};

/** The DhanHQ order-update socket (DHAN.md 3): login, `order_alert` parsing, reconnects with the feed's backoff. */
export class OrderUpdateConnection extends TypedEmitter<OrderUpdateEvents> {
  private readonly opts: OrderUpdateConnectionOptions;
  private readonly clock: Clock;
  private readonly backoff: FullJitterBackoff;
  private ws: WebSocket | undefined;
  private currentState: OrderUpdateConnectionState = 'idle';
  private attemptSeq = 0;
  private openedAt = 0;
  private opened = false;
  private cause: string | undefined;
  private httpStatus: number | undefined;
  private reconnectTimer: unknown;
  private pingTimer: unknown;
  private pongTimer: unknown;
  private readonly counters = {
    messages: 0,
    updates: 0,
    ignored: 0,
    malformed: 0,
    connects: 0,
    lastMessageAt: 0,
  };

  constructor(options: OrderUpdateConnectionOptions) {
    super();
    this.opts = options;
    this.clock = options.clock ?? systemClock;
    this.backoff = new FullJitterBackoff(options.backoff);
  }

  get state(): OrderUpdateConnectionState {
    return this.currentState;
  }

  getStats(): OrderUpdateStats {
    return {
      state: this.currentState,
      ...this.counters,
      reconnects: Math.max(0, this.counters.connects - 1),
    };
  }

  start(): void {
    if (this.currentState !== 'idle' && this.currentState !== 'stopped') return;
    void this.connect();
  }

  /** Restarts after a fatal handshake refusal (a new token) or a stop. */
  resume(): void {
    if (this.currentState !== 'fatal' && this.currentState !== 'stopped') return;
    this.backoff.reset();
    this.currentState = 'idle';
    this.start();
  }

  reconnect(): void {
    if (this.ws && this.ws.readyState !== WebSocket.CLOSED) {
      this.cause = 'forced';
      this.ws.terminate();
    }
  }

  async stop(): Promise<void> {
    this.currentState = 'stopped';
    this.attemptSeq++;
    this.clock.clearTimeout(this.reconnectTimer);
    this.clearLiveness();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.OPEN) ws.close(1000);
      else ws.terminate();
    });
  }

  private async connect(): Promise<void> {
    const attempt = ++this.attemptSeq;
    this.currentState = 'connecting';
    let token: string;
    try {
      token = await this.opts.token();
    } catch (err) {
      if (attempt !== this.attemptSeq) return;
      this.emit('error', new Error(`token provider failed: ${(err as Error).message}`));
      this.scheduleReconnect();
      return;
    }
    if (attempt !== this.attemptSeq || this.currentState !== 'connecting') return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.opts.url ?? DHAN_ORDER_UPDATE_URL, {
        maxPayload: this.opts.maxPayload ?? 1024 * 1024,
        handshakeTimeout: this.opts.handshakeTimeoutMs ?? 10_000,
        perMessageDeflate: false,
      });
    } catch (err) {
      this.currentState = 'fatal';
      this.emit('fatal', {
        httpStatus: 0,
        message: `cannot open the order-update socket: ${(err as Error).message}`,
      });
      return;
    }
    this.ws = ws;
    this.cause = undefined;
    this.httpStatus = undefined;
    ws.on('unexpected-response', (_req, res) => {
      this.httpStatus = res.statusCode;
      this.cause = 'handshake-rejected';
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      if (ws !== this.ws) return;
      this.currentState = 'open';
      this.counters.connects++;
      this.openedAt = this.clock.now();
      this.opened = true;
      ws.send(encodeOrderUpdateLogin(this.opts.clientId, token));
      this.armPing();
      this.emit('connected');
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => this.clock.clearTimeout(this.pongTimer));
    ws.on('error', (err) => {
      if (this.cause === 'handshake-rejected' || this.currentState === 'stopped') return;
      this.cause ??= 'socket-error';
      this.emit('error', err);
    });
    ws.on('close', (code) => this.onClose(ws, code));
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    this.counters.messages++;
    this.counters.lastMessageAt = this.clock.now();
    const text = isBinary
      ? ''
      : Array.isArray(data)
        ? Buffer.concat(data).toString()
        : data.toString();
    const parsed = parseOrderUpdateMessage(text);
    if (parsed.kind === 'malformed') {
      this.counters.malformed++;
      return;
    }
    if (parsed.kind === 'ignored') {
      this.counters.ignored++;
      return;
    }
    this.counters.updates++;
    try {
      this.emit('update', parsed.update);
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  private onClose(ws: WebSocket, code: number): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    this.clearLiveness();
    const wasOpen = this.opened;
    const upForMs = wasOpen ? this.clock.now() - this.openedAt : 0;
    this.opened = false;
    this.backoff.connectionEnded(upForMs);
    const status = this.httpStatus;
    if (wasOpen || status !== undefined) {
      this.emit('disconnected', {
        code,
        cause: this.cause ?? 'closed',
        upForMs,
        ...(status !== undefined ? { httpStatus: status } : {}),
      });
    }
    if (this.currentState === 'stopped') return;
    if (status === 401 || status === 403) {
      this.currentState = 'fatal';
      this.emit('fatal', {
        httpStatus: status,
        message: `order-update handshake refused with HTTP ${status}`,
      });
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.currentState === 'stopped' || this.currentState === 'fatal') return;
    this.currentState = 'backoff';
    this.reconnectTimer = this.clock.setTimeout(() => {
      if (this.currentState === 'backoff') void this.connect();
    }, this.backoff.next());
  }

  private armPing(): void {
    const interval = this.opts.pingIntervalMs ?? 10_000;
    if (interval <= 0) return;
    this.pingTimer = this.clock.setTimeout(() => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      this.clock.clearTimeout(this.pongTimer);
      this.pongTimer = this.clock.setTimeout(() => {
        this.cause = 'pong-timeout';
        ws.terminate();
      }, this.opts.pongTimeoutMs ?? 20_000);
      ws.ping();
      this.armPing();
    }, interval);
  }

  private clearLiveness(): void {
    this.clock.clearTimeout(this.pingTimer);
    this.clock.clearTimeout(this.pongTimer);
  }
}
