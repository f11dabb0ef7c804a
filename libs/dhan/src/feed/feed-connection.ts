import WebSocket from 'ws';
import {
  ExchangeSegment,
  FEED_LIMITS,
  FEED_MODE_RANK,
  FeedDisconnectCode,
  FeedMode,
  FeedResponseCode,
} from '../types';
import { BackoffOptions } from '../util/backoff';
import { Clock } from '../util/clock';
import { ReconnectingSocket, type SocketEnd, type SocketState } from '../util/reconnecting-socket';
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
  /** See ReconnectingSocketOptions.mayConnect. */
  mayConnect?: () => boolean;
  /** Interval of the `stats` event; 0 disables. Default 0. */
  statsIntervalMs?: number;
}

export type FeedConnectionState = SocketState;

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
  /** Reason code of a feed disconnect packet (DhanHQ v2: feed disconnect codes), when one came. */
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

/** Disconnect reasons after which retrying with the same token is pointless (DhanHQ v2: feed disconnect codes). */
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
 * One DhanHQ market-feed WebSocket (DhanHQ v2: live feed) that stays connected: it owns its subscription
 * set and replays it after every reconnect, backs off with full jitter, watches for data
 * stalls and dead peers, and stops on fatal auth/entitlement errors until `resume()`.
 */
export class FeedConnection extends ReconnectingSocket<FeedConnectionEvents> {
  readonly name: string;
  private readonly opts: FeedConnectionOptions;
  private readonly decoder: FeedDecoder;
  private readonly subs = new Map<string, Subscription>();
  private readonly connErrors: Record<FeedConnectionErrorKind, number>;
  private lastFrameAt = 0;
  private lastMessageAt = 0;
  private pendingFeedCode: number | undefined;
  private pendingFatal: FeedFatalInfo | undefined;
  private watchdogTimer: unknown;
  private statsTimer: unknown;
  private frameBatch: FeedPacket[] | undefined;
  private readonly onPacket = (p: FeedPacket): void => this.handlePacket(p);

  constructor(options: FeedConnectionOptions) {
    super(options);
    this.opts = options;
    this.name = options.name ?? 'feed';
    this.decoder = new FeedDecoder({
      lttOffsetSeconds: options.lttOffsetSeconds,
      reuseObjects: options.reuseObjects,
    });
    this.connErrors = Object.fromEntries(CONNECTION_ERROR_KINDS.map((k) => [k, 0])) as Record<
      FeedConnectionErrorKind,
      number
    >;
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

  // ---- the socket's life (ReconnectingSocket) ----

  protected override onStart(): void {
    this.startStatsTimer();
  }

  protected override onResume(): void {
    this.pendingFatal = undefined;
  }

  protected override onStop(): void {
    this.clock.clearTimeout(this.statsTimer);
    this.cause = 'stopped';
  }

  protected override closeOpenSocket(ws: WebSocket): void {
    ws.send(encodeDisconnect());
    ws.close(1000);
  }

  protected socketUrl(token: string): string {
    return buildFeedUrl(this.opts.url, token, this.opts.clientId);
  }

  protected onOpen(): void {
    this.lastFrameAt = this.clock.now();
    this.replay();
    this.armWatchdog(this.opts.dataStallMs ?? 90_000);
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

  protected onMessage(data: WebSocket.RawData, isBinary: boolean): void {
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
    this.cause = 'feed-disconnect';
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

  protected onSocketError(err: Error & { code?: string }): void {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.cause = 'oversize-frame';
      this.countError('OVERSIZE_FRAME', 'frame above maxPayload; socket closed');
      return;
    }
    if (this.cause === 'handshake-rejected' || this.cause === 'stopped') return;
    this.cause ??= 'socket-error';
    this.countError('SOCKET_ERROR', `socket error: ${err.message}`);
  }

  protected onEnded(end: SocketEnd): void {
    const status = end.httpStatus;
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
    const feedCode = this.pendingFeedCode;
    this.pendingFeedCode = undefined;
    const info: FeedDisconnectInfo = {
      cause: (this.cause as DisconnectCause | undefined) ?? 'closed',
      code: end.code,
      upForMs: end.upForMs,
      ...(feedCode !== undefined ? { feedCode } : {}),
      ...(status !== undefined ? { httpStatus: status } : {}),
    };
    if (end.wasOpen || status !== undefined || feedCode !== undefined) {
      this.emit('disconnected', info);
    }
  }

  protected isFatal(): boolean {
    return this.pendingFatal !== undefined;
  }

  protected onFatal(): void {
    this.clock.clearTimeout(this.statsTimer);
    if (this.pendingFatal) this.emit('fatal', this.pendingFatal);
  }

  protected onTokenError(message: string): void {
    this.countError('TOKEN_PROVIDER', message);
  }

  protected onCannotOpen(message: string): void {
    this.emit('fatal', { message: `cannot open the feed socket: ${message}` });
  }

  // ---- liveness ---------------------------------------------------------------------------

  protected override onPongTimeout(): void {
    this.countError('PONG_TIMEOUT', 'no pong within the timeout; terminating');
    this.drop('pong-timeout');
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

  protected override onLivenessCleared(): void {
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
