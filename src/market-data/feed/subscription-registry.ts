import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  ExchangeSegment,
  FEED_LIMITS,
  FEED_MODE_RANK,
  FeedMode,
  SEGMENT_CODE,
  instrumentKey,
  isExchangeSegment,
} from '@app/dhan/types';
import { InstrumentKeyMap } from './instrument-key-map';
import { MarketDataError, MarketDataErrorCode } from '../market-data.errors';

/** Why an instrument is streamed. */
export enum ReferenceKind {
  TIER_B = 'TIER_B',
  POSITION = 'POSITION',
  ORDER = 'ORDER',
  CLIENT = 'CLIENT',
  WATCHLIST = 'WATCHLIST',
}

/** Higher wins; an eviction victim must have a strictly lower priority than the newcomer. */
export const REFERENCE_PRIORITY: Readonly<Record<ReferenceKind, number>> = {
  [ReferenceKind.TIER_B]: 4,
  [ReferenceKind.POSITION]: 3,
  [ReferenceKind.ORDER]: 3,
  [ReferenceKind.CLIENT]: 2,
  [ReferenceKind.WATCHLIST]: 1,
};

const KINDS: readonly ReferenceKind[] = Object.values(ReferenceKind);
const KIND_INDEX: Readonly<Record<ReferenceKind, number>> = {
  [ReferenceKind.TIER_B]: 0,
  [ReferenceKind.POSITION]: 1,
  [ReferenceKind.ORDER]: 2,
  [ReferenceKind.CLIENT]: 3,
  [ReferenceKind.WATCHLIST]: 4,
};
const MODES_BY_RANK: readonly FeedMode[] = [FeedMode.TICKER, FeedMode.QUOTE, FeedMode.FULL];

/** What the feed protocol needs to name an instrument. */
export interface FeedInstrument {
  readonly segment: ExchangeSegment;
  readonly securityId: string;
}

/** One reason to stream one instrument. `(segment, securityId, kind, holderId)` identifies it. */
export interface SubscriptionReference extends FeedInstrument {
  readonly kind: ReferenceKind;
  /** Who holds it: a client id, a watchlist id, an order id, an underlying for Tier B... */
  readonly holderId: string;
  readonly mode: FeedMode;
  /** Optional grouping label counted in `stats().byTag` (e.g. the Tier B underlying). */
  readonly tag?: string;
  /**
   * The user the reference counts against for a per-owner quota of its kind (see
   * `RegistryLimits.perOwner`); fixed by the holder's first reference. None: no quota.
   */
  readonly owner?: string;
}

export interface ReferenceHolder {
  readonly kind: ReferenceKind;
  readonly holderId: string;
  readonly mode: FeedMode;
  readonly tag?: string;
}

/**
 * The feed side the registry drives: an adapter over the connection pool. Every call carries
 * at most `perMessage` instruments, all for one connection and one mode.
 */
export interface FeedPort {
  subscribe(connIndex: number, mode: FeedMode, instruments: readonly FeedInstrument[]): void;
  unsubscribe(connIndex: number, mode: FeedMode, instruments: readonly FeedInstrument[]): void;
}

/** A cap on the distinct instruments one owner holds through references of one kind. */
export interface OwnerQuota {
  limit: number;
  /** Named in the refusal (the configuration variable). */
  name: string;
}

export interface RegistryLimits {
  connections: number;
  perConnection: number;
  total: number;
  perMessage: number;
  /** Per-owner quotas by kind; references without an owner are not counted. */
  perOwner?: Partial<Record<ReferenceKind, OwnerQuota>>;
}

export const DEFAULT_REGISTRY_LIMITS: Readonly<RegistryLimits> = {
  connections: FEED_LIMITS.maxConnections,
  perConnection: FEED_LIMITS.maxInstrumentsPerConnection,
  total: FEED_LIMITS.maxInstrumentsTotal,
  perMessage: FEED_LIMITS.maxInstrumentsPerMessage,
};

export const FEED_PORT = Symbol('FEED_PORT');
export const REGISTRY_LIMITS = Symbol('REGISTRY_LIMITS');

export interface EvictedInstrument extends FeedInstrument {
  readonly key: number;
}

/** Told to listeners after the operation that evicted the instrument has been flushed. */
export interface EvictionEvent {
  readonly instrument: EvictedInstrument;
  readonly holders: readonly ReferenceHolder[];
  /** Priority of the request the slot was given to. */
  readonly forPriority: number;
}

export interface AcquireResult {
  /** Instruments newly put on the feed by this call. */
  readonly added: number;
  readonly evicted: readonly EvictionEvent[];
}

export interface ReleaseResult {
  /** References actually removed (unknown ones are ignored). */
  readonly released: number;
  /** Instruments taken off the feed by this call. */
  readonly removed: number;
}

export interface KindCount {
  /** Instruments holding at least one reference of this kind. */
  instruments: number;
  references: number;
}

export interface RegistryStats {
  total: number;
  capacity: number;
  byConnection: number[];
  byMode: Record<FeedMode, number>;
  byKind: Record<ReferenceKind, KindCount>;
  byTag: Record<string, number>;
}

export type ReplaySet = Record<FeedMode, FeedInstrument[]>;

/** One instrument on the feed, as `list()` shows it (a copy: safe to keep). */
export interface RegistryEntryView extends FeedInstrument {
  readonly key: number;
  readonly connIndex: number;
  /** Mode subscribed on the feed. */
  readonly mode: FeedMode;
  /** Highest kind holding it (its eviction priority). */
  readonly priority: ReferenceKind;
  readonly holders: readonly ReferenceHolder[];
}

interface Holder {
  kind: ReferenceKind;
  holderId: string;
  mode: FeedMode;
  tag: string | undefined;
  owner: string | undefined;
}

/** Holders of one instrument. Most have exactly one, so a Map is made only for the second. */
class HolderSet {
  private oneKey: string | null = null;
  private one: Holder | null = null;
  private many: Map<string, Holder> | null = null;

  get size(): number {
    if (this.many) return this.many.size;
    return this.one ? 1 : 0;
  }

  get(k: string): Holder | undefined {
    if (this.many) return this.many.get(k);
    return this.oneKey === k && this.one ? this.one : undefined;
  }

  set(k: string, h: Holder): void {
    if (this.many) {
      this.many.set(k, h);
    } else if (!this.one || this.oneKey === k) {
      this.oneKey = k;
      this.one = h;
    } else {
      this.many = new Map([
        [this.oneKey as string, this.one],
        [k, h],
      ]);
      this.oneKey = null;
      this.one = null;
    }
  }

  delete(k: string): void {
    if (this.many) {
      this.many.delete(k);
    } else if (this.oneKey === k) {
      this.oneKey = null;
      this.one = null;
    }
  }

  /** A fresh array: safe to iterate while removing. */
  values(): Holder[] {
    if (this.many) return [...this.many.values()];
    return this.one ? [this.one] : [];
  }
}

/** Per-instrument state; also a node of its priority level's LRU list. */
class Entry {
  readonly holders = new HolderSet();
  /** Holders per mode rank (index 1..3). */
  readonly modeCounts = [0, 0, 0, 0];
  readonly kindCounts = [0, 0, 0, 0, 0];
  tags: Map<string, number> | null = null;
  /** Mode currently subscribed on the feed; null before the first subscribe message. */
  mode: FeedMode | null = null;
  level = 0;
  /** Last operation that referenced this entry (see SubscriptionRegistry.op). */
  op = 0;
  prev: Entry | null = null;
  next: Entry | null = null;

  constructor(
    readonly key: number,
    readonly ref: FeedInstrument,
    readonly conn: number,
  ) {}

  desiredMode(): FeedMode {
    for (let rank = 3; rank >= 1; rank--) {
      if (this.modeCounts[rank] > 0) return MODES_BY_RANK[rank - 1];
    }
    return FeedMode.TICKER;
  }

  priority(): number {
    const k = this.kindCounts;
    if (k[0] > 0) return 4;
    if (k[1] > 0 || k[2] > 0) return 3;
    if (k[3] > 0) return 2;
    return k[4] > 0 ? 1 : 0;
  }
}

class LruList {
  head: Entry | null = null;
  tail: Entry | null = null;

  append(e: Entry): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail) this.tail.next = e;
    else this.head = e;
    this.tail = e;
  }

  remove(e: Entry): void {
    if (e.prev) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = null;
    e.next = null;
  }
}

/**
 * Subscribe and unsubscribe lists of the running operation, per (connection, mode rank).
 * One instance per registry, emptied by every flush: operations allocate only the messages.
 */
class MessagePlan {
  readonly subs: FeedInstrument[][];
  readonly unsubs: FeedInstrument[][];

  constructor(connections: number) {
    this.subs = Array.from({ length: connections * 4 }, () => []);
    this.unsubs = Array.from({ length: connections * 4 }, () => []);
  }

  subscribe(conn: number, mode: FeedMode, ref: FeedInstrument): void {
    this.subs[conn * 4 + FEED_MODE_RANK[mode]].push(ref);
  }

  unsubscribe(conn: number, mode: FeedMode, ref: FeedInstrument): void {
    this.unsubs[conn * 4 + FEED_MODE_RANK[mode]].push(ref);
  }
}

interface PendingNew {
  ref: SubscriptionReference;
  priority: number;
}

/**
 * Every reason to stream an instrument, and where each streamed instrument sits on the feed.
 *
 * Operations are atomic (validated and capacity-checked before anything changes) and flush
 * their feed messages before returning: unsubscribes first, then subscribes, in chunks of at
 * most `perMessage` per (connection, mode). Placement picks the least-loaded connection; there
 * is no rebalancing after removals (moving an instrument costs two messages and a data gap).
 * An instrument whose priority changes is appended as most recent in its new level.
 */
@Injectable()
export class SubscriptionRegistry {
  private readonly limits: RegistryLimits;
  private readonly capacity: number;
  private readonly entries = new InstrumentKeyMap<Entry>();
  private readonly levels = [
    new LruList(),
    new LruList(),
    new LruList(),
    new LruList(),
    new LruList(),
  ];
  private readonly byHolder = new Map<string, Set<Entry>>();
  private readonly connEntries: Set<Entry>[];
  private readonly kindInstruments = [0, 0, 0, 0, 0];
  private readonly kindReferences = [0, 0, 0, 0, 0];
  private readonly modeInstruments = [0, 0, 0, 0];
  private readonly tagInstruments = new Map<string, number>();
  /** kind + owner -> instrument key -> that owner's holders of that kind on the instrument. */
  private readonly ownerInstruments = new Map<string, Map<number, number>>();
  private readonly evictionListeners: Array<(event: EvictionEvent) => void> = [];
  private changeListener: (() => void) | null = null;
  private readonly plan: MessagePlan;
  /** Sequence of the running operation; entries stamped with it were touched by it. */
  private op = 0;

  constructor(
    @Inject(FEED_PORT) private readonly port: FeedPort,
    @Optional() @Inject(REGISTRY_LIMITS) limits?: Partial<RegistryLimits>,
  ) {
    this.limits = { ...DEFAULT_REGISTRY_LIMITS, ...limits };
    const { connections, perConnection, total, perMessage } = this.limits;
    if (connections < 1 || perConnection < 1 || total < 1 || perMessage < 1) {
      throw new MarketDataError(
        MarketDataErrorCode.INVALID_ARGUMENT,
        'registry limits must be >= 1',
      );
    }
    for (const quota of Object.values(this.limits.perOwner ?? {})) {
      if (!Number.isSafeInteger(quota.limit) || quota.limit < 1) {
        throw new MarketDataError(
          MarketDataErrorCode.INVALID_ARGUMENT,
          `quota ${quota.name} must be >= 1`,
        );
      }
    }
    this.capacity = Math.min(total, connections * perConnection);
    this.connEntries = Array.from({ length: connections }, () => new Set<Entry>());
    this.plan = new MessagePlan(connections);
  }

  /** Registers a listener told about every eviction; returns an unsubscribe function. */
  onEviction(listener: (event: EvictionEvent) => void): () => void {
    this.evictionListeners.push(listener);
    return () => {
      const i = this.evictionListeners.indexOf(listener);
      if (i >= 0) this.evictionListeners.splice(i, 1);
    };
  }

  /**
   * Told after every acquire or release that changed something (the cluster's reference relay
   * republishes this instance's references; REDIS_URL only). One listener; null = none.
   */
  onChange(listener: (() => void) | null): void {
    this.changeListener = listener;
  }

  /**
   * Removes an instrument with every reference to it, as an eviction for a newcomer of
   * `forPriority` would (listeners told the same way): a follower mirrors the leader's
   * eviction of the cluster's union. Returns the event, or null for an unknown key.
   */
  evict(key: number, forPriority: number): EvictionEvent | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    ++this.op;
    const event: EvictionEvent = {
      instrument: { key: entry.key, segment: entry.ref.segment, securityId: entry.ref.securityId },
      holders: entry.holders.values().map(toPublicHolder),
      forPriority,
    };
    this.removeEntry(entry);
    this.flush();
    this.emitEviction(event);
    this.changeListener?.();
    return event;
  }

  /**
   * Adds references (an existing `(instrument, kind, holderId)` gets the new mode and tag).
   * Either all of them are applied or, with `CAPACITY_EXCEEDED` / `INVALID_ARGUMENT`, none.
   */
  acquire(refs: readonly SubscriptionReference[]): AcquireResult {
    const keys = refs.map((ref) => this.validKey(ref));
    this.checkOwnerQuotas(refs, keys);
    const op = ++this.op;
    let incoming: Map<number, PendingNew> | null = null;
    for (let i = 0; i < refs.length; i++) {
      const key = keys[i];
      const existing = this.entries.get(key);
      if (existing) {
        existing.op = op;
        continue;
      }
      incoming ??= new Map();
      const priority = REFERENCE_PRIORITY[refs[i].kind];
      const pending = incoming.get(key);
      if (!pending) incoming.set(key, { ref: refs[i], priority });
      else if (priority > pending.priority) pending.priority = priority;
    }

    const victims = incoming ? this.chooseVictims(incoming, op) : [];
    const evicted: EvictionEvent[] = [];
    for (const { entry, forPriority } of victims) {
      const holders = entry.holders.values().map(toPublicHolder);
      this.removeEntry(entry);
      evicted.push({
        instrument: {
          key: entry.key,
          segment: entry.ref.segment,
          securityId: entry.ref.securityId,
        },
        holders,
        forPriority,
      });
    }

    const changed: Entry[] = [];
    for (let i = 0; i < refs.length; i++) {
      const entry = this.entries.get(keys[i]) ?? this.createEntry(keys[i], refs[i]);
      this.addHolder(entry, refs[i]);
      if (entry.op !== -op) {
        entry.op = -op;
        changed.push(entry);
      }
    }
    for (const entry of changed) {
      this.syncMode(entry);
      this.relevel(entry, true);
    }
    this.flush();
    for (const event of evicted) this.emitEviction(event);
    this.changeListener?.();
    return { added: incoming ? incoming.size : 0, evicted };
  }

  /** Removes references; unknown ones are ignored. An instrument with none left leaves the feed. */
  release(refs: readonly SubscriptionReference[]): ReleaseResult {
    const keys = refs.map((ref) => this.validKey(ref));
    const op = ++this.op;
    const changed: Entry[] = [];
    let released = 0;
    let removed = 0;
    for (let i = 0; i < refs.length; i++) {
      const entry = this.entries.get(keys[i]);
      if (!entry) continue;
      const holder = entry.holders.get(holderKey(refs[i].kind, refs[i].holderId));
      if (!holder) continue;
      this.removeHolder(entry, holder);
      released++;
      if (entry.holders.size === 0) {
        this.removeEntry(entry);
        removed++;
      } else if (entry.op !== op) {
        entry.op = op;
        changed.push(entry);
      }
    }
    for (const entry of changed) {
      if (!this.entries.has(entry.key)) continue;
      this.syncMode(entry);
      this.relevel(entry, false);
    }
    this.flush();
    if (released > 0) this.changeListener?.();
    return { released, removed };
  }

  /** Releases every reference one holder has (a client leaving, a watchlist deleted...). */
  releaseHolder(kind: ReferenceKind, holderId: string): ReleaseResult {
    const entries = this.byHolder.get(holderKey(kind, holderId));
    if (!entries) return { released: 0, removed: 0 };
    const refs: SubscriptionReference[] = [];
    for (const entry of entries) {
      const holder = entry.holders.get(holderKey(kind, holderId));
      if (holder) refs.push({ ...entry.ref, kind, holderId, mode: holder.mode });
    }
    return this.release(refs);
  }

  /**
   * Marks an instrument as recently used. Acquiring touches it; MarketDataService also calls
   * this when its packets arrive (at most once per instrument per second, see TickStore.onUse),
   * so eviction picks the instrument idle the longest. Unknown keys are ignored.
   */
  touch(key: number): void {
    const entry = this.entries.get(key);
    if (!entry || entry.level === 0) return;
    const list = this.levels[entry.level];
    if (list.tail === entry) return;
    list.remove(entry);
    list.append(entry);
  }

  has(key: number): boolean {
    return this.entries.has(key);
  }

  /** Whether this holder has a reference to the instrument (gone after an eviction). */
  hasHolder(key: number, kind: ReferenceKind, holderId: string): boolean {
    return this.entries.get(key)?.holders.get(holderKey(kind, holderId)) !== undefined;
  }

  /** Where and how an instrument is streamed, or undefined when it is not on the feed. */
  placement(key: number): { connIndex: number; mode: FeedMode } | undefined {
    const entry = this.entries.get(key);
    if (!entry || entry.mode === null) return undefined;
    return { connIndex: entry.conn, mode: entry.mode };
  }

  holdersOf(key: number): ReferenceHolder[] {
    const entry = this.entries.get(key);
    return entry ? entry.holders.values().map(toPublicHolder) : [];
  }

  /**
   * Every instrument on the feed (optionally only those holding a reference of `kind`), by
   * connection then key. Builds a copy: meant for admin queries, not the tick path.
   */
  list(kind?: ReferenceKind): RegistryEntryView[] {
    const k = kind === undefined ? -1 : KIND_INDEX[kind];
    const out: RegistryEntryView[] = [];
    for (let conn = 0; conn < this.connEntries.length; conn++) {
      const rows: RegistryEntryView[] = [];
      for (const e of this.connEntries[conn]) {
        if (e.mode === null || (k >= 0 && e.kindCounts[k] === 0)) continue;
        rows.push({
          key: e.key,
          segment: e.ref.segment,
          securityId: e.ref.securityId,
          connIndex: conn,
          mode: e.mode,
          priority: KINDS[e.kindCounts.findIndex((n) => n > 0)],
          holders: e.holders.values().map(toPublicHolder),
        });
      }
      rows.sort((a, b) => a.key - b.key);
      out.push(...rows);
    }
    return out;
  }

  /** What connection `connIndex` must be subscribed to, per mode (replayed after a reconnect). */
  replaySet(connIndex: number): ReplaySet {
    const out: ReplaySet = { [FeedMode.TICKER]: [], [FeedMode.QUOTE]: [], [FeedMode.FULL]: [] };
    const set = this.connEntries[connIndex];
    if (!set) return out;
    for (const entry of set) if (entry.mode !== null) out[entry.mode].push(entry.ref);
    return out;
  }

  /** Calls `fn` with every instrument on the feed (no array built: 25,000 of them at most). */
  forEachOnFeed(fn: (key: number) => void): void {
    for (const set of this.connEntries) for (const entry of set) fn(entry.key);
  }

  /** Instrument keys placed on one connection (e.g. to mark them stale when it drops). */
  keysOnConnection(connIndex: number): number[] {
    const set = this.connEntries[connIndex];
    return set ? [...set].map((e) => e.key) : [];
  }

  /** Distinct instruments one owner holds through references of `kind`. */
  ownerUsage(kind: ReferenceKind, owner: string): number {
    return this.ownerInstruments.get(holderKey(kind, owner))?.size ?? 0;
  }

  stats(): RegistryStats {
    const byKind = {} as Record<ReferenceKind, KindCount>;
    for (const kind of KINDS) {
      const i = KIND_INDEX[kind];
      byKind[kind] = { instruments: this.kindInstruments[i], references: this.kindReferences[i] };
    }
    return {
      total: this.entries.size,
      capacity: this.capacity,
      byConnection: this.connEntries.map((s) => s.size),
      byMode: {
        [FeedMode.TICKER]: this.modeInstruments[1],
        [FeedMode.QUOTE]: this.modeInstruments[2],
        [FeedMode.FULL]: this.modeInstruments[3],
      },
      byKind,
      byTag: Object.fromEntries(this.tagInstruments),
    };
  }

  /**
   * Throws CAPACITY_EXCEEDED, naming the quota and the numbers, when `refs` would take an owner
   * past its quota of distinct instruments for a kind; checked before anything changes.
   */
  private checkOwnerQuotas(refs: readonly SubscriptionReference[], keys: readonly number[]): void {
    const quotas = this.limits.perOwner;
    if (!quotas) return;
    let added: Map<string, Set<number>> | null = null;
    for (let i = 0; i < refs.length; i++) {
      const { kind, owner } = refs[i];
      if (owner === undefined || !quotas[kind]) continue;
      const ok = holderKey(kind, owner);
      if (this.ownerInstruments.get(ok)?.has(keys[i])) continue;
      added ??= new Map();
      let set = added.get(ok);
      if (!set) {
        set = new Set();
        added.set(ok, set);
      }
      set.add(keys[i]);
    }
    if (!added) return;
    for (const [ok, set] of added) {
      const kind = ok.slice(0, ok.indexOf('\u0000')) as ReferenceKind;
      const { limit, name } = quotas[kind]!;
      const used = this.ownerInstruments.get(ok)?.size ?? 0;
      if (used + set.size <= limit) continue;
      throw new MarketDataError(
        MarketDataErrorCode.CAPACITY_EXCEEDED,
        `quota ${name} exceeded: a user may hold at most ${limit} distinct ${kind} instruments ` +
          `on the feed; you hold ${used} and this change adds ${set.size} more`,
        { quota: name, limit, used, requested: set.size },
      );
    }
  }

  private validKey(ref: SubscriptionReference): number {
    if (!isExchangeSegment(ref.segment)) {
      throw invalid(`unknown exchange segment ${String(ref.segment)}`);
    }
    if (!/^\d{1,10}$/.test(ref.securityId) || Number(ref.securityId) > 0xffff_ffff) {
      throw invalid(`security id must be a uint32 in decimal, got ${String(ref.securityId)}`);
    }
    if (!(ref.kind in REFERENCE_PRIORITY)) throw invalid(`unknown reference kind ${ref.kind}`);
    if (!(ref.mode in FEED_MODE_RANK)) throw invalid(`unknown feed mode ${ref.mode}`);
    if (typeof ref.holderId !== 'string' || ref.holderId.length === 0) {
      throw invalid('holderId must be a non-empty string');
    }
    if (ref.owner !== undefined && (typeof ref.owner !== 'string' || ref.owner.length === 0)) {
      throw invalid('owner must be a non-empty string when given');
    }
    return instrumentKey(SEGMENT_CODE[ref.segment], Number(ref.securityId));
  }

  /**
   * Picks the least recently used instruments of the lowest priorities to make room, or throws
   * CAPACITY_EXCEEDED. Greedy is optimal: the lowest victims matched against the highest
   * newcomers, both sorted ascending, must each be strictly lower.
   */
  private chooseVictims(
    incoming: Map<number, PendingNew>,
    op: number,
  ): Array<{ entry: Entry; forPriority: number }> {
    const needed = this.entries.size + incoming.size - this.capacity;
    if (needed <= 0) return [];
    const newcomers = [...incoming.values()].map((p) => p.priority).sort((a, b) => b - a);
    const strongest = newcomers.slice(0, needed).reverse();
    const victims: Entry[] = [];
    for (let level = 1; level < strongest[needed - 1] && victims.length < needed; level++) {
      for (let e = this.levels[level].head; e && victims.length < needed; e = e.next) {
        if (e.op !== op) victims.push(e);
      }
    }
    const fits = victims.length === needed && victims.every((v, i) => v.level < strongest[i]);
    if (!fits) {
      throw new MarketDataError(
        MarketDataErrorCode.CAPACITY_EXCEEDED,
        `feed capacity ${this.capacity} reached and ${needed} instrument(s) of lower priority cannot be evicted`,
        {
          capacity: this.capacity,
          requested: incoming.size,
          free: this.capacity - this.entries.size,
        },
      );
    }
    return victims.map((entry, i) => ({ entry, forPriority: strongest[i] }));
  }

  private createEntry(key: number, ref: SubscriptionReference): Entry {
    let conn = 0;
    for (let i = 1; i < this.connEntries.length; i++) {
      if (this.connEntries[i].size < this.connEntries[conn].size) conn = i;
    }
    const entry = new Entry(key, { segment: ref.segment, securityId: ref.securityId }, conn);
    this.entries.set(key, entry);
    this.connEntries[conn].add(entry);
    return entry;
  }

  private addHolder(entry: Entry, ref: SubscriptionReference): void {
    const hk = holderKey(ref.kind, ref.holderId);
    const existing = entry.holders.get(hk);
    if (existing) {
      entry.modeCounts[FEED_MODE_RANK[existing.mode]]--;
      entry.modeCounts[FEED_MODE_RANK[ref.mode]]++;
      existing.mode = ref.mode;
      if (existing.tag !== ref.tag) {
        this.untag(entry, existing.tag);
        this.tag(entry, ref.tag);
        existing.tag = ref.tag;
      }
      return;
    }
    entry.holders.set(hk, {
      kind: ref.kind,
      holderId: ref.holderId,
      mode: ref.mode,
      tag: ref.tag,
      owner: ref.owner,
    });
    if (ref.owner !== undefined) this.countOwner(ref.kind, ref.owner, entry.key, 1);
    entry.modeCounts[FEED_MODE_RANK[ref.mode]]++;
    const k = KIND_INDEX[ref.kind];
    if (entry.kindCounts[k]++ === 0) this.kindInstruments[k]++;
    this.kindReferences[k]++;
    this.tag(entry, ref.tag);
    let set = this.byHolder.get(hk);
    if (!set) {
      set = new Set();
      this.byHolder.set(hk, set);
    }
    set.add(entry);
  }

  private removeHolder(entry: Entry, holder: Holder): void {
    const hk = holderKey(holder.kind, holder.holderId);
    entry.holders.delete(hk);
    entry.modeCounts[FEED_MODE_RANK[holder.mode]]--;
    const k = KIND_INDEX[holder.kind];
    if (--entry.kindCounts[k] === 0) this.kindInstruments[k]--;
    this.kindReferences[k]--;
    this.untag(entry, holder.tag);
    if (holder.owner !== undefined) this.countOwner(holder.kind, holder.owner, entry.key, -1);
    const set = this.byHolder.get(hk);
    if (set) {
      set.delete(entry);
      if (set.size === 0) this.byHolder.delete(hk);
    }
  }

  private removeEntry(entry: Entry): void {
    for (const holder of entry.holders.values()) this.removeHolder(entry, holder);
    if (entry.level !== 0) this.levels[entry.level].remove(entry);
    entry.level = 0;
    if (entry.mode !== null) {
      this.plan.unsubscribe(entry.conn, entry.mode, entry.ref);
      this.modeInstruments[FEED_MODE_RANK[entry.mode]]--;
      entry.mode = null;
    }
    this.connEntries[entry.conn].delete(entry);
    this.entries.delete(entry.key);
  }

  private syncMode(entry: Entry): void {
    const desired = entry.desiredMode();
    if (entry.mode === desired) return;
    if (entry.mode !== null) {
      this.plan.unsubscribe(entry.conn, entry.mode, entry.ref);
      this.modeInstruments[FEED_MODE_RANK[entry.mode]]--;
    }
    this.plan.subscribe(entry.conn, desired, entry.ref);
    this.modeInstruments[FEED_MODE_RANK[desired]]++;
    entry.mode = desired;
  }

  /** Puts the entry in its priority's LRU list; `touch` makes it the most recent there. */
  private relevel(entry: Entry, touch: boolean): void {
    const level = entry.priority();
    if (level === entry.level && !touch) return;
    if (entry.level !== 0) this.levels[entry.level].remove(entry);
    entry.level = level;
    this.levels[level].append(entry);
  }

  private countOwner(kind: ReferenceKind, owner: string, key: number, delta: 1 | -1): void {
    const ok = holderKey(kind, owner);
    let held = this.ownerInstruments.get(ok);
    if (!held) {
      if (delta < 0) return;
      held = new Map();
      this.ownerInstruments.set(ok, held);
    }
    const n = (held.get(key) ?? 0) + delta;
    if (n > 0) held.set(key, n);
    else held.delete(key);
    if (held.size === 0) this.ownerInstruments.delete(ok);
  }

  private tag(entry: Entry, tag: string | undefined): void {
    if (tag === undefined) return;
    entry.tags ??= new Map();
    const n = entry.tags.get(tag) ?? 0;
    entry.tags.set(tag, n + 1);
    if (n === 0) this.tagInstruments.set(tag, (this.tagInstruments.get(tag) ?? 0) + 1);
  }

  private untag(entry: Entry, tag: string | undefined): void {
    if (tag === undefined || !entry.tags) return;
    const n = entry.tags.get(tag) ?? 0;
    if (n > 1) {
      entry.tags.set(tag, n - 1);
      return;
    }
    entry.tags.delete(tag);
    const total = (this.tagInstruments.get(tag) ?? 1) - 1;
    if (total === 0) this.tagInstruments.delete(tag);
    else this.tagInstruments.set(tag, total);
  }

  /** Sends the running operation's messages, unsubscribes first, and empties the plan. */
  private flush(): void {
    const per = this.limits.perMessage;
    const send = (lists: FeedInstrument[][], subscribe: boolean) => {
      for (let slot = 0; slot < lists.length; slot++) {
        const list = lists[slot];
        if (list.length === 0) continue;
        const conn = slot >> 2;
        const mode = MODES_BY_RANK[(slot & 3) - 1];
        lists[slot] = [];
        for (let i = 0; i < list.length; i += per) {
          const chunk = list.length <= per ? list : list.slice(i, i + per);
          if (subscribe) this.port.subscribe(conn, mode, chunk);
          else this.port.unsubscribe(conn, mode, chunk);
        }
      }
    };
    try {
      send(this.plan.unsubs, false);
      send(this.plan.subs, true);
    } finally {
      // A throwing port must not leak this operation's messages into the next one.
      for (const lists of [this.plan.unsubs, this.plan.subs]) {
        for (let slot = 0; slot < lists.length; slot++) {
          if (lists[slot].length > 0) lists[slot] = [];
        }
      }
    }
  }

  private emitEviction(event: EvictionEvent): void {
    for (const listener of [...this.evictionListeners]) listener(event);
  }
}

function holderKey(kind: ReferenceKind, holderId: string): string {
  return `${kind}\u0000${holderId}`;
}

function toPublicHolder(h: Holder): ReferenceHolder {
  return h.tag === undefined
    ? { kind: h.kind, holderId: h.holderId, mode: h.mode }
    : { kind: h.kind, holderId: h.holderId, mode: h.mode, tag: h.tag };
}

function invalid(message: string): MarketDataError {
  return new MarketDataError(MarketDataErrorCode.INVALID_ARGUMENT, message);
}
