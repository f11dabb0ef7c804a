import {
  ExchangeSegment,
  FeedConnection,
  FeedResponseCode,
  type FeedConnectionState,
  type FeedDisconnectInfo,
  type FeedMode,
  type FeedPacket,
} from '@app/dhan';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { LeadershipService, standaloneLeadership } from '../../cluster/leadership.service';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../../dhan/dhan-endpoints';
import { MetricsService } from '../../health/metrics.service';
import { ReadinessRegistry } from '../../health/readiness.registry';
import { MarketCalendar } from '../../calendar/market-calendar';
import { MARKET_DATA_OPTIONS, type MarketDataOptions } from '../market-data.options';
import {
  DEFAULT_REGISTRY_LIMITS,
  type FeedInstrument,
  type FeedPort,
} from './subscription-registry';
import { TickDropReason, TickStore, type TickStoreStats } from '../ticks/tick-store';

/** A connection's state, or `paused` while DhanHQ refuses the access token. */
export type FeedPoolConnectionState = FeedConnectionState | 'paused';

/** Feed codes that mean the token (not the connection) is refused: pause, never retry. */
const TOKEN_REFUSAL_CODES = new Set<number>([807, 808, 809]);

export interface FeedConnectionStatus {
  index: number;
  name: string;
  state: FeedPoolConnectionState;
  instruments: number;
  /** Epoch ms of the last frame; 0 = none yet. */
  lastMessageAt: number;
  reconnects: number;
  packets: number;
  decodeErrors: number;
}

/** The leader's feed as a follower sees it through the tick relay (REDIS_URL). */
export interface RelayedFeedState {
  /** The leader's feed is connected and its ticks reach this instance. */
  connected: boolean;
  /** The leader's open feed connections (0 when its ticks do not reach this instance). */
  open: number;
  /** Epoch ms of the leader's latest feed frame; 0 = none. */
  lastMessageAt: number;
  /** Why not connected. */
  reason: string;
}

const FEED_REFUSALS: Record<number, string> = {
  807: 'access token expired',
  808: 'authentication failed',
  809: 'access token invalid',
};

const DROP_COUNTERS: ReadonlyArray<[TickDropReason, keyof TickStoreStats]> = [
  [TickDropReason.INVALID_PRICE, 'invalidPrice'],
  [TickDropReason.OUT_OF_ORDER, 'droppedOutOfOrder'],
  [TickDropReason.LTT_IN_FUTURE, 'lttInFuture'],
  [TickDropReason.LTT_TOO_OLD, 'lttTooOld'],
  [TickDropReason.PRICE_JUMP, 'priceJump'],
  [TickDropReason.NOT_ON_FEED, 'notOnFeed'],
];

/**
 * The feed connections (5 by default) behind the subscription registry. Each FeedConnection
 * keeps its own subscription set and replays it on reconnect; as the registry only reaches the
 * feed through this port, the registry's placement and the connections' sets stay equal.
 * Packets go straight into the tick store (decoder objects reused: no allocation per packet).
 */
@Injectable()
export class FeedPool implements FeedPort, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(FeedPool.name);
  readonly connections: FeedConnection[];
  private readonly disconnectListeners: Array<(index: number, info: FeedDisconnectInfo) => void> =
    [];
  private ticksIn = 0;
  /**
   * Packets by response code (ticker, quote, full, OI, previous close, market status...), the
   * code being one byte: an array slot per code, as a Map's two lookups a packet showed in the
   * tick path's profile.
   */
  private readonly packetsByType = new Float64Array(256);
  /** Disconnects by reason: a feed code (805, 807...), an HTTP refusal, or the socket's cause. */
  private readonly disconnectsByReason = new Map<string, number>();
  /** Connections running: this instance leads and the pool was started. */
  private started = false;
  private shuttingDown = false;
  private readonly leadership: LeadershipService;
  /** A follower's view of the leader's feed (the tick relay); null standalone. */
  private relayed: (() => RelayedFeedState) | null = null;

  constructor(
    @Inject(DHAN_ENDPOINTS) private readonly endpoints: DhanEndpoints,
    private readonly store: TickStore,
    private readonly calendar: MarketCalendar,
    metrics: MetricsService,
    readiness: ReadinessRegistry,
    @Inject(MARKET_DATA_OPTIONS) options: MarketDataOptions,
    @Optional() leadership?: LeadershipService,
  ) {
    this.leadership = leadership ?? standaloneLeadership();
    const count = options.registry.connections ?? DEFAULT_REGISTRY_LIMITS.connections;
    // The always-on simulator ticks around the clock; the live feed (and the simulator following
    // the calendar) is quiet outside market hours.
    const isMarketOpen = endpoints.marketHours === 'always' ? () => true : () => this.marketHours();
    this.connections = Array.from({ length: count }, (_, index) => {
      const conn = new FeedConnection({
        url: endpoints.feedUrl,
        clientId: endpoints.clientId,
        token: () => endpoints.accessToken(),
        name: `feed-${index}`,
        reuseObjects: true,
        dataStallMs: options.dataStallMs,
        backoff: options.feedBackoff,
        isMarketOpen,
        // Only the leader opens feed sockets (DhanHQ allows 5 per account), checked per attempt.
        mayConnect: () => this.started && this.leadership.isLeader(),
      });
      conn.on('packet', (p) => this.onPacket(p));
      conn.on('disconnected', (info) => {
        this.logger.warn({ msg: 'feed connection dropped', connection: index, ...info });
        const reason =
          info.feedCode !== undefined
            ? String(info.feedCode)
            : info.httpStatus !== undefined
              ? `http_${info.httpStatus}`
              : info.cause;
        this.disconnectsByReason.set(reason, (this.disconnectsByReason.get(reason) ?? 0) + 1);
        for (const listener of [...this.disconnectListeners]) listener(index, info);
      });
      conn.on('connected', () => this.logger.log({ msg: 'feed connected', connection: index }));
      conn.on('fatal', (info) => {
        this.logger.error({ msg: 'feed connection stopped', connection: index, ...info });
        const code = info.feedCode;
        if (
          (code !== undefined && TOKEN_REFUSAL_CODES.has(code)) ||
          info.httpStatus === 401 ||
          info.httpStatus === 403
        ) {
          // The token was replaced while this attempt used the old one: retry with the new.
          if (conn.lastToken !== endpoints.accessToken()) {
            conn.resume();
            return;
          }
          endpoints.token.refused(
            code !== undefined
              ? `feed disconnect ${code} (${FEED_REFUSALS[code] ?? 'refused'})`
              : `feed handshake refused with HTTP ${info.httpStatus}`,
          );
        }
      });
      conn.on('error', () => undefined);
      return conn;
    });
    this.registerMetrics(metrics);
    readiness.register('feed', async () => {
      if (this.connected()) return true;
      if (!this.leadership.isLeader()) {
        const relayed = this.relayed?.();
        return {
          up: false,
          reason: `follower: ${relayed?.reason ?? 'the leader instance holds the DhanHQ feed'}`,
        };
      }
      const token = endpoints.token.status();
      if (token.state === 'REFUSED') {
        return {
          up: false,
          reason: `paused: DhanHQ refused the access token (${token.refusedReason ?? ''})`,
          ...(token.refusedSince !== undefined ? { since: token.refusedSince } : {}),
        };
      }
      const open = this.connections.filter((c) => c.isOpen).length;
      return { up: false, reason: `${open} of ${this.connections.length} feed connections open` };
    });
    endpoints.token.on('refused', this.pause);
    endpoints.token.on('changed', this.resumeAfterRefusal);
  }

  /** Every connection stops (keeping its subscription set) until a new token arrives. */
  private readonly pause = (): void => {
    if (!this.started) return;
    this.logger.warn({ msg: 'feed paused: DhanHQ refused the access token' });
    for (const c of this.connections) void c.stop();
  };

  /** A new token after a refusal: every connection reconnects and replays its subscriptions. */
  private readonly resumeAfterRefusal = (change: { wasRefused: boolean }): void => {
    if (!this.started || !change.wasRefused) return;
    this.logger.log({ msg: 'feed resuming with a new access token' });
    for (const c of this.connections) c.resume();
  };

  onApplicationBootstrap(): void {
    this.leadership.on('acquired', this.lead);
    this.leadership.on('lost', this.follow);
    if (this.leadership.isLeader()) this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    this.started = false;
    this.leadership.off('acquired', this.lead);
    this.leadership.off('lost', this.follow);
    this.endpoints.token.off('refused', this.pause);
    this.endpoints.token.off('changed', this.resumeAfterRefusal);
    await Promise.all(this.connections.map((c) => c.stop()));
  }

  /** Opens the connections; each replays the subscription set it kept. Leader only. */
  start(): void {
    if (this.started || this.shuttingDown || !this.leadership.isLeader()) return;
    this.started = true;
    // A token refused before the feed started (renewal failed at boot): stay paused.
    if (this.endpoints.token.paused) return;
    for (const c of this.connections) c.resume();
  }

  /** This instance became the leader: the feed opens with every subscription it holds. */
  private readonly lead = (): void => {
    this.logger.log({ msg: 'feed leadership acquired: opening the feed' });
    this.start();
  };

  /** Leadership lost: every socket closes (subscription sets kept) and none reopens. */
  private readonly follow = (): void => {
    if (!this.started) return;
    this.started = false;
    this.logger.warn({ msg: 'feed leadership lost: closing the feed' });
    for (const c of this.connections) void c.stop();
  };

  /** LEADER when this instance holds the DhanHQ sockets, else FOLLOWER. */
  get role(): 'LEADER' | 'FOLLOWER' {
    return this.leadership.role;
  }

  /** Whether the feed is paused because DhanHQ refuses the access token, why and since when. */
  pauseState(): { paused: boolean; reason: string | null; since: number | null } {
    const s = this.endpoints.token.status();
    return s.state === 'REFUSED'
      ? { paused: true, reason: s.refusedReason ?? null, since: s.refusedSince ?? null }
      : { paused: false, reason: null, since: null };
  }

  subscribe(connIndex: number, mode: FeedMode, instruments: readonly FeedInstrument[]): void {
    this.connections[connIndex].subscribe(instruments, mode);
  }

  unsubscribe(connIndex: number, _mode: FeedMode, instruments: readonly FeedInstrument[]): void {
    this.connections[connIndex].unsubscribe(instruments);
  }

  /** Told when a connection drops (its instruments are stale until fresh data comes). */
  onDisconnect(listener: (index: number, info: FeedDisconnectInfo) => void): void {
    this.disconnectListeners.push(listener);
  }

  /**
   * On a follower, the leader's feed as the tick relay sees it: `connected`, the open count
   * and the latest frame time are the leader's while its ticks reach this instance.
   */
  useRelayedFeed(view: (() => RelayedFeedState) | null): void {
    this.relayed = view;
  }

  /** Every connection open (a follower: the leader's, and its ticks reach this instance). */
  connected(): boolean {
    if (this.relayed !== null && !this.started) return this.relayed().connected;
    return this.started && this.connections.every((c) => c.isOpen);
  }

  /** Open feed connections (a follower: the leader's, see `connected`). */
  openConnections(): number {
    if (this.relayed !== null && !this.started) return this.relayed().open;
    return this.connections.filter((c) => c.isOpen).length;
  }

  /** Drops and reconnects one connection, or all (replay restores their subscriptions). */
  reconnect(index?: number): number {
    if (!this.started) return 0;
    const targets = index === undefined ? this.connections : [this.connections[index]];
    for (const c of targets) c?.reconnect();
    return targets.filter(Boolean).length;
  }

  get mode(): DhanEndpoints['mode'] {
    return this.endpoints.mode;
  }

  get ticksReceived(): number {
    return this.ticksIn;
  }

  status(): FeedConnectionStatus[] {
    const paused = this.endpoints.token.paused;
    return this.connections.map((c, index) => {
      const s = c.getStats();
      const state: FeedPoolConnectionState =
        paused && (s.state === 'stopped' || s.state === 'fatal' || s.state === 'idle')
          ? 'paused'
          : s.state;
      let decodeErrors = 0;
      for (const v of Object.values(s.errors)) decodeErrors += v;
      return {
        index,
        name: s.name,
        state,
        instruments: s.subscriptions,
        lastMessageAt: s.lastMessageAt,
        reconnects: s.reconnects,
        packets: s.packets,
        decodeErrors,
      };
    });
  }

  /** Epoch ms of the latest frame on any connection; 0 = none. */
  lastMessageAt(): number {
    if (this.relayed !== null && !this.started) return this.relayed().lastMessageAt;
    let last = 0;
    for (const c of this.connections) last = Math.max(last, c.getStats().lastMessageAt);
    return last;
  }

  private onPacket(p: FeedPacket): void {
    this.ticksIn++;
    this.packetsByType[p.type & 255]++;
    switch (p.type) {
      case FeedResponseCode.TICKER:
        this.store.applyTicker(p);
        break;
      case FeedResponseCode.QUOTE:
        this.store.applyQuote(p);
        break;
      case FeedResponseCode.FULL:
        this.store.applyFull(p);
        break;
      case FeedResponseCode.OI:
        this.store.applyOi(p);
        break;
      case FeedResponseCode.PREV_CLOSE:
        this.store.applyPrevClose(p);
        break;
      default:
        break;
    }
  }

  private marketHours(): boolean {
    return (
      this.calendar.isMarketHours(ExchangeSegment.NSE_EQ) ||
      this.calendar.isMarketHours(ExchangeSegment.MCX_COMM)
    );
  }

  private registerMetrics(metrics: MetricsService): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const pool = this;
    const registers = [metrics.registry];
    new Counter({
      name: 'feed_packets_total',
      help: 'Market feed packets received.',
      registers,
      collect() {
        this.reset();
        this.inc(pool.ticksIn);
      },
    });
    new Counter({
      name: 'feed_packets_by_type_total',
      help: 'Market feed packets received, by type (ticker, quote, full, oi, prev_close, ...).',
      labelNames: ['type'] as const,
      registers,
      collect() {
        this.reset();
        pool.packetsByType.forEach((n, code) => {
          if (n > 0) this.inc({ type: (FeedResponseCode[code] ?? String(code)).toLowerCase() }, n);
        });
      },
    });
    new Counter({
      name: 'feed_disconnects_total',
      help: 'Market feed connections dropped, by reason (a DhanHQ disconnect code, http_<status>, or the socket cause).',
      labelNames: ['reason'] as const,
      registers,
      collect() {
        this.reset();
        for (const [reason, n] of pool.disconnectsByReason) this.inc({ reason }, n);
      },
    });
    new Counter({
      name: 'feed_errors_total',
      help: 'Market feed decode and connection errors, by reason.',
      labelNames: ['reason'] as const,
      registers,
      collect() {
        this.reset();
        const totals: Record<string, number> = {};
        for (const c of pool.connections) {
          for (const [reason, n] of Object.entries(c.getStats().errors)) {
            totals[reason] = (totals[reason] ?? 0) + n;
          }
        }
        for (const [reason, n] of Object.entries(totals)) this.inc({ reason }, n);
      },
    });
    const store = this.store;
    new Counter({
      name: 'feed_ticks_dropped_total',
      help: 'Decoded feed packets the tick store did not apply, by reason (RELIABILITY F8, F9).',
      labelNames: ['reason'] as const,
      registers,
      collect() {
        this.reset();
        const s = store.stats();
        for (const [reason, field] of DROP_COUNTERS) this.inc({ reason }, s[field]);
      },
    });
    new Counter({
      name: 'feed_ticks_jumps_confirmed_total',
      help: 'LTP jumps applied after a confirming second packet (RELIABILITY F8).',
      registers,
      collect() {
        this.reset();
        this.inc(store.stats().jumpsConfirmed);
      },
    });
    new Counter({
      name: 'feed_reconnects_total',
      help: 'Market feed reconnects, by connection.',
      labelNames: ['connection'] as const,
      registers,
      collect() {
        this.reset();
        pool.connections.forEach((c, i) =>
          this.inc({ connection: String(i) }, c.getStats().reconnects),
        );
      },
    });
    new Gauge({
      name: 'feed_connections_open',
      help: 'Market feed connections currently open.',
      registers,
      collect() {
        this.set(pool.connections.filter((c) => c.isOpen).length);
      },
    });
  }
}
