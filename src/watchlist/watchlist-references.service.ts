import { FeedMode, type ExchangeSegment, type Instrument } from '@app/dhan';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { InstrumentsService } from '../instruments/instruments.service';
import { MarketDataService, toDomainError } from '../market-data/market-data.service';
import {
  ReferenceKind,
  type SubscriptionReference,
} from '../market-data/feed/subscription-registry';
import { atmIndex, spotOf } from '../market-data/chains/tier-b';
import { WatchlistEntity } from './entities/watchlist.entity';
import { WatchlistItemEntity } from './entities/watchlist-item.entity';
import { WATCHLIST_OPTIONS, type WatchlistOptions } from './watchlist.options';
import type { WatchlistItemKey } from './watchlist.events';

/** Feed mode of watchlist instruments: LTP, OHLC and volume, as a watchlist row shows. */
export const WATCHLIST_FEED_MODE = FeedMode.QUOTE;

export interface WatchlistHolderKey {
  userId: string;
  watchlistId: string;
  segment: string;
  securityId: string;
}

/** One holder per (user, watchlist, item): references are counted across users and lists. */
export function watchlistHolderId(k: WatchlistHolderKey): string {
  return `${k.userId}/${k.watchlistId}/${k.segment}:${k.securityId}`;
}

/** The user of a holder id made by watchlistHolderId. */
export function ownerOfHolder(holderId: string): string {
  const end = holderId.indexOf('/');
  return end > 0 ? holderId.slice(0, end) : holderId;
}

/** References acquired for a change not yet committed: `commit()` or `rollback()` exactly once. */
export interface StagedReferences {
  readonly holderId: string;
  readonly references: readonly SubscriptionReference[];
  /** After the DB commit: drops what the holder had before and no longer needs. */
  commit(): void;
  /** After a failed DB change: drops what this stage added; the holder keeps its old set. */
  rollback(): void;
}

export interface RestoreReport {
  items: number;
  references: number;
  /** Items whose instrument left the master or that did not fit the feed. */
  failed: number;
}

const refKey = (r: SubscriptionReference) => `${r.segment}:${r.securityId}`;

/**
 * Tier A: the WATCHLIST references of saved watchlist items. Keeps what each holder holds so
 * end of day can release by segment and a changed item can swap its set without a gap.
 */
@Injectable()
export class WatchlistReferences {
  private readonly logger = new Logger(WatchlistReferences.name);
  private readonly held = new Map<string, SubscriptionReference[]>();

  constructor(
    private readonly marketData: MarketDataService,
    private readonly instruments: InstrumentsService,
    @InjectRepository(WatchlistEntity) private readonly lists: Repository<WatchlistEntity>,
    @InjectRepository(WatchlistItemEntity) private readonly items: Repository<WatchlistItemEntity>,
    @Inject(WATCHLIST_OPTIONS) private readonly options: WatchlistOptions,
  ) {}

  /** The underlying name an instrument is the base of (IDX_I index, MCX near future, equity). */
  underlyingNameOf(instrument: Instrument): string | undefined {
    for (const name of [instrument.symbol, instrument.underlying]) {
      if (!name || !this.instruments.isUnderlying(name)) continue;
      const base = this.instruments.underlyingOf(name);
      if (
        base &&
        base.segment === instrument.segment &&
        base.securityId === instrument.securityId
      ) {
        return name;
      }
    }
    return undefined;
  }

  /**
   * The option contracts an `includeOptionChain` item streams: CE and PE of the strikes around
   * ATM for the nearest expiries. ATM from the live spot, else the previous close, else the
   * middle listed strike (no price yet); not re-centred while the item is held.
   */
  chainContracts(underlying: Instrument, name: string): Instrument[] {
    const rec = this.marketData.record(underlying.segment, underlying.securityId);
    const spot = spotOf(rec);
    const each = this.options.chainStrikesEachSide;
    const out: Instrument[] = [];
    for (const expiry of this.instruments.expiries(name).slice(0, this.options.chainExpiries)) {
      const contracts = this.instruments.chain(name, expiry);
      const strikes = [...new Set(contracts.map((c) => c.strike!))].sort((a, b) => a - b);
      if (strikes.length === 0) continue;
      const atm = spot === undefined ? strikes.length >> 1 : atmIndex(strikes, spot);
      const chosen = new Set(strikes.slice(Math.max(0, atm - each), atm + each + 1));
      const seen = new Set<string>();
      for (const c of contracts) {
        const k = `${c.strike}:${c.optionType}`;
        if (!chosen.has(c.strike!) || seen.has(k)) continue;
        seen.add(k);
        out.push(c);
      }
    }
    return out;
  }

  referencesFor(holderId: string, instrument: Instrument, includeOptionChain: boolean) {
    const ref = (i: { segment: ExchangeSegment; securityId: string }): SubscriptionReference => ({
      segment: i.segment,
      securityId: i.securityId,
      kind: ReferenceKind.WATCHLIST,
      holderId,
      mode: WATCHLIST_FEED_MODE,
      // Counted against the user's MAX_WATCHLIST_INSTRUMENTS_PER_USER.
      owner: ownerOfHolder(holderId),
    });
    const refs = [ref(instrument)];
    if (includeOptionChain) {
      const name = this.underlyingNameOf(instrument);
      if (name) for (const c of this.chainContracts(instrument, name)) refs.push(ref(c));
    }
    return refs;
  }

  /** Acquires all of `refs` or nothing (DomainError CAPACITY_EXCEEDED when the feed is full). */
  stage(holderId: string, refs: SubscriptionReference[]): StagedReferences {
    try {
      this.marketData.acquire(refs);
    } catch (e) {
      throw toDomainError(e);
    }
    const previous = this.held.get(holderId) ?? [];
    let done = false;
    const once = () => {
      if (done) throw new Error('staged references already settled');
      done = true;
    };
    return {
      holderId,
      references: refs,
      commit: () => {
        once();
        const keep = new Set(refs.map(refKey));
        const drop = previous.filter((r) => !keep.has(refKey(r)));
        if (drop.length > 0) this.marketData.release(drop);
        this.held.set(holderId, refs);
      },
      rollback: () => {
        once();
        const had = new Set(previous.map(refKey));
        const added = refs.filter((r) => !had.has(refKey(r)));
        if (added.length > 0) this.marketData.release(added);
      },
    };
  }

  /** Drops every reference of these holders (items removed, a watchlist deleted). */
  releaseHolders(holderIds: readonly string[]): number {
    let released = 0;
    for (const id of holderIds) {
      this.held.delete(id);
      released += this.marketData.releaseHolder(ReferenceKind.WATCHLIST, id).released;
    }
    return released;
  }

  /**
   * Items another instance added or changed (REDIS_URL): held here too, as stored, so that every
   * instance holds the same Tier A set (each restored every watchlist at boot) and the items
   * stay on the feed when that instance goes. An item no longer stored is released.
   */
  async adopt(
    userId: string,
    watchlistId: string,
    keys: readonly WatchlistItemKey[],
  ): Promise<void> {
    for (const key of keys) {
      const holderId = watchlistHolderId({ userId, watchlistId, ...key });
      const item = await this.items.findOne({
        where: { watchlistId, segment: key.segment, securityId: key.securityId },
      });
      const instrument = item && this.instruments.get(key.segment, key.securityId);
      if (!item || !instrument) {
        this.releaseHolders([holderId]);
        continue;
      }
      try {
        this.stage(
          holderId,
          this.referencesFor(holderId, instrument, item.includeOptionChain),
        ).commit();
      } catch (e) {
        this.logger.warn({
          msg: "another instance's watchlist item not held here",
          holderId,
          err: e,
        });
      }
    }
  }

  /** References currently held for watchlists (by this process). */
  heldCount(): number {
    let n = 0;
    for (const refs of this.held.values()) n += refs.length;
    return n;
  }

  /**
   * Acquires the references of every saved watchlist item (boot, start of day). Waits for the
   * instrument master; items that no longer resolve or do not fit are counted and skipped.
   */
  async restoreAll(): Promise<RestoreReport> {
    await this.instruments.ready();
    const lists = await this.lists.find();
    const owner = new Map(lists.map((l) => [l.id, l.userId]));
    const items = await this.items.find({ order: { createdAt: 'ASC' } });
    const report: RestoreReport = { items: 0, references: 0, failed: 0 };
    for (const item of items) {
      const userId = owner.get(item.watchlistId);
      if (userId === undefined) continue;
      report.items++;
      const instrument = this.instruments.get(item.segment as ExchangeSegment, item.securityId);
      if (!instrument) {
        report.failed++;
        continue;
      }
      const holderId = watchlistHolderId({ userId, ...item });
      try {
        const staged = this.stage(
          holderId,
          this.referencesFor(holderId, instrument, item.includeOptionChain),
        );
        staged.commit();
        report.references += staged.references.length;
      } catch (e) {
        report.failed++;
        this.logger.warn({ msg: 'watchlist item not restored', holderId, err: e });
      }
    }
    return report;
  }

  /**
   * End of day: releases the WATCHLIST references on these segments (an index item's chain on
   * NSE_FNO goes only when NSE_FNO is listed). Idempotent; returns the references released.
   */
  releaseSegments(segments: readonly ExchangeSegment[]): number {
    const set = new Set<string>(segments);
    let released = 0;
    for (const [holderId, refs] of this.held) {
      const drop = refs.filter((r) => set.has(r.segment));
      if (drop.length === 0) continue;
      released += this.marketData.release(drop).released;
      const keep = refs.filter((r) => !set.has(r.segment));
      if (keep.length > 0) this.held.set(holderId, keep);
      else this.held.delete(holderId);
    }
    return released;
  }
}
