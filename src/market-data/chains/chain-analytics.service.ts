import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ExchangeSegment, FeedMode, SEGMENT_CODE, instrumentKey, type Instrument } from '@app/dhan';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { Clock } from '../../common/clock';
import { BadUserInputError, DomainError, NotFoundError } from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import { PushStream } from '../../common/subscriptions/push-stream';
import { MarketCalendar } from '../../calendar/market-calendar';
import { InstrumentsService } from '../../instruments/instruments.service';
import { analyseOption, emptyAnalytics, IvStatus, type OptionAnalytics } from '../analytics/black';
import {
  ForwardSource,
  chainStats,
  nearestStrike,
  parityForward,
  yearsToExpiry,
  type ChainPoint,
  type ChainSide,
  type ChainStats,
} from '../analytics/chain';
import {
  ReferenceKind,
  SubscriptionRegistry,
  type SubscriptionReference,
} from '../feed/subscription-registry';
import { MARKET_DATA_OPTIONS, type MarketDataOptions } from '../market-data.options';
import { MarketDataError, MarketDataErrorCode } from '../market-data.errors';
import { DEFAULT_TICK_FANOUT_OPTIONS } from '../ticks/tick-fanout';
import { TickStore, type TickRecord, DEPTH_STRIDE } from '../ticks/tick-store';
import { TIER_B_PINNED, TierBService } from './tier-b.service';
import { spotOf } from './tier-b';

/** Which price an option's IV was solved from. */
export enum PriceSource {
  MID = 'MID',
  LTP = 'LTP',
}

/** Most strikes each side of ATM a chain query or subscription may ask for. */
export const MAX_CHAIN_STRIKES_EACH_SIDE = 50;
/** Every tracked chain is fully re-analysed at least this often (time decay moves greeks). */
export const FULL_REFRESH_MS = 60_000;

/** One side (call or put) of a strike, as a chain view shows it. */
export interface ChainContractView {
  instrument: Instrument;
  quote: TickRecord | null;
  analytics: OptionAnalytics;
  priceSource: PriceSource | null;
  /** OI minus the previous day's OI; null before both are known. */
  oiChange: number | null;
}

export interface ChainStrikeView {
  strike: number;
  call: ChainContractView | null;
  put: ChainContractView | null;
}

export interface ChainView {
  underlying: string;
  expiry: string;
  spot: number | null;
  atmStrike: number | null;
  forward: number | null;
  forwardSource: ForwardSource | null;
  /** Years to the expiry instant (ACT/365). */
  yearsToExpiry: number;
  expiresAt: Date;
  stats: ChainStats;
  strikes: ChainStrikeView[];
}

export interface ChainUpdateView extends ChainView {
  /** True for the first message (every strike of the window); later ones carry changed strikes. */
  snapshot: boolean;
}

class Side implements ChainSide {
  readonly key: number;
  record: TickRecord | undefined;
  seen = -1;
  /** Record version last reported to subscribers. */
  reported = -1;
  price = NaN;
  oi = NaN;
  volume = NaN;
  source: PriceSource | null = null;
  readonly analytics = emptyAnalytics();

  constructor(readonly instrument: Instrument) {
    this.key = instrumentKey(SEGMENT_CODE[instrument.segment], Number(instrument.securityId));
  }
}

class Slot implements ChainPoint {
  call: Side | null = null;
  put: Side | null = null;
  dirty = false;
  /** Position in the chain's strikes (ascending). */
  index = 0;
  constructor(readonly strike: number) {}
}

/**
 * A subscriber served outside graphql-js: its messages are written straight to its graphql-ws
 * socket, each update rendered once per flush for every subscriber of the same window and
 * selection (`shape`), as `ticks` does.
 */
export interface ChainFrameSink {
  /** `{"id":..,"type":"next","payload":{"data":{"<key>":` of this subscription. */
  prefix: string;
  /** Selection signature: subscribers with the same window and shape share one rendering. */
  shape: string;
  /** The field's JSON for one message. */
  render: (view: ChainUpdateView) => string;
  /** Bytes queued on the socket (backpressure). */
  unsent: () => number;
  send: (frame: string) => void;
}

/** A fast subscriber with more unsent than this gets no shared frame; it catches up alone. */
export const CHAIN_FRAME_HIGH_WATER = 1 << 20;

class Subscriber {
  readonly pending = new Set<Slot>();
  first = true;
  stream!: PushStream<true, ChainUpdateView>;
  constructor(
    readonly chain: TrackedChain,
    readonly lo: number,
    readonly hi: number,
    readonly sink?: ChainFrameSink,
  ) {}
}

class TrackedChain {
  spot = NaN;
  forward = NaN;
  forwardSource: ForwardSource | null = null;
  years = 0;
  stats: ChainStats = chainStats([], NaN);
  lastFullMs = -Infinity;
  tierB = false;
  /** Contracts of this chain whose IV someone watches (server-side alerts): kept analysed. */
  watched = 0;
  readonly subscribers = new Set<Subscriber>();
  readonly baseKey: number;

  constructor(
    readonly underlying: string,
    readonly expiry: string,
    readonly base: Instrument | undefined,
    readonly onFuture: boolean,
    readonly expiryMs: number,
    readonly points: Slot[],
  ) {
    this.baseKey = base ? instrumentKey(SEGMENT_CODE[base.segment], Number(base.securityId)) : -1;
  }
}

const chainId = (underlying: string, expiry: string) => `${underlying.toUpperCase()}|${expiry}`;

/**
 * Option analytics per chain: implied volatility and greeks of every contract, the forward and
 * the chain figures (ATM IV, PCR, max pain, skew). Tracked chains (Tier B's and those someone
 * subscribes to) are refreshed on one timer at the tick fan-out's flush interval, and only the
 * strikes whose inputs changed are re-solved (all of them when the forward or spot moved, and
 * every FULL_REFRESH_MS for time decay). Subscribers get the changed strikes of their window,
 * conflated: the work is per chain, never per subscriber.
 */
@Injectable()
export class ChainAnalyticsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ChainAnalyticsService.name);
  private readonly chains = new Map<string, TrackedChain>();
  private readonly ivWatch = new Map<number, { side: Side; count: number }>();
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private readonly rate: number;
  private readonly dividendYield: number;

  constructor(
    private readonly instruments: InstrumentsService,
    private readonly store: TickStore,
    private readonly registry: SubscriptionRegistry,
    private readonly calendar: MarketCalendar,
    private readonly clock: Clock,
    private readonly tierB: TierBService,
    @Inject(MARKET_DATA_OPTIONS) options: MarketDataOptions,
  ) {
    this.intervalMs = options.fanout.flushIntervalMs ?? DEFAULT_TICK_FANOUT_OPTIONS.flushIntervalMs;
    this.rate = options.optionAnalytics.riskFreeRate;
    this.dividendYield = options.optionAnalytics.dividendYield;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.refreshAll(), this.intervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const chain of this.chains.values()) {
      for (const sub of [...chain.subscribers]) sub.stream.end();
    }
  }

  /** Tier B's chains are always analysed; the ones it dropped only while subscribed. */
  @OnEvent(TIER_B_PINNED)
  onTierBPinned(): void {
    const selection = this.tierB.current();
    const wanted = new Set<string>();
    for (const u of selection?.underlyings ?? []) {
      for (const c of u.chains) {
        const id = chainId(u.name, c.expiry);
        wanted.add(id);
        try {
          this.track(u.name, c.expiry).tierB = true;
        } catch (e) {
          this.logger.warn({ msg: 'Tier B chain not analysed', chain: id, err: String(e) });
        }
      }
    }
    for (const [id, chain] of this.chains) {
      if (!wanted.has(id)) {
        chain.tierB = false;
        if (chain.subscribers.size === 0 && chain.watched === 0) this.chains.delete(id);
      }
    }
  }

  /**
   * The expiry a chain request means (the nearest when not given) and whether that chain is
   * tracked (Tier B or subscribed, so its contracts stream). NOT_FOUND as `chain` does.
   */
  resolve(underlying: string, expiry?: string | null): { expiry: string; tracked: boolean } {
    const resolved = this.resolveExpiry(underlying, expiry);
    return { expiry: resolved, tracked: this.chains.has(chainId(underlying, resolved)) };
  }

  /** Chains being analysed now (Tier B and subscribed). */
  trackedChains(): number {
    return this.chains.size;
  }

  /**
   * One chain with analytics, `strikesEachSide` strikes around ATM (all when null). A chain
   * nobody tracks is analysed once for this answer. NOT_FOUND for an unknown underlying or
   * expiry; BAD_USER_INPUT for a window out of range.
   */
  chain(underlying: string, expiry?: string | null, strikesEachSide?: number | null): ChainView {
    const resolved = this.resolveExpiry(underlying, expiry);
    checkWindow(strikesEachSide);
    const chain =
      this.chains.get(chainId(underlying, resolved)) ?? this.build(underlying, resolved);
    if (chain.lastFullMs === -Infinity) this.refresh(chain, this.clock.now().getTime(), true);
    const [lo, hi] = this.window(chain, strikesEachSide ?? null);
    return this.view(chain, chain.points.slice(lo, hi + 1));
  }

  /**
   * Opens a chain subscription: the first message is the window's chain, later ones carry the
   * strikes that changed. The window's contracts (and the underlying) get CLIENT references so
   * an expiry outside Tier B streams too; CAPACITY_EXCEEDED (nothing held) when the feed is full.
   */
  subscribe(
    underlying: string,
    expiry: string | null | undefined,
    strikesEachSide: number,
    sink?: ChainFrameSink,
  ): AsyncIterableIterator<ChainUpdateView> {
    const resolved = this.resolveExpiry(underlying, expiry);
    checkWindow(strikesEachSide);
    const id = chainId(underlying, resolved);
    const chain = this.track(underlying, resolved);
    if (chain.lastFullMs === -Infinity) this.refresh(chain, this.clock.now().getTime(), true);
    const [lo, hi] = this.window(chain, strikesEachSide);
    const holder = `option-chain:${randomUUID()}`;
    const refs: SubscriptionReference[] = [];
    const ref = (i: Instrument): SubscriptionReference => ({
      segment: i.segment,
      securityId: i.securityId,
      kind: ReferenceKind.CLIENT,
      holderId: holder,
      mode: FeedMode.FULL,
    });
    if (chain.base) refs.push(ref(chain.base));
    for (let i = lo; i <= hi; i++) {
      const slot = chain.points[i];
      if (slot.call) refs.push(ref(slot.call.instrument));
      if (slot.put) refs.push(ref(slot.put.instrument));
    }
    try {
      this.registry.acquire(refs);
    } catch (e) {
      if (chain.subscribers.size === 0 && !chain.tierB && chain.watched === 0) {
        this.chains.delete(id);
      }
      if (e instanceof MarketDataError && e.code === MarketDataErrorCode.CAPACITY_EXCEEDED) {
        throw new DomainError(
          ErrorCode.CAPACITY_EXCEEDED,
          `The feed has no room for the ${refs.length} instruments of this ${underlying} ` +
            `${resolved} chain window; ask for fewer strikes or retry later`,
        );
      }
      throw e;
    }
    const sub = new Subscriber(chain, lo, hi, sink);
    for (let i = lo; i <= hi; i++) sub.pending.add(chain.points[i]);
    sub.stream = new PushStream<true, ChainUpdateView>({
      conflateBy: () => 'update',
      map: () => this.drain(sub),
      onEnd: () => {
        chain.subscribers.delete(sub);
        this.registry.releaseHolder(ReferenceKind.CLIENT, holder);
        if (chain.subscribers.size === 0 && !chain.tierB && chain.watched === 0) {
          this.chains.delete(id);
        }
      },
    });
    chain.subscribers.add(sub);
    if (sink) {
      // After the resolver returned, so the snapshot follows Mercurius' own bookkeeping.
      setImmediate(() => {
        if (chain.subscribers.has(sub)) this.sendAlone(sub);
      });
    } else {
      sub.stream.push(true);
    }
    return sub.stream;
  }

  /** Messages rendered for fast subscribers (shared renderings count once). */
  renderings = 0;

  /**
   * Where the refresh timer's time goes, cumulative since boot (/metrics): the analytics (IV,
   * greeks, forward and chain figures of the changed strikes) against the fan-out (rendering
   * and writing the updates), so the analytics' share of the fan-out's cost can be read off a
   * running server. Wall time of synchronous code, measured once per chain and flush.
   */
  readonly stats = { analysisMs: 0, fanoutMs: 0, strikeUpdates: 0, frames: 0, bytes: 0 };

  /** A fast subscriber's own message: the snapshot, or its pending strikes when catching up. */
  private sendAlone(sub: Subscriber): void {
    const sink = sub.sink!;
    if (sink.unsent() > CHAIN_FRAME_HIGH_WATER) return;
    const view = this.drain(sub);
    if (!view.snapshot && view.strikes.length === 0) return;
    this.renderings++;
    const frame = sink.prefix + sink.render(view) + '}}}';
    this.stats.frames++;
    this.stats.bytes += frame.length;
    sink.send(frame);
  }

  /**
   * One flush for a chain's fast subscribers: the changed strikes of each window rendered once
   * per selection shape and written to every subscriber of that group; a subscriber behind on
   * its socket keeps the strikes pending and later catches up with a message of its own.
   */
  private sendShared(
    chain: TrackedChain,
    changed: readonly Slot[],
    subs: readonly Subscriber[],
  ): void {
    const groups = new Map<string, Subscriber[]>();
    for (const sub of subs) {
      const sink = sub.sink!;
      if (sub.first || sub.pending.size > 0 || sink.unsent() > CHAIN_FRAME_HIGH_WATER) {
        for (const slot of changed) {
          if (slot.index >= sub.lo && slot.index <= sub.hi) sub.pending.add(slot);
        }
        this.sendAlone(sub);
        continue;
      }
      const id = `${sub.lo}:${sub.hi}:${sink.shape}`;
      const group = groups.get(id);
      if (group) group.push(sub);
      else groups.set(id, [sub]);
    }
    for (const group of groups.values()) {
      const { lo, hi, sink } = group[0];
      const slots = changed.filter((slot) => slot.index >= lo && slot.index <= hi);
      if (slots.length === 0) continue;
      this.renderings++;
      const body = sink!.render({ ...this.view(chain, slots), snapshot: false }) + '}}}';
      for (const sub of group) {
        const frame = sub.sink!.prefix + body;
        this.stats.frames++;
        this.stats.bytes += frame.length;
        sub.sink!.send(frame);
      }
    }
  }

  /**
   * Keeps an option's chain analysed (IV, greeks) until the returned function is called, so
   * its IV can be read with `ivOf` (server-side alerts). The caller keeps the contract and its
   * underlying on the feed. NOT_FOUND when it is not a listed option.
   */
  watchIv(instrument: Instrument): () => void {
    if (instrument.underlying === undefined || instrument.expiry === undefined) {
      throw new NotFoundError(`${instrument.segment} ${instrument.securityId} is not an option`);
    }
    const id = chainId(instrument.underlying, instrument.expiry);
    const chain = this.track(instrument.underlying, instrument.expiry);
    const side = chain.points
      .map((p) => (instrument.optionType === 'CE' ? p.call : p.put))
      .find((s) => s?.instrument.securityId === instrument.securityId);
    if (!side) throw new NotFoundError(`${instrument.securityId} is not in its option chain`);
    chain.watched++;
    const held = this.ivWatch.get(side.key);
    if (held) held.count++;
    else this.ivWatch.set(side.key, { side, count: 1 });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      chain.watched--;
      const w = this.ivWatch.get(side.key);
      if (w && --w.count === 0) this.ivWatch.delete(side.key);
      if (chain.watched === 0 && chain.subscribers.size === 0 && !chain.tierB) {
        if (this.chains.get(id) === chain) this.chains.delete(id);
      }
    };
  }

  /**
   * A watched option's latest implied volatility, annualised, in percent (as optionChain shows
   * it); NaN when it is not solved or not watched.
   */
  ivOf(key: number): number {
    const w = this.ivWatch.get(key);
    if (w === undefined || w.side.analytics.status !== IvStatus.OK) return NaN;
    return w.side.analytics.iv * 100;
  }

  /** Re-analyses every tracked chain (the timer; tests and the benchmark call it directly). */
  refreshAll(nowMs: number = this.clock.now().getTime()): void {
    const stats = this.stats;
    for (const chain of this.chains.values()) {
      try {
        const t0 = performance.now();
        const changed = this.refresh(chain, nowMs, nowMs - chain.lastFullMs >= FULL_REFRESH_MS);
        const t1 = performance.now();
        stats.analysisMs += t1 - t0;
        if (changed.length === 0) continue;
        stats.strikeUpdates += changed.length;
        const fast: Subscriber[] = [];
        for (const sub of chain.subscribers) {
          if (sub.sink) {
            fast.push(sub);
            continue;
          }
          let any = false;
          for (const slot of changed) {
            if (slot.index >= sub.lo && slot.index <= sub.hi) {
              sub.pending.add(slot);
              any = true;
            }
          }
          if (any) sub.stream.push(true);
        }
        if (fast.length > 0) this.sendShared(chain, changed, fast);
        stats.fanoutMs += performance.now() - t1;
      } catch (e) {
        this.logger.error({ msg: 'option analytics failed', chain: chain.underlying, err: e });
      }
    }
  }

  private resolveExpiry(underlying: string, expiry?: string | null): string {
    const expiries = this.instruments.expiries(underlying);
    if (expiries.length === 0) throw new NotFoundError(`No options for underlying ${underlying}`);
    const chosen = expiry ?? expiries[0];
    if (!expiries.includes(chosen)) {
      throw new NotFoundError(`No ${underlying} options expiring ${chosen}`);
    }
    return chosen;
  }

  private track(underlying: string, expiry: string): TrackedChain {
    const id = chainId(underlying, expiry);
    let chain = this.chains.get(id);
    if (!chain) {
      chain = this.build(underlying, expiry);
      this.chains.set(id, chain);
    }
    return chain;
  }

  private build(underlying: string, expiry: string): TrackedChain {
    // MCX options are priced off the future of their own expiry, not always the nearest one.
    const base = this.instruments.chainBase(underlying, expiry);
    const byStrike = new Map<number, Slot>();
    let segment: ExchangeSegment | undefined;
    for (const i of this.instruments.chain(underlying, expiry)) {
      if (i.strike === undefined || !Number.isFinite(i.strike)) continue;
      segment ??= i.segment;
      let slot = byStrike.get(i.strike);
      if (!slot) {
        slot = new Slot(i.strike);
        byStrike.set(i.strike, slot);
      }
      if (i.optionType === 'CE') slot.call ??= new Side(i);
      else if (i.optionType === 'PE') slot.put ??= new Side(i);
    }
    const points = [...byStrike.values()].sort((a, b) => a.strike - b.strike);
    points.forEach((p, i) => (p.index = i));
    const onFuture = base?.segment === ExchangeSegment.MCX_COMM;
    return new TrackedChain(
      underlying.toUpperCase(),
      expiry,
      base,
      onFuture,
      this.expiryInstant(segment ?? ExchangeSegment.NSE_FNO, expiry),
      points,
    );
  }

  /** The exchange's expiry instant: the close of the expiry day's session (15:30 IST on NSE/BSE). */
  private expiryInstant(segment: ExchangeSegment, expiry: string): number {
    const close = this.calendar.closeTime(segment, expiry);
    if (close) return close.getTime();
    const ist = segment === ExchangeSegment.MCX_COMM ? '23:30' : '15:30';
    return Date.parse(`${expiry}T${ist}:00+05:30`);
  }

  private window(chain: TrackedChain, each: number | null): [number, number] {
    const n = chain.points.length;
    if (each === null || n === 0) return [0, n - 1];
    const centre = Number.isFinite(chain.spot)
      ? nearestStrike(chain.points, chain.spot)
      : Math.floor(n / 2);
    return [Math.max(0, centre - each), Math.min(n - 1, centre + each)];
  }

  /** Updates a chain; returns the strikes whose analytics or quotes changed. */
  private refresh(chain: TrackedChain, nowMs: number, full: boolean): Slot[] {
    const baseRec = chain.baseKey >= 0 ? this.store.get(chain.baseKey) : undefined;
    const spot = spotOf(baseRec) ?? NaN;
    // Time to expiry moves only on the full refreshes (time decay every FULL_REFRESH_MS, and
    // at the expiry instant): taken at every flush, it would move the discount factor and so a
    // parity or carry forward by a hair each time, and every strike would be re-solved.
    if (nowMs >= chain.expiryMs && chain.years > 0) full = true;
    const years = full ? yearsToExpiry(chain.expiryMs, nowMs) : chain.years;
    let anyQuote = false;
    for (const slot of chain.points) {
      if (slot.call && readSide(this.store, slot.call)) slot.dirty = anyQuote = true;
      if (slot.put && readSide(this.store, slot.put)) slot.dirty = anyQuote = true;
    }
    const df = Math.exp(-this.rate * Math.max(years, 0));
    let forward: number;
    let source: ForwardSource | null;
    if (!Number.isFinite(spot)) {
      forward = NaN;
      source = null;
    } else if (chain.onFuture) {
      forward = spot;
      source = ForwardSource.FUTURE;
    } else {
      forward = parityForward(chain.points, spot, df);
      source = ForwardSource.PARITY;
      if (!Number.isFinite(forward)) {
        forward = spot * Math.exp((this.rate - this.dividendYield) * Math.max(years, 0));
        source = ForwardSource.CARRY;
      }
    }
    const moved = !same(forward, chain.forward) || !same(spot, chain.spot);
    if (!anyQuote && !moved && !full) return [];
    const all = moved || full;
    chain.spot = spot;
    chain.forward = forward;
    chain.forwardSource = source;
    chain.years = years;
    if (full) chain.lastFullMs = nowMs;
    const changed: Slot[] = [];
    for (const slot of chain.points) {
      if (!slot.dirty && !all) continue;
      slot.dirty = false;
      const a = slot.call ? this.analyse(chain, slot.call, slot.strike, true) : false;
      const b = slot.put ? this.analyse(chain, slot.put, slot.strike, false) : false;
      if (a || b) changed.push(slot);
    }
    if (changed.length > 0)
      chain.stats = chainStats(chain.points, Number.isFinite(forward) ? forward : spot);
    return changed;
  }

  /** Solves one contract; true when anything a client sees of it changed. */
  private analyse(chain: TrackedChain, side: Side, strike: number, isCall: boolean): boolean {
    if (!side.record) return false;
    const out = side.analytics;
    const { status, iv, delta, gamma, theta } = out;
    analyseOption(out, {
      isCall,
      price: side.price,
      spot: chain.spot,
      forward: chain.forward,
      strike,
      years: chain.years,
      rate: this.rate,
      onFuture: chain.onFuture,
    });
    const quoteMoved = side.seen !== side.reported;
    side.reported = side.seen;
    return (
      quoteMoved ||
      out.status !== status ||
      out.iv !== iv ||
      out.delta !== delta ||
      out.gamma !== gamma ||
      out.theta !== theta
    );
  }

  private drain(sub: Subscriber): ChainUpdateView {
    const chain = sub.chain;
    const slots = [...sub.pending].sort((a, b) => a.strike - b.strike);
    sub.pending.clear();
    const snapshot = sub.first;
    sub.first = false;
    return { ...this.view(chain, slots), snapshot };
  }

  private view(chain: TrackedChain, slots: readonly Slot[]): ChainView {
    const atm = Number.isFinite(chain.spot) ? nearestStrike(chain.points, chain.spot) : -1;
    const contract = (side: Side | null): ChainContractView | null => {
      if (!side) return null;
      const rec = side.record ?? null;
      const oiChange =
        rec && rec.oi >= 0 && rec.prevOi >= 0 && Number.isFinite(rec.oi - rec.prevOi)
          ? rec.oi - rec.prevOi
          : null;
      return {
        instrument: side.instrument,
        quote: rec,
        analytics: { ...side.analytics },
        priceSource: side.source,
        oiChange,
      };
    };
    return {
      underlying: chain.underlying,
      expiry: chain.expiry,
      spot: finiteOrNull(chain.spot),
      atmStrike: atm >= 0 ? chain.points[atm].strike : null,
      forward: finiteOrNull(chain.forward),
      forwardSource: chain.forwardSource,
      yearsToExpiry: Math.max(chain.years, 0),
      expiresAt: new Date(chain.expiryMs),
      stats: { ...chain.stats },
      strikes: slots.map((s) => ({
        strike: s.strike,
        call: contract(s.call),
        put: contract(s.put),
      })),
    };
  }
}

function checkWindow(each: number | null | undefined): void {
  if (each === null || each === undefined) return;
  if (!Number.isInteger(each) || each < 0 || each > MAX_CHAIN_STRIKES_EACH_SIDE) {
    throw new BadUserInputError(
      `strikes must be a whole number of strikes each side of ATM, 0 to ${MAX_CHAIN_STRIKES_EACH_SIDE}`,
    );
  }
}

/** Reads a contract's record when its version moved: price (mid, else LTP), OI, volume. */
function readSide(store: TickStore, side: Side): boolean {
  const rec = (side.record ??= store.get(side.key));
  if (!rec || rec.version === side.seen) return false;
  side.seen = rec.version;
  const bid = rec.hasDepth ? rec.depth[2] : 0;
  const ask = rec.hasDepth ? rec.depth[DEPTH_STRIDE - 1] : 0;
  if (bid > 0 && ask > 0 && ask >= bid) {
    side.price = (bid + ask) / 2;
    side.source = PriceSource.MID;
  } else if (rec.ltp > 0) {
    side.price = rec.ltp;
    side.source = PriceSource.LTP;
  } else {
    side.price = NaN;
    side.source = null;
  }
  side.oi = rec.oi;
  side.volume = rec.volume;
  return true;
}

function same(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
