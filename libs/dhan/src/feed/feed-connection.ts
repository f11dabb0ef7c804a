import WebSocket from 'ws';
import {
  ExchangeSegment,
  FEED_LIMITS,
  FEED_MODE_RANK,
  FeedDisconnectCode,
  FeedMode,
  FeedResponseCode,
} from '../types';
import { BackoffOptions, FullJitterBackoff } from '../util/backoff';
import { Clock, systemClock } from '../util/clock';
import { TypedEmitter } from '../util/typed-emitter';
import { FeedDecoder } from './feed-decoder';
import { FeedDecodeError, FeedPacket } from './feed-packets';
import {
  encodeDisconnect,
  encodeSubscribe,
  encodeUnsubscribe,
  FeedInstrument,
} from './feed-requests';

export type TokenProvider = () => Promise<string> | string;

export interface FeedConnectionOptions {
  /** Feed base URL, e.g. `wss://api-feed.dhan.co` (or a simulator's). */
  url: string;
  clientId: string;
  /** Read before every connection attempt, so a rolled token is picked up. */
  token: TokenProvider;
  /** Connection label for stats and events. */
  name?: string;
  lttOffsetSeconds?: number;
  /** See FeedDecoderOptions.reuseObjects. */
  reuseObjects?: boolean;
  backoff?: BackoffOptions;
  clock?: Clock;
  /** Silence (no frame at all) longer than this while subscribed and the market is open forces a reconnect. 0 disables. Default 90 s. */
  dataStallMs?: number;
  isMarketOpen?: () => boolean;
  /** Client pings; 0 disables. Default 10 s. */
  pingIntervalMs?: number;
  /** Terminate if a ping is not answered within this. Default 20 s. */
  pongTimeoutMs?: number;
  /** Largest inbound frame; larger frames close the socket (ws closes with 1009). Default 1 MiB. */
  maxPayload?: number;
  handshakeTimeoutMs?: number;
  /** Interval of the `stats` event; 0 disables. Default 0. */
  statsIntervalMs?: number;
}

export type FeedConnectionState = 'idle' | 'connecting' | 'open' | 'backoff' | 'fatal' | 'stopped';

export type DisconnectCause =
  | 'closed'
  | 'socket-error'
  | 'feed-disconnect'
  | 'handshake-rejected'
  | 'data-stall'
  | 'pong-timeout'
  | 'oversize-frame'
  | 'forced'
  | 'stopped';

export interface FeedDisconnectInfo {
  cause: DisconnectCause;
  /** WebSocket close code. */
  code: number;
  /** Reason code of a feed disconnect packet (DHAN.md 2.7), when one came. */
  feedCode?: number;
  /** HTTP status of a refused handshake. */
  httpStatus?: number;
  upForMs: number;
}

export interface FeedFatalInfo {
  /** 806-810 from a disconnect packet, or absent for an HTTP refusal. */
  feedCode?: number;
  httpStatus?: number;
  message: string;
}

/** Errors reported on the `error` event; they never stop the retry loop (see `fatal`). */
export class FeedConnectionError extends Error {
  constructor(
    message: string,
    readonly kind: string,
    readonly feedCode?: number,
  ) {
    super(message);
    this.name = 'FeedConnectionError';
  }
}

export interface FeedConnectionStats {
  name: string;
  state: FeedConnectionState;
  subscriptions: number;
  frames: number;
  packets: number;
  invalidPackets: number;
  bytes: number;
  connects: number;
  reconnects: number;
  /** Epoch ms of the last frame, 0 if none yet. */
  lastMessageAt: number;
  errors: Record<FeedDecodeError | FeedConnectionErrorKind, number>;
}

export type FeedConnectionErrorKind =
  | 'TEXT_FRAME'
  | 'OVERSIZE_FRAME'
  | 'SOCKET_ERROR'
  | 'HANDSHAKE_REJECTED'
  | 'TOKEN_PROVIDER'
  | 'PONG_TIMEOUT'
  | 'DATA_STALL'
  | 'TOO_MANY_CONNECTIONS'
  | 'FEED_DISCONNECT'
  | 'LISTENER_THREW';

export type FeedConnectionEvents = {
  connected: [];
  disconnected: [FeedDisconnectInfo];
  /** One decoded packet. With `reuseObjects` the object is only valid during the call. */
  packet: [FeedPacket];
  /** All packets of one frame (not available with `reuseObjects`). */
  packets: [FeedPacket[]];
  error: [FeedConnectionError];
  fatal: [FeedFatalInfo];
  stats: [FeedConnectionStats];
};

/** Disconnect reasons after which retrying with the same token is pointless (DHAN.md 2.7). */
const FATAL_FEED_CODES = new Set<number>([
  FeedDisconnectCode.DATA_API_NOT_SUBSCRIBED,
  FeedDisconnectCode.ACCESS_TOKEN_EXPIRED,
  FeedDisconnectCode.AUTHENTICATION_FAILED,
  FeedDisconnectCode.ACCESS_TOKEN_INVALID,
  FeedDisconnectCode.CLIENT_ID_INVALID,
]);

const CONNECTION_ERROR_KINDS: FeedConnectionErrorKind[] = [
  'TEXT_FRAME',
  'OVERSIZE_FRAME',
  'SOCKET_ERROR',
  'HANDSHAKE_REJECTED',
  'TOKEN_PROVIDER',
  'PONG_TIMEOUT',
  'DATA_STALL',
  'TOO_MANY_CONNECTIONS',
  'FEED_DISCONNECT',
  'LISTENER_THREW',
];

export class FeedCapacityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeedCapacityError';
  }
}

export function buildFeedUrl(base: string, token: string, clientId: string): string {
  const url = new URL(base);
  url.searchParams.set('version', '2');
  url.searchParams.set('token', token);
  url.searchParams.set('clientId', clientId);
  url.searchParams.set('authType', '2');
  return url.toString();
}

function keyOf(i: FeedInstrument): string {
  return `${i.segment}:${i.securityId}`;
}

interface Subscription {
  instrument: FeedInstrument;
  mode: FeedMode;
}

/**
 * One DhanHQ market-feed WebSocket (DHAN.md 2) that stays connected: it owns its subscription
 * set and replays it after every reconnect, backs off with full jitter, watches for data
 * stalls and dead peers, and stops on fatal auth/entitlement errors until `resume()`.
 */
export class FeedConnection extends TypedEmitter<FeedConnectionEvents> {
  readonly name: string;
  private readonly opts: FeedConnectionOptions;
  private readonly clock: Clock;
  private readonly backoff: FullJitterBackoff;
  private readonly decoder: FeedDecoder;
  private readonly subs = new Map<string, Subscription>();
  private readonly connErrors: Record<FeedConnectionErrorKind, number>;
  private ws: WebSocket | undefined;
  private currentState: FeedConnectionState = 'idle';
  private attemptSeq = 0;
  private connects = 0;
  private openedAt = 0;
  private opened = false;
  private lastFrameAt = 0;
  private lastMessageAt = 0;
  private pendingCause: DisconnectCause | undefined;
  private pendingFeedCode: number | undefined;
  private pendingHttpStatus: number | undefined;
  private pendingFatal: FeedFatalInfo | undefined;
  private reconnectTimer: unknown;
  private pingTimer: unknown;
  private pongTimer: unknown;
  private watchdogTimer: unknown;
  private statsTimer: unknown;
  private frameBatch: FeedPacket[] | undefined;
  private readonly onPacket = (p: FeedPacket): void => this.handlePacket(p);

  constructor(options: FeedConnectionOptions) {
    super();
    this.opts = options;
    this.name = options.name ?? 'feed';
    this.clock = options.clock ?? systemClock;
    this.backoff = new FullJitterBackoff(options.backoff);
    this.decoder = new FeedDecoder({
      lttOffsetSeconds: options.lttOffsetSeconds,
      reuseObjects: options.reuseObjects,
    });
    this.connErrors = Object.fromEntries(CONNECTION_ERROR_KINDS.map((k) => [k, 0])) as Record<
      FeedConnectionErrorKind,
      number
    >;
  }

  get state(): FeedConnectionState {
    return this.currentState;
  }

  get isOpen(): boolean {
    return this.currentState === 'open';
  }

  get subscriptionCount(): number {
    return this.subs.size;
  }

  /** The subscription set, one entry per instrument with its (highest) mode. */
  subscriptions(): Array<{ instrument: FeedInstrument; mode: FeedMode }> {
    return [...this.subs.values()].map((s) => ({ instrument: { ...s.instrument }, mode: s.mode }));
  }

  modeOf(segment: ExchangeSegment, securityId: string): FeedMode | undefined {
    return this.subs.get(`${segment}:${securityId}`)?.mode;
  }

  /** Starts the connect loop. */
  start(): void {
    if (this.currentState !== 'idle' && this.currentState !== 'stopped') return;
    this.startStatsTimer();
    void this.connect();
  }

  /** Restarts after a fatal stop (e.g. once a new token is available) or after `stop()`. */
  resume(): void {
    if (
      this.currentState !== 'fatal' &&
      this.currentState !== 'stopped' &&
      this.currentState !== 'idle'
    )
      return;
    this.pendingFatal = undefined;
    this.backoff.reset();
    this.currentState = 'idle';
    this.start();
  }

  /** Closes the socket and drops the connection without reconnecting. The subscription set is kept. */
  async stop(): Promise<void> {
    this.currentState = 'stopped';
    this.attemptSeq++;
    this.clock.clearTimeout(this.reconnectTimer);
    this.clock.clearTimeout(this.statsTimer);
    this.clearLiveness();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      this.pendingCause = 'stopped';
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(encodeDisconnect());
        ws.close(1000);
      } else {
        ws.terminate();
      }
    });
  }

  /** Drops the current socket and reconnects through the backoff (admin "reconnect feed"). */
  reconnect(): void {
    if (this.ws && this.ws.readyState !== WebSocket.CLOSED) this.drop('forced');
  }

  /**
   * Adds instruments in `mode`. An instrument lives in one mode only; a higher mode replaces a
   * lower one, a lower one is ignored. While disconnected only the set changes.
   */
  subscribe(instruments: readonly FeedInstrument[], mode: FeedMode): void {
    const added: FeedInstrument[] = [];
    const demote = new Map<FeedMode, FeedInstrument[]>();
    const fresh = new Set<string>();
    for (const i of instruments) if (!this.subs.has(keyOf(i))) fresh.add(keyOf(i));
    const newCount = fresh.size;
    if (this.subs.size + newCount > FEED_LIMITS.maxInstrumentsPerConnection) {
      throw new FeedCapacityError(
        `${this.name}: ${this.subs.size + newCount} instruments exceed ${FEED_LIMITS.maxInstrumentsPerConnection} per connection`,
      );
    }
    for (const i of instruments) {
      const key = keyOf(i);
      const existing = this.subs.get(key);
      if (existing && FEED_MODE_RANK[existing.mode] >= FEED_MODE_RANK[mode]) continue;
      if (existing) {
        const list = demote.get(existing.mode) ?? [];
        list.push(existing.instrument);
        demote.set(existing.mode, list);
      }
      const instrument = { segment: i.segment, securityId: i.securityId };
      this.subs.set(key, { instrument, mode });
      added.push(instrument);
    }
    if (this.currentState !== 'open') return;
    for (const [oldMode, list] of demote) this.sendAll(encodeUnsubscribe(oldMode, list));
    if (added.length > 0) {
      this.sendAll(encodeSubscribe(mode, added));
      this.lastFrameAt = this.clock.now();
    }
  }

  /** Removes instruments whatever their mode. */
  unsubscribe(instruments: readonly FeedInstrument[]): void {
    const byMode = new Map<FeedMode, FeedInstrument[]>();
    for (const i of instruments) {
      const key = keyOf(i);
      const existing = this.subs.get(key);
      if (!existing) continue;
      this.subs.delete(key);
      const list = byMode.get(existing.mode) ?? [];
      list.push(existing.instrument);
      byMode.set(existing.mode, list);
    }
    if (this.currentState !== 'open') return;
    for (const [mode, list] of byMode) this.sendAll(encodeUnsubscribe(mode, list));
  }

  getStats(): FeedConnectionStats {
    const d = this.decoder.stats;
    return {
      name: this.name,
      state: this.currentState,
      subscriptions: this.subs.size,
      frames: d.frames,
      packets: d.packets,
      invalidPackets: d.invalidPackets,
      bytes: d.bytes,
      connects: this.connects,
      reconnects: Math.max(0, this.connects - 1),
      lastMessageAt: this.lastMessageAt,
      errors: { ...d.errors, ...this.connErrors },
    };
  }

  // ---- connection loop ------------------------------------------------------------------

  private async connect(): Promise<void> {
    const attempt = ++this.attemptSeq;
    this.currentState = 'connecting';
    let token: string;
    try {
      token = await this.opts.token();
    } catch (err) {
      if (attempt !== this.attemptSeq) return;
      this.countError('TOKEN_PROVIDER', `token provider failed: ${(err as Error).message}`);
      this.scheduleReconnect();
      return;
    }
    if (attempt !== this.attemptSeq || this.currentState !== 'connecting') return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(buildFeedUrl(this.opts.url, token, this.opts.clientId), {
        maxPayload: this.opts.maxPayload ?? 1024 * 1024,
        handshakeTimeout: this.opts.handshakeTimeoutMs ?? 10_000,
        perMessageDeflate: false,
      });
    } catch (err) {
      // A malformed URL is configuration, not weather: retrying cannot help.
      this.currentState = 'fatal';
      this.emit('fatal', { message: `cannot open the feed socket: ${(err as Error).message}` });
      return;
    }
    this.ws = ws;
    this.pendingCause = undefined;
    this.pendingFeedCode = undefined;
    this.pendingHttpStatus = undefined;
    ws.on('unexpected-response', (_req, res) => {
      this.pendingHttpStatus = res.statusCode;
      this.pendingCause = 'handshake-rejected';
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => this.onOpen(ws));
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => this.clock.clearTimeout(this.pongTimer));
    ws.on('error', (err: Error & { code?: string }) => this.onSocketError(err));
    ws.on('close', (code) => this.onClose(ws, code));
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.currentState = 'open';
    this.connects++;
    this.openedAt = this.clock.now();
    this.opened = true;
    this.lastFrameAt = this.openedAt;
    this.replay();
    this.armPing();
    this.armWatchdog(this.opts.dataStallMs ?? 90_000);
    this.emit('connected');
  }

  private replay(): void {
    const byMode = new Map<FeedMode, FeedInstrument[]>();
    for (const s of this.subs.values()) {
      const list = byMode.get(s.mode) ?? [];
      list.push(s.instrument);
      byMode.set(s.mode, list);
    }
    for (const [mode, list] of byMode) this.sendAll(encodeSubscribe(mode, list));
  }

  private sendAll(messages: string[]): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    for (const m of messages) ws.send(m);
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    const now = this.clock.now();
    this.lastFrameAt = now;
    this.lastMessageAt = now;
    if (!isBinary) {
      this.connErrors.TEXT_FRAME++;
      return;
    }
    const frame = Array.isArray(data)
      ? Buffer.concat(data)
      : data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : data;
    const wantBatch = !this.opts.reuseObjects && this.listenerCount('packets') > 0;
    this.frameBatch = wantBatch ? [] : undefined;
    try {
      this.decoder.decode(frame, this.onPacket);
    } catch (err) {
      this.countError('LISTENER_THREW', `packet listener threw: ${(err as Error).message}`);
    }
    const batch = this.frameBatch;
    this.frameBatch = undefined;
    if (batch && batch.length > 0) {
      try {
        this.emit('packets', batch);
      } catch (err) {
        this.countError('LISTENER_THREW', `packets listener threw: ${(err as Error).message}`);
      }
    }
  }

  private handlePacket(p: FeedPacket): void {
    if (p.type === FeedResponseCode.DISCONNECT) {
      this.onFeedDisconnect(p.reason);
      return;
    }
    this.frameBatch?.push(p);
    this.emit('packet', p);
  }

  private onFeedDisconnect(reason: number): void {
    this.pendingFeedCode = reason;
    this.pendingCause = 'feed-disconnect';
    if (FATAL_FEED_CODES.has(reason)) {
      this.pendingFatal = { feedCode: reason, message: `feed refused the session (${reason})` };
    } else if (reason === FeedDisconnectCode.TOO_MANY_CONNECTIONS) {
      this.countError(
        'TOO_MANY_CONNECTIONS',
        'feed dropped this socket: too many connections (805)',
        reason,
      );
    } else {
      this.countError('FEED_DISCONNECT', `feed disconnect ${reason}`, reason);
    }
    this.ws?.terminate();
  }

  private onSocketError(err: Error & { code?: string }): void {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.pendingCause = 'oversize-frame';
      this.countError('OVERSIZE_FRAME', 'frame above maxPayload; socket closed');
      return;
    }
    if (this.pendingCause === 'handshake-rejected' || this.pendingCause === 'stopped') return;
    this.pendingCause ??= 'socket-error';
    this.countError('SOCKET_ERROR', `socket error: ${err.message}`);
  }

  private onClose(ws: WebSocket, code: number): void {
    if (ws !== this.ws) return;
    this.ws = undefined;
    this.clearLiveness();
    const wasOpen = this.opened;
    const upForMs = wasOpen ? this.clock.now() - this.openedAt : 0;
    this.opened = false;
    this.backoff.connectionEnded(upForMs);
    const status = this.pendingHttpStatus;
    if (status !== undefined) {
      this.connErrors.HANDSHAKE_REJECTED++;
      if (status === 401 || status === 403) {
        this.pendingFatal = {
          httpStatus: status,
          message: `feed handshake refused with HTTP ${status}`,
        };
      } else {
        this.emit(
          'error',
          new FeedConnectionError(
            `feed handshake refused with HTTP ${status}`,
            'HANDSHAKE_REJECTED',
          ),
        );
      }
    }
    const info: FeedDisconnectInfo = {
      cause: this.pendingCause ?? 'closed',
      code,
      upForMs,
      ...(this.pendingFeedCode !== undefined ? { feedCode: this.pendingFeedCode } : {}),
      ...(status !== undefined ? { httpStatus: status } : {}),
    };
    if (wasOpen || status !== undefined || this.pendingFeedCode !== undefined)
      this.emit('disconnected', info);
    if (this.currentState === 'stopped') return;
    if (this.pendingFatal) {
      this.currentState = 'fatal';
      this.clock.clearTimeout(this.statsTimer);
      this.emit('fatal', this.pendingFatal);
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.currentState === 'stopped' || this.currentState === 'fatal') return;
    this.currentState = 'backoff';
    const delay = this.backoff.next();
    this.reconnectTimer = this.clock.setTimeout(() => {
      if (this.currentState === 'backoff') void this.connect();
    }, delay);
  }

  /** Ends the socket for a local reason; the close handler reconnects. */
  private drop(cause: DisconnectCause): void {
    this.pendingCause = cause;
    this.ws?.terminate();
  }

  // ---- liveness ---------------------------------------------------------------------------

  private armPing(): void {
    const interval = this.opts.pingIntervalMs ?? 10_000;
    if (interval <= 0) return;
    this.pingTimer = this.clock.setTimeout(() => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      this.clock.clearTimeout(this.pongTimer);
      this.pongTimer = this.clock.setTimeout(() => {
        this.countError('PONG_TIMEOUT', 'no pong within the timeout; terminating');
        this.drop('pong-timeout');
      }, this.opts.pongTimeoutMs ?? 20_000);
      ws.ping();
      this.armPing();
    }, interval);
  }

  private armWatchdog(delay: number): void {
    const limit = this.opts.dataStallMs ?? 90_000;
    if (limit <= 0) return;
    this.watchdogTimer = this.clock.setTimeout(() => this.checkStall(), delay);
  }

  private checkStall(): void {
    if (this.currentState !== 'open') return;
    const limit = this.opts.dataStallMs ?? 90_000;
    const marketOpen = this.opts.isMarketOpen ? this.opts.isMarketOpen() : true;
    const now = this.clock.now();
    if (this.subs.size === 0 || !marketOpen) {
      // Silence is legitimate here; start a fresh window once it is not.
      this.lastFrameAt = now;
      this.armWatchdog(limit);
      return;
    }
    const silent = now - this.lastFrameAt;
    if (silent >= limit) {
      this.countError('DATA_STALL', `no data for ${silent} ms while subscribed; reconnecting`);
      this.drop('data-stall');
      return;
    }
    this.armWatchdog(limit - silent);
  }

  private clearLiveness(): void {
    this.clock.clearTimeout(this.pingTimer);
    this.clock.clearTimeout(this.pongTimer);
    this.clock.clearTimeout(this.watchdogTimer);
  }

  private startStatsTimer(): void {
    const every = this.opts.statsIntervalMs ?? 0;
    if (every <= 0) return;
    this.clock.clearTimeout(this.statsTimer);
    this.statsTimer = this.clock.setTimeout(() => {
      this.emit('stats', this.getStats());
      this.startStatsTimer();
    }, every);
  }

  private countError(kind: FeedConnectionErrorKind, message: string, feedCode?: number): void {
    this.connErrors[kind]++;
    this.emit('error', new FeedConnectionError(message, kind, feedCode));
  }
}
