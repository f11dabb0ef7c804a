import { SEGMENT_CODE, instrumentKey, type Instrument } from '@app/dhan';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { INSTRUMENTS_RELOADED } from '../../instruments/instruments.events';
import { InstrumentsService } from '../../instruments/instruments.service';
import { MarketCalendar } from '../../calendar/market-calendar';
import { MARKET_DATA_OPTIONS, type MarketDataOptions } from '../market-data.options';
import {
  ReferenceKind,
  SubscriptionRegistry,
  type SubscriptionReference,
} from '../feed/subscription-registry';
import { TickStore } from '../ticks/tick-store';
import {
  DEFAULT_TIER_B_CONFIG,
  listedStrikes,
  selectTierB,
  spotOf,
  tierBReferences,
  underlyingsToRecentre,
  type TierBConfig,
  type TierBSelection,
} from './tier-b';

const POLL_MS = 100;

/** Event on the Nest EventEmitter2 after each Tier B selection was pinned. */
export const TIER_B_PINNED = 'market-data.tier-b.pinned';

export interface TierBPinnedEvent {
  counts: Record<string, number>;
  /** ATM strike of each pinned chain, per underlying name (nearest expiry first). */
  atm: Record<string, number[]>;
}

/**
 * Pins the Tier B set as TIER_B references: at boot (once the instrument master is loaded) and
 * after every reload. Underlyings are pinned first and their first price awaited (bounded by
 * `spotWaitMs`), then the chains are chosen around ATM; a timer re-centres an underlying whose
 * price moved more than `recentreAfterStrikes` listed strikes (never checked per tick).
 */
@Injectable()
export class TierBService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TierBService.name);
  private readonly config: TierBConfig;
  private selection: TierBSelection | null = null;
  private pinned: SubscriptionReference[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private destroyed = false;
  private readonly ready: Promise<void>;
  private markReady!: () => void;

  constructor(
    private readonly instruments: InstrumentsService,
    private readonly registry: SubscriptionRegistry,
    private readonly store: TickStore,
    private readonly calendar: MarketCalendar,
    private readonly events: EventEmitter2,
    @Inject(MARKET_DATA_OPTIONS) private readonly options: MarketDataOptions,
  ) {
    this.config = { ...DEFAULT_TIER_B_CONFIG, ...options.tierB.config };
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  onApplicationBootstrap(): void {
    if (!this.options.tierB.enabled) {
      this.markReady();
      return;
    }
    void this.instruments.ready().then(() => this.schedule());
    this.timer = setInterval(() => this.recheck(), this.options.tierB.recheckMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.destroyed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  @OnEvent(INSTRUMENTS_RELOADED)
  onReloaded(): void {
    if (this.options.tierB.enabled && this.selection) void this.schedule();
  }

  /** Resolves once the first selection was pinned (or Tier B is disabled). */
  whenPinned(): Promise<void> {
    return this.ready;
  }

  current(): TierBSelection | null {
    return this.selection;
  }

  /** Runs selections one at a time. */
  schedule(): Promise<void> {
    this.running = this.running
      .then(() => this.pin())
      .catch((e: unknown) => this.logger.error({ msg: 'Tier B selection failed', err: e }));
    return this.running;
  }

  /** Price per underlying name, from the tick store (LTP, else previous close). */
  private spots(selection: TierBSelection): Map<string, number> {
    const spots = new Map<string, number>();
    for (const u of selection.underlyings) {
      const i = u.underlying;
      const spot = spotOf(
        this.store.get(instrumentKey(SEGMENT_CODE[i.segment], Number(i.securityId))),
      );
      if (spot !== undefined) spots.set(u.name, spot);
    }
    return spots;
  }

  private async pin(): Promise<void> {
    if (this.destroyed) return;
    const all = this.instruments.all();
    const today = this.calendar.tradingDate();
    const config = this.config;
    // Underlyings first: their prices centre the chains.
    const bases = selectTierB({ instruments: all, spots: {}, today, config });
    const baseRefs = bases.underlyings.map((u) => this.ref(u.underlying, u.name));
    this.registry.acquire(baseRefs);
    this.selection ??= bases;
    await this.waitForSpots(bases);
    const selection = selectTierB({ instruments: all, spots: this.spots(bases), today, config });
    const refs = tierBReferences(selection, config.mode);
    this.registry.acquire(refs);
    const id = (r: SubscriptionReference) => `${r.segment}:${r.securityId}:${r.holderId}`;
    const keep = new Set(refs.map(id));
    const stale = [...this.pinned, ...baseRefs].filter((r) => !keep.has(id(r)));
    if (stale.length > 0) this.registry.release(stale);
    this.pinned = refs;
    this.selection = selection;
    this.logger.log({ msg: 'Tier B pinned', counts: selection.counts, missing: selection.missing });
    this.markReady();
    const event: TierBPinnedEvent = {
      counts: selection.counts,
      atm: Object.fromEntries(
        selection.underlyings.map((u) => [u.name, u.chains.map((c) => c.atmStrike)]),
      ),
    };
    this.events.emit(TIER_B_PINNED, event);
  }

  private ref(instrument: Instrument, tag: string): SubscriptionReference {
    return {
      segment: instrument.segment,
      securityId: instrument.securityId,
      kind: ReferenceKind.TIER_B,
      holderId: tag,
      mode: this.config.mode,
      tag,
    };
  }

  private async waitForSpots(selection: TierBSelection): Promise<void> {
    const deadline = Date.now() + this.options.tierB.spotWaitMs;
    const names = selection.underlyings.map((u) => u.name);
    while (!this.destroyed && Date.now() < deadline) {
      const spots = this.spots(selection);
      if (names.every((n) => spots.has(n))) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS).unref());
    }
  }

  private recheck(): void {
    const selection = this.selection;
    if (!selection || this.destroyed) return;
    const all = this.instruments.all();
    const moved = underlyingsToRecentre(
      selection,
      this.spots(selection),
      (name, expiry) => listedStrikes(all, name, expiry),
      this.config.recentreAfterStrikes,
    );
    if (moved.length > 0) {
      this.logger.log({ msg: 'Tier B re-centring', underlyings: moved });
      void this.schedule();
    }
  }
}
