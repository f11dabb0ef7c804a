import type WebSocket from 'ws';
import { BackoffOptions } from '../util/backoff';
import { Clock } from '../util/clock';
import { ReconnectingSocket, type SocketEnd, type SocketState } from '../util/reconnecting-socket';
import {
  encodeOrderUpdateLogin,
  OrderUpdate,
  parseOrderUpdateMessage,
} from './order-update.parser';

function isAuthClose(end: SocketEnd): boolean {
  return end.code >= 4000 && end.code < 5000 && /auth|token/i.test(end.reason ?? '');
}

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
  /** See ReconnectingSocketOptions.mayConnect. */
  mayConnect?: () => boolean;
}

export type OrderUpdateConnectionState = SocketState;

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
  /** `auth`: the token was refused (a handshake 401/403 or a refused login). */
  fatal: [{ httpStatus: number; message: string; auth: boolean }];
};

/** The DhanHQ order-update socket (DhanHQ v2: order-update socket): login, `order_alert` parsing, reconnects with the feed's backoff. */
export class OrderUpdateConnection extends ReconnectingSocket<OrderUpdateEvents> {
  private readonly opts: OrderUpdateConnectionOptions;
  private readonly counters = {
    messages: 0,
    updates: 0,
    ignored: 0,
    malformed: 0,
    lastMessageAt: 0,
  };

  constructor(options: OrderUpdateConnectionOptions) {
    super(options);
    this.opts = options;
  }

  getStats(): OrderUpdateStats {
    return {
      state: this.currentState,
      ...this.counters,
      connects: this.connects,
      reconnects: Math.max(0, this.connects - 1),
    };
  }

  protected socketUrl(): string {
    return this.opts.url ?? DHAN_ORDER_UPDATE_URL;
  }

  protected onOpen(ws: WebSocket, token: string): void {
    ws.send(encodeOrderUpdateLogin(this.opts.clientId, token));
  }

  protected onMessage(data: WebSocket.RawData, isBinary: boolean): void {
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

  protected onSocketError(err: Error): void {
    if (this.cause === 'handshake-rejected' || this.currentState === 'stopped') return;
    this.cause ??= 'socket-error';
    this.emit('error', err);
  }

  protected onEnded(end: SocketEnd): void {
    if (!end.wasOpen && end.httpStatus === undefined) return;
    this.emit('disconnected', {
      code: end.code,
      cause: this.cause ?? 'closed',
      upForMs: end.upForMs,
      ...(end.httpStatus !== undefined ? { httpStatus: end.httpStatus } : {}),
    });
  }

  /**
   * Auth refusals: a handshake refused with 401/403, or the login answered by a close whose
   * reason speaks of authentication or the token (DhanHQ documents no login answer; a close in
   * the 4000s naming the token is how a refused or expired login shows).
   */
  protected isFatal(end: SocketEnd): boolean {
    return end.httpStatus === 401 || end.httpStatus === 403 || isAuthClose(end);
  }

  protected onFatal(end: SocketEnd): void {
    this.emit('fatal', {
      httpStatus: end.httpStatus ?? 0,
      auth: true,
      message: isAuthClose(end)
        ? `order-update login refused (${end.code} ${end.reason ?? ''})`.trim()
        : `order-update handshake refused with HTTP ${end.httpStatus}`,
    });
  }

  protected onTokenError(message: string): void {
    this.emit('error', new Error(message));
  }

  protected onCannotOpen(message: string): void {
    this.emit('fatal', {
      httpStatus: 0,
      auth: false,
      message: `cannot open the order-update socket: ${message}`,
    });
  }
}
