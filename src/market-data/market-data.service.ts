import { istDate } from '../trading/ist-date';
import { ExchangeSegment, FeedMode, SEGMENT_CODE, instrumentKey, type Instrument } from '@app/dhan';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { WebSocket } from 'ws';
import { PushStream } from '../common/subscriptions/push-stream';
import { DomainError, NotFoundError, UnavailableError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { InstrumentsService } from '../instruments/instruments.service';
import { FeedPool, type FeedConnectionStatus } from './feed/feed-pool.service';
import { MarketDataError, MarketDataErrorCode } from './market-data.errors';
import { MARKET_DATA_OPTIONS, type MarketDataOptions } from './market-data.options';
import {
  ReferenceKind,
  SubscriptionRegistry,
  type AcquireResult,
  type EvictionEvent,
  type RegistryEntryView,
  type RegistryStats,
  type ReleaseResult,
  type SubscriptionReference,
} from './feed/subscription-registry';
import { TickFanout, type TickFanoutStats } from './ticks/tick-fanout';
import { TickShapes, type SelectedField } from './ticks/tick-selection';
import { TickQuota } from './ticks/tick-quota';
import { TickStore, type TickRecord } from './ticks/tick-store';
import { TickTransport, type OpenedTicks } from './ticks/tick-transport';
import { RestMarketDataService } from './rest/rest-market-data.service';
import {
  ChainAnalyticsService,
  type ChainFrameSink,
  type ChainUpdateView,
  type ChainView,
} from './chains/chain-analytics.service';

/** Event on the Nest EventEmitter2 when the registry evicts an instrument. */
export const MARKET_DATA_EVICTED = 'market-data.evicted';
export type MarketDataEvictedEvent = EvictionEvent;

/** Holder of the CLIENT references of `ticks` subscribers: one per instrument, shared. */
export const TICKS_HOLDER = 'ticks';

export interface FeedHealth {
  connected: boolean;
  connections: number;
  staleInstruments: number;
  lastTickTime: Date | null;
}

export interface FeedStatus {
  mode: string;
  /** LEADER: this instance holds the DhanHQ feed; FOLLOWER: another instance does. */
  role: 'LEADER' | 'FOLLOWER';
  connected: boolean;
  connections: FeedConnectionStatus[];
  instruments: number;
  capacity: number;
  byTier: Array<{ name: string; instruments: number; references: number }>;
  byUnderlying: Array<{ name: string; instruments: number }>;
  staleInstruments: number;
  packetsReceived: number;
  /** Paused because DhanHQ refused the access token: why and since when (epoch ms). */
  paused: boolean;
  pausedReason: string | null;
  pausedSince: number | null;
}

export interface SubscriptionFilter {
  /** Only instruments holding a reference of this kind. */
  kind?: ReferenceKind | null;
  /** Only the underlying itself (by symbol) and the derivatives on it. */
  underlying?: string | null;
}

export interface FeedSubscriptionView extends RegistryEntryView {
  instrument: Instrument | undefined;
}

export interface FeedSubscriptionList {
  /** Matching instruments, before the limit. */
  total: number;
  items: FeedSubscriptionView[];
}

export type {
  ChainContractView,
  ChainStrikeView,
  ChainUpdateView,
  ChainView,
} from './chains/chain-analytics.service';

/** A `ticks` stream: yields nothing (frames go straight to the socket); `return()` ends it. */
export type TickStream = AsyncIterableIterator<never>;

/** A socket's open `ticks` subscriptions: who opened each and its distinct instruments (the quota). */
type ClientSubscriptions = Map<string, { userId: string; keys: number[] }>;

/** Maps registry/fan-out failures to the public error codes. */
export function toDomainError(e: unknown): unknown {
  if (!(e instanceof MarketDataError)) return e;
  switch (e.code) {
    case MarketDataErrorCode.CAPACITY_EXCEEDED:
      return new DomainError(ErrorCode.CAPACITY_EXCEEDED, e.message, quotaDetails(e.details));
    case MarketDataErrorCode.NOT_FOUND:
      return new NotFoundError(e.message);
    default:
      return new DomainError(ErrorCode.BAD_USER_INPUT, e.message);
  }
}

/** The client-safe fields of a per-user quota refusal (none for a full feed). */
function quotaDetails(
  details: Readonly<Record<string, unknown>> | undefined,
): Record<string, string | number> | undefined {
  if (typeof details?.quota !== 'string') return undefined;
  const out: Record<string, string | number> = { quota: details.quota };
  for (const k of ['limit', 'used', 'requested']) {
    const v = details[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/**
 * The market-data facade: quotes and chains from the tick store, references for other modules,
 * `ticks` streams (checked and counted here, written to their sockets by the TickTransport),
 * feed health and status. It holds no socket and frames nothing.
 */
@Injectable()
export class MarketDataService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MarketDataService.name);
  /** Per transport client (one per socket) with open `ticks` subscriptions: those subscriptions. */
  private readonly clients = new Map<string, ClientSubscriptions>();
  private readonly shapes = new TickShapes();
  private readonly tickQuota: TickQuota;

  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly store: TickStore,
    private readonly fanout: TickFanout,
    private readonly transport: TickTransport,
    private readonly pool: FeedPool,
    private readonly instruments: InstrumentsService,
    private readonly events: EventEmitter2,
    @Inject(MARKET_DATA_OPTIONS) private readonly options: MarketDataOptions,
    private readonly chains: ChainAnalyticsService,
    private readonly rest: RestMarketDataService,
  ) {
    this.tickQuota = new TickQuota(options.maxTickInstrumentsPerUser);
    registry.onEviction((event) => {
      // Its subscribers get one last update with `stale: true`; packets still in flight after
      // the unsubscribe are dropped, so nothing makes it look fresh again (docs/MARKET_DATA.md).
      this.store.markEvicted(event.instrument.key);
      this.events.emit(MARKET_DATA_EVICTED, event);
    });
    store.useFeedMembership((key) => registry.has(key));
    // LRU by real use: an instrument whose packets arrive is recently used (coarse: 1 s).
    store.onUse((key) => registry.touch(key));
    pool.onDisconnect((index) => {
      this.store.markConnectionStale(this.registry.keysOnConnection(index));
    });
    fanout.onClientClosed((event) => this.releaseKeys(event.noLongerWanted));
    transport.onSocketClosed((event) => {
      for (const subscriptionId of [...(this.clients.get(event.clientId)?.keys() ?? [])]) {
        this.endQuota(event.clientId, subscriptionId);
      }
      this.releaseKeys(event.noLongerWanted);
    });
  }

  onApplicationBootstrap(): void {
    this.store.start();
    this.fanout.start();
  }

  onModuleDestroy(): void {
    this.fanout.stop();
    this.store.stop();
  }

  // ---- references for other modules ----

  /** Adds references; all or nothing. Throws MarketDataError CAPACITY_EXCEEDED when full. */
  acquire(refs: readonly SubscriptionReference[]): AcquireResult {
    return this.registry.acquire(refs);
  }

  release(refs: readonly SubscriptionReference[]): ReleaseResult {
    return this.registry.release(refs);
  }

  releaseHolder(kind: ReferenceKind, holderId: string): ReleaseResult {
    return this.registry.releaseHolder(kind, holderId);
  }

  /**
   * Instruments whose state changed, told at each drain of the tick store (see
   * TickFanout.onChanged): the records are valid only during the call.
   */
  onChangedInstruments(listener: (records: readonly TickRecord[]) => void): () => void {
    return this.fanout.onChanged(listener);
  }

  /** Keeps an option's IV solved (see ChainAnalyticsService.watchIv); call the result to stop. */
  watchIv(instrument: Instrument): () => void {
    return this.chains.watchIv(instrument);
  }

  /** A watched option's IV in percent, NaN when there is none (hot path: no allocation). */
  ivOf(key: number): number {
    return this.chains.ivOf(key);
  }

  // ---- quotes and chains ----

  instrumentKeyOf(segment: ExchangeSegment, securityId: string): number {
    return instrumentKey(SEGMENT_CODE[segment], Number(securityId));
  }

  /**
   * Latest state; NOT_FOUND for an unknown instrument. An instrument with nothing fresh from
   * the feed is quoted from DhanHQ REST (coalesced; waited for at most `restWaitMs`), else its
   * fields stay null and `stale` true.
   */
  async quote(segment: ExchangeSegment, securityId: string): Promise<TickRecord> {
    if (!this.instruments.loaded) {
      throw new UnavailableError('The instrument master is still loading; retry shortly');
    }
    if (!this.instruments.get(segment, securityId)) {
      throw new NotFoundError(`Unknown instrument ${segment} ${securityId}`);
    }
    const key = this.instrumentKeyOf(segment, securityId);
    await this.rest.fillQuotes([key], this.options.restWaitMs);
    return this.store.ensure(key);
  }

  /**
   * The exchange's circuit limits of an instrument (rupees) when DhanHQ's quote gave them on
   * the IST trading date of `nowMs`; undefined otherwise (the feed does not carry them).
   */
  circuitLimits(
    segment: ExchangeSegment,
    securityId: string,
    nowMs: number,
  ): { upper: number; lower: number } | undefined {
    const rec = this.record(segment, securityId);
    if (rec === undefined || rec.circuitDate !== istDate(nowMs)) return undefined;
    return { upper: rec.upperCircuit, lower: rec.lowerCircuit };
  }

  /** The record if any data or subscription made one; undefined otherwise. */
  record(segment: ExchangeSegment, securityId: string): TickRecord | undefined {
    return this.store.get(this.instrumentKeyOf(segment, securityId));
  }

  /**
   * One expiry's chain (the nearest when `expiry` is not given) with option analytics,
   * `strikesEachSide` strikes around ATM (every listed strike when null).
   */
  async optionChain(
    underlying: string,
    expiry?: string | null,
    strikesEachSide?: number | null,
  ): Promise<ChainView> {
    if (!this.instruments.loaded) {
      throw new UnavailableError('The instrument master is still loading; retry shortly');
    }
    // An expiry the feed does not stream is filled from DhanHQ's option chain first.
    const { expiry: resolved, tracked } = this.chains.resolve(underlying, expiry);
    if (!tracked) await this.rest.fillChain(underlying, resolved, this.options.restWaitMs);
    return this.chains.chain(underlying, resolved, strikesEachSide);
  }

  /** `optionChainUpdates`: the window's chain, then its changed strikes (see ChainAnalyticsService). */
  openOptionChain(
    underlying: string,
    expiry: string | null | undefined,
    strikesEachSide: number,
    sink?: ChainFrameSink,
  ): AsyncIterableIterator<ChainUpdateView> {
    return this.chains.subscribe(underlying, expiry, strikesEachSide, sink);
  }

  // ---- ticks streams ----

  /**
   * Starts a `ticks` subscription on a graphql-ws socket: validated and counted here once, then
   * the TickTransport writes its pre-serialised graphql-ws frames to the socket.
   * Throws (nothing held) on unknown instruments, limits, the user's quota
   * (MAX_TICK_INSTRUMENTS_PER_USER, counted across all their sockets) or a full feed.
   */
  /**
   * `openTicks` once the instrument master is loaded: a subscription opened during warm-up
   * waits for it (at most `warmupWaitMs`, default 15 s), then UNAVAILABLE (retryable), never
   * NOT_FOUND.
   */
  async openTicksWhenLoaded(
    socket: WebSocket,
    userId: string,
    subscriptionId: string,
    instruments: ReadonlyArray<{ segment: ExchangeSegment; securityId: string }>,
    fields: readonly SelectedField[],
    responseKey: string,
  ): Promise<TickStream> {
    await this.instruments.whenLoaded(this.options.warmupWaitMs);
    // The first snapshot of an instrument with no fresh price comes from DhanHQ REST.
    const known: number[] = [];
    for (const { segment, securityId } of instruments) {
      if (this.instruments.get(segment, securityId)) {
        known.push(this.instrumentKeyOf(segment, securityId));
      }
    }
    // Not for a subscription the user's quota refuses anyway (openTicks says why).
    if (this.fitsQuota(userId, known)) await this.rest.fillQuotes(known, this.options.restWaitMs);
    return this.openTicks(socket, userId, subscriptionId, instruments, fields, responseKey);
  }

  openTicks(
    socket: WebSocket,
    userId: string,
    subscriptionId: string,
    instruments: ReadonlyArray<{ segment: ExchangeSegment; securityId: string }>,
    fields: readonly SelectedField[],
    responseKey: string,
  ): TickStream {
    const keys: number[] = [];
    for (const { segment, securityId } of instruments) {
      if (!this.instruments.get(segment, securityId)) {
        throw new NotFoundError(`Unknown instrument ${segment} ${securityId}`);
      }
      keys.push(this.instrumentKeyOf(segment, securityId));
    }
    const distinct = [...new Set(keys)];
    try {
      this.tickQuota.check(userId, distinct);
    } catch (e) {
      this.logger.warn({ msg: 'ticks quota refused a subscription', userId, detail: String(e) });
      throw toDomainError(e);
    }
    let opened: OpenedTicks;
    try {
      opened = this.transport.open(
        socket,
        subscriptionId,
        responseKey,
        keys,
        this.shapes.fragmentFor(fields),
      );
    } catch (e) {
      throw toDomainError(e);
    }
    const { clientId, newlyWanted } = opened;
    // Newly wanted instruments, and any whose shared CLIENT reference was evicted while other
    // subscriptions still wanted it: this subscription puts them back on the feed.
    const needRef = new Set(newlyWanted);
    for (const key of keys) {
      if (!this.registry.hasHolder(key, ReferenceKind.CLIENT, TICKS_HOLDER)) needRef.add(key);
    }
    try {
      this.registry.acquire([...needRef].map((key) => this.clientRef(key)));
    } catch (e) {
      this.transport.close(clientId, subscriptionId);
      throw toDomainError(e);
    }
    let subscriptions = this.clients.get(clientId);
    if (!subscriptions) {
      subscriptions = new Map();
      this.clients.set(clientId, subscriptions);
    }
    subscriptions.set(subscriptionId, { userId, keys: distinct });
    this.tickQuota.add(userId, distinct);

    // Nothing is ever pushed: the transport writes this subscription's frames to the socket.
    return new PushStream<never>({
      onEnd: () => {
        this.endQuota(clientId, subscriptionId);
        this.releaseKeys(this.transport.close(clientId, subscriptionId));
      },
    });
  }

  private fitsQuota(userId: string, keys: readonly number[]): boolean {
    try {
      this.tickQuota.check(userId, new Set(keys));
      return true;
    } catch {
      return false;
    }
  }

  /** Hands a subscription's instruments back to its user's quota; once per subscription. */
  private endQuota(clientId: string, subscriptionId: string): void {
    const subscriptions = this.clients.get(clientId);
    const sub = subscriptions?.get(subscriptionId);
    if (!subscriptions || !sub) return;
    subscriptions.delete(subscriptionId);
    if (subscriptions.size === 0) this.clients.delete(clientId);
    this.tickQuota.remove(sub.userId, sub.keys);
  }

  /** Distinct instruments an owner (a user) holds through references of `kind`. */
  ownerUsage(kind: ReferenceKind, owner: string): number {
    return this.registry.ownerUsage(kind, owner);
  }

  /** Distinct instruments a user streams through `ticks` now, and the quota. */
  tickQuotaOf(userId: string): { used: number; limit: number } {
    return { used: this.tickQuota.used(userId), limit: this.tickQuota.limit };
  }

  private clientRef(key: number): SubscriptionReference {
    const rec = this.store.ensure(key);
    return {
      segment: rec.segment,
      securityId: rec.securityId,
      kind: ReferenceKind.CLIENT,
      holderId: TICKS_HOLDER,
      mode: FeedMode.FULL,
    };
  }

  private releaseKeys(keys: readonly number[]): void {
    if (keys.length === 0) return;
    this.registry.release(keys.map((key) => this.clientRef(key)));
  }

  // ---- health and status ----

  staleInstruments(): number {
    // Every instrument on the feed, without building lists of them: this runs on every metrics
    // scrape and every second of a feedHealth subscription, and lists of 25,000 keys per call
    // had stalled the event loop for tens of milliseconds each time.
    let n = 0;
    const store = this.store;
    this.registry.forEachOnFeed((key) => {
      if (store.get(key)?.stale !== false) n++;
    });
    return n;
  }

  feedHealth(): FeedHealth {
    const last = this.pool.lastMessageAt();
    return {
      connected: this.pool.connected(),
      connections: this.pool.openConnections(),
      staleInstruments: this.staleInstruments(),
      lastTickTime: last > 0 ? new Date(last) : null,
    };
  }

  /** Emits at once, when health changes (checked every second) and every interval. */
  feedHealthStream(): AsyncIterableIterator<{ feedHealth: FeedHealth }> {
    const every = this.options.feedHealthIntervalMs;
    const checkMs = Math.min(1_000, every);
    let last = '';
    let lastAt = 0;
    const check = () => {
      const health = this.feedHealth();
      const sig = `${health.connected}:${health.connections}:${health.staleInstruments}`;
      const now = Date.now();
      if (sig === last && now - lastAt < every) return;
      last = sig;
      lastAt = now;
      stream.push({ feedHealth: health });
    };
    const timer = setInterval(check, checkMs);
    timer.unref();
    const stream = new PushStream<{ feedHealth: FeedHealth }>({
      conflateBy: () => 'latest',
      onEnd: () => clearInterval(timer),
    });
    check();
    return stream;
  }

  /** Fan-out counters (clients, subscriptions, batches, updates, held and closed clients). */
  fanoutStats(): TickFanoutStats {
    return this.fanout.stats();
  }

  /** The option-chain refresh's cumulative analytics and fan-out time, strikes and frames. */
  chainStats(): Readonly<ChainAnalyticsService['stats']> {
    return this.chains.stats;
  }

  /** Each fan-out flush's duration (ms), for the flush-duration histogram. */
  onFanoutFlush(listener: (ms: number) => void): () => void {
    return this.fanout.onFlush(listener);
  }

  /** Registry counters (instruments by connection, mode and reference kind, capacity). */
  registryStats(): RegistryStats {
    return this.registry.stats();
  }

  feedStatus(): FeedStatus {
    const stats = this.registry.stats();
    return {
      mode: this.pool.mode,
      role: this.pool.role,
      connected: this.pool.connected(),
      connections: this.pool.status(),
      instruments: stats.total,
      capacity: stats.capacity,
      byTier: Object.entries(stats.byKind).map(([name, c]) => ({
        name,
        instruments: c.instruments,
        references: c.references,
      })),
      byUnderlying: Object.entries(stats.byTag)
        .map(([name, instruments]) => ({ name, instruments }))
        .sort((a, b) => a.name.localeCompare(b.name)),
      staleInstruments: this.staleInstruments(),
      packetsReceived: this.pool.ticksReceived,
      ...((p) => ({ paused: p.paused, pausedReason: p.reason, pausedSince: p.since }))(
        this.pool.pauseState(),
      ),
    };
  }

  /** The registry's instruments for admins: filtered, by connection then key, at most `limit`. */
  subscriptions(filter: SubscriptionFilter, limit: number): FeedSubscriptionList {
    const underlying = filter.underlying ?? null;
    const rows: FeedSubscriptionView[] = [];
    for (const entry of this.registry.list(filter.kind ?? undefined)) {
      const instrument = this.instruments.get(entry.segment, entry.securityId);
      if (
        underlying !== null &&
        instrument?.underlying !== underlying &&
        instrument?.symbol !== underlying
      ) {
        continue;
      }
      rows.push({ ...entry, instrument });
    }
    return { total: rows.length, items: rows.slice(0, limit) };
  }

  reconnectFeed(index?: number): number {
    return this.pool.reconnect(index);
  }

  get feedHealthIntervalMs(): number {
    return this.options.feedHealthIntervalMs;
  }
}
