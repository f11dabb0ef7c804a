import { istDate } from '../../trading/ist-date';
import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import {
  ExchangeSegment,
  FeedResponseCode,
  SEGMENT_BY_CODE,
  SEGMENT_CODE,
  instrumentKey,
  securityIdOfKey,
  segmentCodeOfKey,
} from '@app/dhan/types';
import type { Fragment } from './tick-fragment';
import { InstrumentKeyMap } from '../feed/instrument-key-map';

/*
 * Inputs are structural copies of the libs/dhan decoder packets (code, segment, numeric
 * security id, LTT in true UTC epoch seconds, 0 when absent). The store reads the fields it
 * needs and keeps nothing of the packet, so the decoder may reuse one object per type.
 */
interface UpdateHeader {
  readonly segment: ExchangeSegment;
  readonly securityId: number;
}

export interface TickerUpdate extends UpdateHeader {
  readonly type: FeedResponseCode.TICKER;
  readonly ltp: number;
  readonly ltt: number;
}

export interface PrevCloseUpdate extends UpdateHeader {
  readonly type: FeedResponseCode.PREV_CLOSE;
  readonly prevClose: number;
  readonly prevOi: number;
}

export interface OiUpdate extends UpdateHeader {
  readonly type: FeedResponseCode.OI;
  readonly oi: number;
}

export interface QuoteUpdate extends UpdateHeader {
  readonly type: FeedResponseCode.QUOTE;
  readonly ltp: number;
  readonly ltq: number;
  readonly ltt: number;
  readonly atp: number;
  readonly volume: number;
  readonly totalSellQty: number;
  readonly totalBuyQty: number;
  readonly open: number;
  readonly close: number;
  readonly high: number;
  readonly low: number;
}

export interface DepthLevelUpdate {
  readonly bidQty: number;
  readonly askQty: number;
  readonly bidOrders: number;
  readonly askOrders: number;
  readonly bidPrice: number;
  readonly askPrice: number;
}

export interface FullUpdate extends Omit<QuoteUpdate, 'type'> {
  readonly type: FeedResponseCode.FULL;
  readonly oi: number;
  readonly depth: readonly DepthLevelUpdate[];
}

export type TickUpdate = TickerUpdate | PrevCloseUpdate | OiUpdate | QuoteUpdate | FullUpdate;

/**
 * A snapshot from DhanHQ REST (`/marketfeed/quote`, `/optionchain`) for an instrument the feed
 * has nothing fresh for. Prices in rupees; NaN (or absent) = not given; `ltt` true UTC seconds.
 */
export interface RestSnapshot {
  ltp: number;
  ltt?: number;
  ltq?: number;
  atp?: number;
  volume?: number;
  totalBuyQty?: number;
  totalSellQty?: number;
  open?: number;
  high?: number;
  low?: number;
  prevClose?: number;
  oi?: number;
  prevOi?: number;
  /** The exchange's circuit limits (DhanHQ's quote carries them; the feed does not). */
  upperCircuit?: number;
  lowerCircuit?: number;
  /** Levels best first (any number up to five). */
  depth?: readonly DepthLevelUpdate[];
}

export const DEPTH_LEVELS = 5;
/** Per depth level in `TickRecord.depth`: bidQty, bidOrders, bidPrice, askQty, askOrders, askPrice. */
export const DEPTH_STRIDE = 6;

/**
 * Latest state of one instrument. Created once per instrument and mutated in place; readers
 * must not keep references to its fields across updates. Unknown numbers are NaN.
 */
export class TickRecord {
  readonly segment: ExchangeSegment;
  readonly securityId: string;
  ltp = NaN;
  /** Last trade time, true UTC epoch seconds; 0 = none yet. */
  ltt = 0;
  ltq = NaN;
  atp = NaN;
  volume = NaN;
  totalBuyQty = NaN;
  totalSellQty = NaN;
  open = NaN;
  high = NaN;
  low = NaN;
  close = NaN;
  prevClose = NaN;
  prevOi = NaN;
  oi = NaN;
  change = NaN;
  changePercent = NaN;
  readonly depth = new Float64Array(DEPTH_LEVELS * DEPTH_STRIDE);
  hasDepth = false;
  /** True once any feed packet (or REST snapshot) was applied. */
  hasData = false;
  /** No usable price: no price yet, or no fresh data (see docs/MARKET_DATA.md). */
  stale = true;
  /** The latest state came from a DhanHQ REST snapshot, not from the feed. */
  fromRest = false;
  /** Store clock (ms, sampled at the last sweep) of the last applied packet; REST: its answer time. */
  updatedAt = 0;
  /** Incremented on every visible change; lets a serialiser cache per version. */
  version = 0;
  dirty = false;
  /** Serialisation cache, owned by whoever serialises (see TickSerializer). */
  json: Fragment | null = null;
  jsonVersion = -1;
  /** A held LTP jump waiting for a confirming packet (RELIABILITY F8); NaN = none. */
  jumpLtp = NaN;
  jumpLtt = 0;
  /** Evicted from the feed: packets still in flight are dropped until it is back on the feed. */
  offFeed = false;
  /** Use epoch of the last "in use" notification (see TickStore.onUse). */
  useMark = -1;
  /**
   * Circuit limits from DhanHQ's quote (rupees; NaN unknown), valid for the IST trading date
   * `circuitDate` they were read on (the exchange sets them per day).
   */
  upperCircuit = NaN;
  lowerCircuit = NaN;
  circuitDate = '';

  constructor(
    readonly key: number,
    readonly priceScale: number,
  ) {
    const segment = SEGMENT_BY_CODE[segmentCodeOfKey(key)];
    this.segment = segment ?? ExchangeSegment.NSE_EQ;
    this.securityId = String(securityIdOfKey(key));
  }
}

/**
 * Plausibility checks of trade packets (RELIABILITY F8); docs/MARKET_DATA.md gives the rules.
 * Prices are in rupees (the feed's unit).
 */
export interface TickChecks {
  /** An LTT (true UTC, after the IST offset correction) more than this far ahead of the clock is dropped. */
  maxFutureSeconds: number;
  /** An LTT more than this far behind the stored LTT is dropped as `ltt_too_old` (less: out of order). */
  maxBehindSeconds: number;
  /** An LTP further than this fraction from the last good LTP is a jump... */
  maxJumpRatio: number;
  /** ...held until a second packet within this fraction of the jumped price confirms it. */
  confirmRatio: number;
  /** Moves of at most this many rupees are never a jump (a 0.05 -> 0.10 option is not a bad tick). */
  jumpFloor: number;
}

export const DEFAULT_TICK_CHECKS: Readonly<TickChecks> = {
  maxFutureSeconds: 5,
  maxBehindSeconds: 60,
  maxJumpRatio: 0.2,
  confirmRatio: 0.05,
  jumpFloor: 1,
};

export interface TickStoreOptions {
  /** No packet for this long marks an instrument stale (RELIABILITY F4). */
  staleAfterMs: number;
  /** How often `start()` sweeps for stale instruments. */
  sweepIntervalMs: number;
  /** Wall clock in ms (tests pass a fake); sampled per sweep and per drain, not per packet. */
  now: () => number;
  /**
   * Plausibility checks of LTT and LTP jumps; null = off. Off by default for a bare store
   * (benches, specs of other parts); MarketDataModule always passes the configured checks.
   */
  checks: TickChecks | null;
}

export const TICK_STORE_OPTIONS = Symbol('TICK_STORE_OPTIONS');

export const DEFAULT_TICK_STORE_OPTIONS: Readonly<TickStoreOptions> = {
  staleAfterMs: 120_000,
  sweepIntervalMs: 5_000,
  now: () => Date.now(),
  checks: null,
};

/** Why a packet was not applied: the `reason` label of `feed_ticks_dropped_total`. */
export enum TickDropReason {
  INVALID_PRICE = 'invalid_price',
  OUT_OF_ORDER = 'out_of_order',
  LTT_IN_FUTURE = 'ltt_in_future',
  LTT_TOO_OLD = 'ltt_too_old',
  PRICE_JUMP = 'price_jump',
  NOT_ON_FEED = 'not_on_feed',
}

/** Any LTT before 2000-01-01 is garbage (a raw value below the IST offset, a zeroed field...). */
const MIN_PLAUSIBLE_LTT = 946_684_800;
/** Resolution of the "in use" notifications: at most one per instrument per this period. */
const USE_EPOCH_MS = 1_000;

export interface TickStoreStats {
  instruments: number;
  applied: number;
  /** Packets older than the stored LTT (RELIABILITY F9). */
  droppedOutOfOrder: number;
  /** Packets whose LTP or previous close was NaN, infinite or <= 0 (RELIABILITY F8). */
  invalidPrice: number;
  /** Packets whose LTT was ahead of the clock by more than the tolerance (F8). */
  lttInFuture: number;
  /** Packets whose LTT was far behind the stored one, or implausibly old (F8). */
  lttTooOld: number;
  /** Packets holding an unconfirmed LTP jump (F8). */
  priceJump: number;
  /** Jumps confirmed by a second packet and applied (not a drop). */
  jumpsConfirmed: number;
  /** Packets for an evicted instrument, still in flight after its unsubscribe. */
  notOnFeed: number;
  /** Secondary prices (ATP, OHLC) ignored as NaN, infinite or negative (bad depth prices read 0). */
  invalidAuxPrice: number;
  staleMarked: number;
}

const CURRENCY_CODES = new Set([
  SEGMENT_CODE[ExchangeSegment.NSE_CURRENCY],
  SEGMENT_CODE[ExchangeSegment.BSE_CURRENCY],
]);

function validPrice(p: number): boolean {
  return p > 0 && p < Infinity;
}

/**
 * Latest market state per instrument, merged from the feed's packet types.
 *
 * Rules: last writer wins by LTT (an older packet is dropped, an equal one merges, LTT 0 means
 * "not given" and never drops); a packet whose LTP is not a positive finite number is dropped
 * whole and counted, whatever flag the decoder set; secondary prices that are not usable leave
 * the stored value alone. Prices are rounded to paise (to 1/10,000 on currency segments) so
 * float32 artefacts never reach clients. With `checks`, a trade packet whose LTT is in the
 * future or far behind the stored one, or whose LTP jumps without confirmation, is dropped and
 * counted by reason (RELIABILITY F8). An evicted instrument takes no packet until it is on the
 * feed again. Every change marks the record dirty once; the fan-out drains the dirty list.
 */
@Injectable()
export class TickStore implements OnModuleDestroy {
  private readonly options: TickStoreOptions;
  private readonly records = new InstrumentKeyMap<TickRecord>();
  /** Clock sampled at each sweep, not per packet: staleness resolution is one sweep interval. */
  private clock: number;
  private dirty: TickRecord[] = [];
  private spare: TickRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly checks: TickChecks | null;
  /** `clock` in USE_EPOCH_MS units. */
  private useEpoch = 0;
  private useListener: ((key: number) => void) | null = null;
  private drainListener: ((records: readonly TickRecord[]) => void) | null = null;
  private onFeed: ((key: number) => boolean) | null = null;
  private readonly counters: Omit<TickStoreStats, 'instruments'> = {
    applied: 0,
    droppedOutOfOrder: 0,
    invalidPrice: 0,
    lttInFuture: 0,
    lttTooOld: 0,
    priceJump: 0,
    jumpsConfirmed: 0,
    notOnFeed: 0,
    invalidAuxPrice: 0,
    staleMarked: 0,
  };

  constructor(@Optional() @Inject(TICK_STORE_OPTIONS) options?: Partial<TickStoreOptions>) {
    this.options = { ...DEFAULT_TICK_STORE_OPTIONS, ...options };
    this.checks = this.options.checks ? { ...this.options.checks } : null;
    this.clock = 0;
    this.sampleClock(this.options.now());
  }

  /**
   * Told, at most once per instrument per second, that packets for it arrive (the registry's
   * LRU `touch`). One comparison per packet; the listener runs only on an epoch change.
   */
  onUse(listener: ((key: number) => void) | null): void {
    this.useListener = listener;
  }

  /**
   * Whether an instrument is on the feed (the registry); asked only for evicted instruments,
   * so a packet still in flight after the unsubscribe cannot make them fresh again.
   */
  useFeedMembership(onFeed: ((key: number) => boolean) | null): void {
    this.onFeed = onFeed;
  }

  /**
   * Told of every non-empty drain (the records changed since the previous one), before the
   * fan-out reads them: the cluster's tick relay publishes them (REDIS_URL only; null = none).
   */
  onDrain(listener: ((records: readonly TickRecord[]) => void) | null): void {
    this.drainListener = listener;
  }

  /** Every record (a full snapshot for the tick relay). */
  allRecords(): IterableIterator<TickRecord> {
    return this.records.values();
  }

  /** Starts the periodic stale sweep (timer unref'd so it never holds the process). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweepStale(), this.options.sweepIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  onModuleDestroy(): void {
    this.stop();
  }

  get(key: number): TickRecord | undefined {
    return this.records.get(key);
  }

  /** The record of an instrument, created empty (stale, no data) when unknown. */
  ensure(key: number): TickRecord {
    return this.record(segmentCodeOfKey(key), securityIdOfKey(key));
  }

  private record(segmentCode: number, securityId: number): TickRecord {
    let rec = this.records.getParts(segmentCode, securityId);
    if (!rec) {
      const key = instrumentKey(segmentCode, securityId);
      rec = new TickRecord(key, CURRENCY_CODES.has(segmentCode) ? 10_000 : 100);
      rec.updatedAt = this.clock;
      this.records.set(key, rec);
    }
    return rec;
  }

  /** Applies one packet; returns the record it changed, or null when the packet was dropped. */
  apply(u: TickUpdate): TickRecord | null {
    switch (u.type) {
      case FeedResponseCode.TICKER:
        return this.applyTicker(u);
      case FeedResponseCode.QUOTE:
        return this.applyQuote(u);
      case FeedResponseCode.FULL:
        return this.applyFull(u);
      case FeedResponseCode.OI:
        return this.applyOi(u);
      case FeedResponseCode.PREV_CLOSE:
        return this.applyPrevClose(u);
      default:
        return null;
    }
  }

  applyTicker(u: TickerUpdate): TickRecord | null {
    const rec = this.tradeRecord(u);
    if (!rec) return null;
    this.setLtp(rec, u);
    this.touched(rec);
    return rec;
  }

  applyQuote(u: QuoteUpdate | FullUpdate): TickRecord | null {
    const rec = this.tradeRecord(u);
    if (!rec) return null;
    this.setLtp(rec, u);
    rec.ltq = u.ltq;
    rec.volume = u.volume;
    rec.totalBuyQty = u.totalBuyQty;
    rec.totalSellQty = u.totalSellQty;
    // Written out per field: a helper returning a double would box it on every call.
    const s = rec.priceScale;
    if (u.atp >= 0 && u.atp < Infinity) rec.atp = Math.round(u.atp * s) / s;
    else this.counters.invalidAuxPrice++;
    if (u.open > 0 && u.open < Infinity) rec.open = Math.round(u.open * s) / s;
    else if (u.open !== 0) this.counters.invalidAuxPrice++;
    if (u.high > 0 && u.high < Infinity) rec.high = Math.round(u.high * s) / s;
    else if (u.high !== 0) this.counters.invalidAuxPrice++;
    if (u.low > 0 && u.low < Infinity) rec.low = Math.round(u.low * s) / s;
    else if (u.low !== 0) this.counters.invalidAuxPrice++;
    if (u.close > 0 && u.close < Infinity) rec.close = Math.round(u.close * s) / s;
    else if (u.close !== 0) this.counters.invalidAuxPrice++;
    if (u.type === FeedResponseCode.FULL) this.setFullExtras(rec, u);
    this.touched(rec);
    return rec;
  }

  applyFull(u: FullUpdate): TickRecord | null {
    return this.applyQuote(u);
  }

  applyOi(u: OiUpdate): TickRecord | null {
    const rec = this.record(SEGMENT_CODE[u.segment], u.securityId);
    if (rec.offFeed && !this.backOnFeed(rec)) return null;
    rec.oi = u.oi;
    this.touched(rec);
    return rec;
  }

  applyPrevClose(u: PrevCloseUpdate): TickRecord | null {
    if (!validPrice(u.prevClose)) {
      this.counters.invalidPrice++;
      return null;
    }
    const rec = this.record(SEGMENT_CODE[u.segment], u.securityId);
    if (!validPrice(Math.round(u.prevClose * rec.priceScale))) {
      this.counters.invalidPrice++;
      return null;
    }
    if (rec.offFeed && !this.backOnFeed(rec)) return null;
    rec.prevClose = Math.round(u.prevClose * rec.priceScale) / rec.priceScale;
    rec.prevOi = u.prevOi;
    this.recomputeChange(rec);
    this.touched(rec);
    return rec;
  }

  /**
   * Flags these instruments stale until each gets a fresh packet (a dropped connection's
   * instruments: pass `registry.keysOnConnection(i)`). Returns how many changed.
   */
  markConnectionStale(keys: Iterable<number>): number {
    let n = 0;
    for (const key of keys) {
      const rec = this.records.get(key);
      if (!rec || rec.stale) continue;
      this.flagStale(rec);
      n++;
    }
    return n;
  }

  /**
   * An instrument left the feed (evicted): it is flagged stale (its subscribers get one last
   * update with `stale: true`) and its packets still in flight are dropped until the feed
   * membership (see useFeedMembership) says it is back. Returns false for an unknown key.
   */
  markEvicted(key: number): boolean {
    const rec = this.records.get(key);
    if (!rec) return false;
    rec.offFeed = true;
    rec.jumpLtp = NaN;
    if (!rec.stale) this.flagStale(rec);
    return true;
  }

  /**
   * Applies a REST snapshot taken at `atMs` (epoch ms) unless the feed already has fresh data
   * for the instrument (the feed always wins). Returns the record when applied.
   */
  applyRest(key: number, snap: RestSnapshot, atMs: number): TickRecord | null {
    if (!validPrice(snap.ltp)) {
      this.counters.invalidPrice++;
      return null;
    }
    const rec = this.ensure(key);
    if (rec.hasData && !rec.stale && !rec.fromRest) return null;
    const s = rec.priceScale;
    const price = (x: number | undefined, keep: number): number =>
      x !== undefined && x > 0 && x < Infinity ? Math.round(x * s) / s : keep;
    const count = (x: number | undefined, keep: number): number =>
      x !== undefined && x >= 0 && x < Infinity ? x : keep;
    rec.ltp = Math.round(snap.ltp * s) / s;
    if (snap.ltt !== undefined && snap.ltt > rec.ltt) rec.ltt = snap.ltt;
    rec.ltq = count(snap.ltq, rec.ltq);
    rec.atp = price(snap.atp, rec.atp);
    rec.volume = count(snap.volume, rec.volume);
    rec.totalBuyQty = count(snap.totalBuyQty, rec.totalBuyQty);
    rec.totalSellQty = count(snap.totalSellQty, rec.totalSellQty);
    rec.open = price(snap.open, rec.open);
    rec.high = price(snap.high, rec.high);
    rec.low = price(snap.low, rec.low);
    rec.prevClose = price(snap.prevClose, rec.prevClose);
    rec.oi = count(snap.oi, rec.oi);
    rec.prevOi = count(snap.prevOi, rec.prevOi);
    const upper = price(snap.upperCircuit, NaN);
    const lower = price(snap.lowerCircuit, NaN);
    if (upper === upper && lower === lower && lower < upper) {
      rec.upperCircuit = upper;
      rec.lowerCircuit = lower;
      rec.circuitDate = istDate(atMs);
    }
    if (snap.depth && snap.depth.length > 0) {
      this.setDepth(rec, snap.depth);
    }
    this.recomputeChange(rec);
    rec.jumpLtp = NaN;
    rec.hasData = true;
    rec.fromRest = true;
    rec.stale = false;
    rec.updatedAt = atMs;
    rec.version++;
    if (!rec.dirty) {
      rec.dirty = true;
      this.dirty.push(rec);
    }
    return rec;
  }

  /**
   * A record whose fields the tick relay just overwrote with the leader's state: a visible
   * change (version, dirty list) stamped with this store's clock, so the stale sweep and the
   * fan-out treat it as a packet here would be treated. No checks: the leader made them.
   */
  relayed(rec: TickRecord): void {
    rec.offFeed = false;
    rec.jumpLtp = NaN;
    rec.updatedAt = this.clock;
    rec.version++;
    if (!rec.dirty) {
      rec.dirty = true;
      this.dirty.push(rec);
    }
  }

  /** Flags every instrument stale (a follower cut off from the leader's ticks); returns how many. */
  markAllStale(): number {
    let n = 0;
    for (const rec of this.records.values()) {
      if (rec.stale) continue;
      this.flagStale(rec);
      n++;
    }
    return n;
  }

  /** Marks stale every instrument without a packet for `staleAfterMs`; returns how many. */
  sweepStale(now: number = this.options.now()): number {
    this.sampleClock(now);
    const limit = now - this.options.staleAfterMs;
    let n = 0;
    for (const rec of this.records.values()) {
      if (!rec.stale && rec.updatedAt <= limit) {
        this.flagStale(rec);
        n++;
      }
    }
    return n;
  }

  /**
   * Records changed since the last drain, each once. The array is reused: it is valid until
   * the next call.
   */
  drainDirty(): readonly TickRecord[] {
    this.sampleClock(this.options.now());
    const out = this.dirty;
    this.spare.length = 0;
    this.dirty = this.spare;
    this.spare = out;
    for (let i = 0; i < out.length; i++) out[i].dirty = false;
    if (this.drainListener !== null && out.length > 0) this.drainListener(out);
    return out;
  }

  get dirtyCount(): number {
    return this.dirty.length;
  }

  stats(): TickStoreStats {
    return { instruments: this.records.size, ...this.counters };
  }

  private tradeRecord(u: TickerUpdate | QuoteUpdate | FullUpdate): TickRecord | null {
    if (!(u.ltp > 0 && u.ltp < Infinity)) {
      this.counters.invalidPrice++;
      return null;
    }
    const checks = this.checks;
    if (checks !== null && u.ltt !== 0 && !this.plausibleLtt(u.ltt, checks)) return null;
    const rec = this.record(SEGMENT_CODE[u.segment], u.securityId);
    if (!validPrice(Math.round(u.ltp * rec.priceScale))) {
      // Zero once rounded to paise, or beyond doubles once scaled (a garbled packet).
      this.counters.invalidPrice++;
      return null;
    }
    if (rec.offFeed && !this.backOnFeed(rec)) return null;
    if (u.ltt !== 0 && u.ltt < rec.ltt) {
      if (checks !== null && rec.ltt - u.ltt > checks.maxBehindSeconds) this.counters.lttTooOld++;
      else this.counters.droppedOutOfOrder++;
      return null;
    }
    if (checks !== null && this.heldAsJump(rec, u.ltp, u.ltt, checks)) return null;
    return rec;
  }

  /** LTT not ahead of the clock beyond the tolerance, and not garbage-old. */
  private plausibleLtt(ltt: number, checks: TickChecks): boolean {
    if (ltt < MIN_PLAUSIBLE_LTT) {
      this.counters.lttTooOld++;
      return false;
    }
    const limitMs = (ltt - checks.maxFutureSeconds) * 1000;
    // The clock is sampled per drain; only a suspicious packet reads it again.
    if (limitMs > this.clock && limitMs > this.sampleClock(this.options.now())) {
      this.counters.lttInFuture++;
      return false;
    }
    return true;
  }

  /**
   * The jump rule (docs/MARKET_DATA.md): a move beyond `maxJumpRatio` of the reference (the
   * last good LTP) and beyond `jumpFloor` is held, not applied. The next packet
   * confirms it when its LTP is within `confirmRatio` (or the floor) of the held one and it is
   * not a repeat of it (same LTP and LTT); otherwise it becomes the held jump itself. A packet
   * back within the band of the reference is applied and forgets the held jump.
   */
  private heldAsJump(rec: TickRecord, rawLtp: number, ltt: number, checks: TickChecks): boolean {
    // Tick to tick only (RELIABILITY F8: "in one tick"): the day's first print is measured
    // against nothing, since options often open more than 20 % away from the previous close
    // and an illiquid contract's confirming second print can be minutes away.
    const ref = rec.ltp;
    if (!(ref > 0)) return false;
    const ltp = Math.round(rawLtp * rec.priceScale) / rec.priceScale;
    const move = Math.abs(ltp - ref);
    if (move <= checks.jumpFloor || move <= ref * checks.maxJumpRatio) {
      rec.jumpLtp = NaN;
      return false;
    }
    const held = rec.jumpLtp;
    if (
      held > 0 &&
      Math.abs(ltp - held) <= Math.max(held * checks.confirmRatio, checks.jumpFloor) &&
      !(ltp === held && ltt === rec.jumpLtt)
    ) {
      rec.jumpLtp = NaN;
      this.counters.jumpsConfirmed++;
      return false;
    }
    rec.jumpLtp = ltp;
    rec.jumpLtt = ltt;
    this.counters.priceJump++;
    return true;
  }

  /** For an evicted record: true (and the flag cleared) once the instrument is on the feed again. */
  private backOnFeed(rec: TickRecord): boolean {
    if (this.onFeed === null || this.onFeed(rec.key)) {
      rec.offFeed = false;
      return true;
    }
    this.counters.notOnFeed++;
    return false;
  }

  private sampleClock(now: number): number {
    this.clock = now;
    this.useEpoch = Math.floor(now / USE_EPOCH_MS);
    return now;
  }

  private setLtp(rec: TickRecord, u: TickerUpdate | QuoteUpdate | FullUpdate): void {
    rec.ltp = Math.round(u.ltp * rec.priceScale) / rec.priceScale;
    if (u.ltt !== 0) rec.ltt = u.ltt;
    this.recomputeChange(rec);
  }

  private setFullExtras(rec: TickRecord, u: FullUpdate): void {
    rec.oi = u.oi;
    this.setDepth(rec, u.depth);
  }

  private setDepth(rec: TickRecord, depth: readonly DepthLevelUpdate[]): void {
    const d = rec.depth;
    const s = rec.priceScale;
    const levels = Math.min(depth.length, DEPTH_LEVELS);
    for (let i = 0; i < levels; i++) {
      const l = depth[i];
      const o = i * DEPTH_STRIDE;
      d[o] = l.bidQty;
      d[o + 1] = l.bidOrders;
      d[o + 2] = l.bidPrice >= 0 && l.bidPrice < Infinity ? Math.round(l.bidPrice * s) / s : 0;
      d[o + 3] = l.askQty;
      d[o + 4] = l.askOrders;
      d[o + 5] = l.askPrice >= 0 && l.askPrice < Infinity ? Math.round(l.askPrice * s) / s : 0;
    }
    d.fill(0, levels * DEPTH_STRIDE);
    rec.hasDepth = true;
  }

  private recomputeChange(rec: TickRecord): void {
    if (rec.prevClose > 0 && rec.ltp > 0) {
      const change = rec.ltp - rec.prevClose;
      rec.change = Math.round(change * rec.priceScale) / rec.priceScale;
      rec.changePercent = Math.round((change / rec.prevClose) * 10_000) / 100;
    }
  }

  private touched(rec: TickRecord): void {
    this.counters.applied++;
    rec.hasData = true;
    rec.fromRest = false;
    // Stale until there is a price: an OI or previous-close packet alone is not a quote.
    rec.stale = !(rec.ltp > 0);
    rec.updatedAt = this.clock;
    rec.version++;
    if (!rec.dirty) {
      rec.dirty = true;
      this.dirty.push(rec);
    }
    if (rec.useMark !== this.useEpoch) {
      rec.useMark = this.useEpoch;
      if (this.useListener !== null) this.useListener(rec.key);
    }
  }

  private flagStale(rec: TickRecord): void {
    rec.stale = true;
    rec.version++;
    this.counters.staleMarked++;
    if (!rec.dirty) {
      rec.dirty = true;
      this.dirty.push(rec);
    }
  }
}
