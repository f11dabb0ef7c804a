import WebSocket from 'ws';
import { BackoffOptions, FullJitterBackoff } from './backoff';
import { Clock, systemClock } from './clock';
import { EventMap, TypedEmitter } from './typed-emitter';

export type SocketState = 'idle' | 'connecting' | 'open' | 'backoff' | 'fatal' | 'stopped';

export interface ReconnectingSocketOptions {
  /** Read before every connection attempt, so a rolled token is picked up. */
  token: () => Promise<string> | string;
  backoff?: BackoffOptions;
  clock?: Clock;
  /** Client pings; 0 disables. Default 10 s. */
  pingIntervalMs?: number;
  /** Terminate if a ping is not answered within this. Default 20 s. */
  pongTimeoutMs?: number;
  /** Largest inbound frame; larger frames close the socket (ws closes with 1009). Default 1 MiB. */
  maxPayload?: number;
  handshakeTimeoutMs?: number;
  /**
   * Asked right before each socket is created; false stops the loop (state `stopped`) without
   * opening anything. For a caller whose right to hold the connection can lapse (leadership).
   */
  mayConnect?: () => boolean;
}

/** How a socket that was (or was about to be) open ended. */
export interface SocketEnd {
  /** WebSocket close code. */
  code: number;
  /** Whether the socket had opened (a refused handshake never did). */
  wasOpen: boolean;
  upForMs: number;
  /** HTTP status of a refused handshake. */
  httpStatus?: number;
  /** The close frame's reason text ('' when none). */
  reason?: string;
}

/**
 * The life of a DhanHQ WebSocket that stays connected (the market feed, the order-update
 * stream): the token read per attempt, full-jitter backoff between attempts, pings that end a
 * dead peer, a handshake refusal's HTTP status kept, `stop()`, `resume()` after a fatal stop,
 * and `reconnect()`. What the socket says, and which endings are fatal, is the subclass's.
 */
export abstract class ReconnectingSocket<
  E extends EventMap & { connected: [] },
> extends TypedEmitter<E> {
  protected readonly clock: Clock;
  protected readonly backoff: FullJitterBackoff;
  protected ws: WebSocket | undefined;
  protected currentState: SocketState = 'idle';
  /** Sockets that opened, ever. */
  protected connects = 0;
  /** Why the current socket is ending, when we know (the close handler reads it). */
  protected cause: string | undefined;
  /** HTTP status of the current attempt's refused handshake. */
  protected httpStatus: number | undefined;
  private attemptSeq = 0;
  private attemptToken: string | undefined;
  private openedAt = 0;
  private opened = false;
  private reconnectTimer: unknown;
  private pingTimer: unknown;
  private pongTimer: unknown;

  protected constructor(private readonly socketOptions: ReconnectingSocketOptions) {
    super();
    this.clock = socketOptions.clock ?? systemClock;
    this.backoff = new FullJitterBackoff(socketOptions.backoff);
  }

  get state(): SocketState {
    return this.currentState;
  }

  /**
   * The token of the latest attempt: a refusal of a token that is no longer current (rotated
   * while the attempt was under way) is not a refusal of the current one.
   */
  get lastToken(): string | undefined {
    return this.attemptToken;
  }

  /** Starts the connect loop. */
  start(): void {
    if (this.currentState !== 'idle' && this.currentState !== 'stopped') return;
    this.onStart();
    void this.connect();
  }

  /** Restarts after a fatal stop (e.g. once a new token is available) or after `stop()`. */
  resume(): void {
    if (
      this.currentState !== 'fatal' &&
      this.currentState !== 'stopped' &&
      this.currentState !== 'idle'
    ) {
      return;
    }
    this.onResume();
    this.backoff.reset();
    this.currentState = 'idle';
    this.start();
  }

  /** Drops the current socket and reconnects through the backoff. */
  reconnect(): void {
    if (this.ws && this.ws.readyState !== WebSocket.CLOSED) this.drop('forced');
  }

  /** Closes the socket and stays down until `start()` or `resume()`. */
  async stop(): Promise<void> {
    this.currentState = 'stopped';
    this.attemptSeq++;
    this.clock.clearTimeout(this.reconnectTimer);
    this.onStop();
    this.clearLiveness();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.OPEN) this.closeOpenSocket(ws);
      else ws.terminate();
    });
  }

  // ---- what the subclass says ----

  /** The URL of the next attempt. */
  protected abstract socketUrl(token: string): string;
  /** The socket opened (the state is `open`); pings are armed and `connected` emitted after. */
  protected abstract onOpen(ws: WebSocket, token: string): void;
  protected abstract onMessage(data: WebSocket.RawData, isBinary: boolean): void;
  protected abstract onSocketError(err: Error & { code?: string }): void;
  /** The socket ended (reported before any reconnect or fatal stop). */
  protected abstract onEnded(end: SocketEnd): void;
  /** Whether retrying after this ending is pointless (auth refused, entitlement missing). */
  protected abstract isFatal(end: SocketEnd): boolean;
  /** The loop stopped for good (the state is `fatal`): say why. */
  protected abstract onFatal(end: SocketEnd): void;
  /** The token provider threw; the loop retries after the backoff. */
  protected abstract onTokenError(message: string): void;
  /** A socket could not even be created (a malformed URL): configuration, not weather. */
  protected abstract onCannotOpen(message: string): void;

  protected onStart(): void {}
  protected onResume(): void {}
  protected onStop(): void {}
  /** Timers of the subclass that live only while a socket is open. */
  protected onLivenessCleared(): void {}
  protected onPongTimeout(): void {
    this.drop('pong-timeout');
  }
  protected closeOpenSocket(ws: WebSocket): void {
    ws.close(1000);
  }

  /** Ends the socket for a local reason; the close handler reconnects. */
  protected drop(cause: string): void {
    this.cause = cause;
    this.ws?.terminate();
  }

  // ---- the loop ----

  private async connect(): Promise<void> {
    const attempt = ++this.attemptSeq;
    this.currentState = 'connecting';
    let token: string;
    try {
      token = await this.socketOptions.token();
    } catch (err) {
      if (attempt !== this.attemptSeq) return;
      this.onTokenError(`token provider failed: ${(err as Error).message}`);
      this.scheduleReconnect();
      return;
    }
    if (attempt !== this.attemptSeq || this.currentState !== 'connecting') return;
    if (this.socketOptions.mayConnect && !this.socketOptions.mayConnect()) {
      this.currentState = 'stopped';
      return;
    }
    this.attemptToken = token;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.socketUrl(token), {
        maxPayload: this.socketOptions.maxPayload ?? 1024 * 1024,
        handshakeTimeout: this.socketOptions.handshakeTimeoutMs ?? 10_000,
        perMessageDeflate: false,
      });
    } catch (err) {
      this.currentState = 'fatal';
      this.onCannotOpen((err as Error).message);
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
      this.connects++;
      this.openedAt = this.clock.now();
      this.opened = true;
      this.onOpen(ws, token);
      this.armPing();
      this.emit('connected', ...([] as unknown as E['connected']));
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => this.clock.clearTimeout(this.pongTimer));
    ws.on('error', (err: Error & { code?: string }) => this.onSocketError(err));
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString('utf8')));
  }

  private onClose(ws: WebSocket, code: number, reason = ''): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    this.clearLiveness();
    const wasOpen = this.opened;
    const upForMs = wasOpen ? this.clock.now() - this.openedAt : 0;
    this.opened = false;
    this.backoff.connectionEnded(upForMs);
    const end: SocketEnd = {
      code,
      wasOpen,
      upForMs,
      ...(this.httpStatus !== undefined ? { httpStatus: this.httpStatus } : {}),
      ...(reason ? { reason } : {}),
    };
    this.onEnded(end);
    if (this.currentState === 'stopped') return;
    if (this.isFatal(end)) {
      this.currentState = 'fatal';
      this.onFatal(end);
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
    const interval = this.socketOptions.pingIntervalMs ?? 10_000;
    if (interval <= 0) return;
    this.pingTimer = this.clock.setTimeout(() => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      this.clock.clearTimeout(this.pongTimer);
      this.pongTimer = this.clock.setTimeout(
        () => this.onPongTimeout(),
        this.socketOptions.pongTimeoutMs ?? 20_000,
      );
      ws.ping();
      this.armPing();
    }, interval);
  }

  private clearLiveness(): void {
    this.clock.clearTimeout(this.pingTimer);
    this.clock.clearTimeout(this.pongTimer);
    this.onLivenessCleared();
  }
}
