import { randomUUID } from 'node:crypto';
import { ExchangeSegment } from '@app/dhan';
import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { InstrumentsService } from '../instruments/instruments.service';
import { MarketDataService } from '../market-data/market-data.service';
import { TierBService } from '../market-data/chains/tier-b.service';
import { WatchlistReferences } from '../watchlist/watchlist-references.service';
import { Clock } from '../common/clock';
import { MarketCalendar } from '../calendar/market-calendar';
import { Exchange } from '../calendar/market-calendar.types';
import { DayCycleRunEntity } from './entities/day-cycle-run.entity';
import { DAY_CYCLE_DONE, type DayCycleDoneEvent } from './day-cycle.events';
import { PortfolioService } from '../execution/portfolio.service';
import { INTRADAY_SQUARE_OFF, OrdersService, type DayEndReport } from '../orders/orders.service';
import type { ProductType } from '../trading/order-vocabulary';

export type ExchangeGroup = 'NSE_BSE' | 'MCX';
export type DayCycleKind = 'EOD' | 'SOD' | 'SQOFF';
export type DayCycleOutcome = 'DONE' | 'SKIPPED' | 'NOOP';

/** Segments whose watchlist (Tier A) references end of day releases, per exchange group. */
export const EOD_SEGMENTS: Readonly<Record<ExchangeGroup, readonly ExchangeSegment[]>> = {
  NSE_BSE: [
    ExchangeSegment.IDX_I,
    ExchangeSegment.NSE_EQ,
    ExchangeSegment.NSE_FNO,
    ExchangeSegment.NSE_CURRENCY,
    ExchangeSegment.BSE_EQ,
    ExchangeSegment.BSE_FNO,
    ExchangeSegment.BSE_CURRENCY,
  ],
  MCX: [ExchangeSegment.MCX_COMM],
};

const GROUP_EXCHANGES: Readonly<Record<ExchangeGroup, readonly Exchange[]>> = {
  NSE_BSE: [Exchange.NSE, Exchange.BSE],
  MCX: [Exchange.MCX],
};

/** References per kind (WATCHLIST, TIER_B, CLIENT, ...). */
export type ReferenceCounts = Record<string, number>;

export interface DayCycleReport {
  id: string;
  kind: DayCycleKind;
  group: ExchangeGroup | 'ALL';
  tradingDate: string;
  outcome: DayCycleOutcome;
  /** Why it was skipped or a no-op. */
  reason?: string;
  released: number;
  before: ReferenceCounts;
  after: ReferenceCounts;
  durationMs: number;
  /** End of day: working DAY orders cancelled at the broker, ended as lost, left working. */
  orders?: DayEndReport;
}

export interface SquareOffReport extends DayCycleReport {
  /** Working INTRADAY/CO/BO orders cancelled first. */
  cancelled: DayEndReport;
  /** Square-off orders placed (one per open position), and those refused. */
  placed: number;
  failed: number;
}

/** Products squared off before the close. */
export const INTRADAY_PRODUCTS: ReadonlySet<string> = new Set(['INTRADAY', 'CO', 'BO']);

export interface StartOfDayReport extends DayCycleReport {
  instruments: { accepted: boolean; count: number; reason?: string | null };
  restored: { items: number; references: number; failed: number };
  /** CNC/MARGIN positions carried forward with the previous close as reference. */
  carried: number;
}

export interface RunOptions {
  /** Runs even on a non-trading day or when it already ran for that date. */
  force?: boolean;
  /** The instant the run is for (default: the clock's now); its IST date is the trading date. */
  at?: Date;
}

/**
 * The day boundary. Before the close (INTRADAY_SQUARE_OFF_MINUTES) intraday positions are
 * squared off through ordinary orders; at the close DAY orders still working are cancelled at
 * the broker and the group's watchlist references are released so the feed carries only what
 * still trades; start of day refreshes the master, restores them and carries CNC/MARGIN
 * positions forward with the previous close as reference. Tier B and position/order references
 * are never touched here.
 */
@Injectable()
export class DayCycleService {
  private readonly logger = new Logger(DayCycleService.name);
  /** One run at a time: EOD and SOD both reshape the reference set. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly calendar: MarketCalendar,
    private readonly clock: Clock,
    private readonly marketData: MarketDataService,
    private readonly watchlists: WatchlistReferences,
    private readonly instruments: InstrumentsService,
    private readonly tierB: TierBService,
    private readonly orders: OrdersService,
    private readonly portfolio: PortfolioService,
    @InjectRepository(DayCycleRunEntity) private readonly runs: Repository<DayCycleRunEntity>,
    private readonly events: EventEmitter2,
  ) {}

  referenceCounts(): ReferenceCounts {
    const out: ReferenceCounts = {};
    for (const row of this.marketData.feedStatus().byTier) out[row.name] = row.references;
    return out;
  }

  isTradingDay(group: ExchangeGroup, date: string): boolean {
    return GROUP_EXCHANGES[group].some((e) => this.calendar.isTradingDay(e, date));
  }

  runEndOfDay(group: ExchangeGroup, options: RunOptions = {}): Promise<DayCycleReport> {
    return this.serial(() => this.endOfDay(group, options));
  }

  /**
   * Before the close: working INTRADAY/CO/BO orders of the group are cancelled, then each open
   * INTRADAY/CO/BO position is closed by an ordinary MARKET order tagged INTRADAY_SQUARE_OFF.
   */
  runSquareOff(group: ExchangeGroup, options: RunOptions = {}): Promise<SquareOffReport> {
    return this.serial(() => this.squareOff(group, options));
  }

  runStartOfDay(options: RunOptions = {}): Promise<StartOfDayReport> {
    return this.serial(() => this.startOfDay(options));
  }

  /** The stored report rows, newest first. */
  history(limit = 50): Promise<DayCycleRunEntity[]> {
    return this.runs.find({ order: { startedAt: 'DESC' }, take: limit });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.chain.catch(() => undefined).then(task);
    this.chain = next;
    return next;
  }

  private async endOfDay(group: ExchangeGroup, options: RunOptions): Promise<DayCycleReport> {
    const started = this.clock.now();
    const tradingDate = this.calendar.tradingDate(options.at ?? started);
    const before = this.referenceCounts();
    const base = { kind: 'EOD' as const, group, tradingDate, before, released: 0 };
    if (!options.force && !this.isTradingDay(group, tradingDate)) {
      return this.record(base, started, 'SKIPPED', 'not a trading day');
    }
    if (!options.force && (await this.alreadyDone('EOD', group, tradingDate))) {
      return this.record(base, started, 'NOOP', 'already ran for this trading date');
    }
    const orders = await this.orders.endDayOrders(EOD_SEGMENTS[group]);
    const released = this.watchlists.releaseSegments(EOD_SEGMENTS[group]);
    this.logger.log({ msg: 'end of day', group, tradingDate, released, orders });
    const report = await this.record({ ...base, released }, started, 'DONE');
    this.done({ kind: 'EOD', group, tradingDate });
    return { ...report, orders };
  }

  private async squareOff(group: ExchangeGroup, options: RunOptions): Promise<SquareOffReport> {
    const started = this.clock.now();
    const tradingDate = this.calendar.tradingDate(options.at ?? started);
    const before = this.referenceCounts();
    const base = { kind: 'SQOFF' as const, group, tradingDate, before, released: 0 };
    const none = { cancelled: { cancelled: 0, ended: 0, left: 0 }, placed: 0, failed: 0 };
    if (!options.force && !this.isTradingDay(group, tradingDate)) {
      return { ...(await this.record(base, started, 'SKIPPED', 'not a trading day')), ...none };
    }
    if (!options.force && (await this.alreadyDone('SQOFF', group, tradingDate))) {
      return {
        ...(await this.record(base, started, 'NOOP', 'already ran for this trading date')),
        ...none,
      };
    }
    const segments = EOD_SEGMENTS[group];
    const cancelled = await this.orders.cancelWorking(segments, INTRADAY_PRODUCTS, {
      cause: 'square-off',
      tag: INTRADAY_SQUARE_OFF,
    });
    let placed = 0;
    let failed = 0;
    for (const { key, view } of this.portfolio.openPositions()) {
      if (!segments.includes(key.segment) || !INTRADAY_PRODUCTS.has(key.productType)) continue;
      try {
        const order = await this.orders.squareOff(
          {
            userId: key.userId,
            segment: key.segment,
            securityId: key.securityId,
            productType: key.productType as ProductType,
            netQuantity: view.netQuantity,
          },
          tradingDate,
          INTRADAY_SQUARE_OFF,
        );
        if (order.status === 'REJECTED') {
          failed++;
          this.logger.error({
            msg: 'square-off order refused',
            orderId: order.id,
            reason: order.rejectionReason,
          });
        } else placed++;
      } catch (e) {
        failed++;
        this.logger.error({ msg: 'square-off order failed', userId: key.userId, err: e });
      }
    }
    this.logger.log({ msg: 'intraday square-off', group, tradingDate, cancelled, placed, failed });
    return { ...(await this.record(base, started, 'DONE')), cancelled, placed, failed };
  }

  private async startOfDay(options: RunOptions): Promise<StartOfDayReport> {
    const started = this.clock.now();
    const tradingDate = this.calendar.tradingDate(options.at ?? started);
    const before = this.referenceCounts();
    const base = { kind: 'SOD' as const, group: 'ALL' as const, tradingDate, before, released: 0 };
    const none = {
      instruments: { accepted: false, count: 0, reason: null },
      restored: { items: 0, references: 0, failed: 0 },
      carried: 0,
    };
    const anyTrading =
      this.isTradingDay('NSE_BSE', tradingDate) || this.isTradingDay('MCX', tradingDate);
    if (!options.force && !anyTrading) {
      return { ...(await this.record(base, started, 'SKIPPED', 'not a trading day')), ...none };
    }
    if (!options.force && (await this.alreadyDone('SOD', 'ALL', tradingDate))) {
      return {
        ...(await this.record(base, started, 'NOOP', 'already ran for this trading date')),
        ...none,
      };
    }
    const reload = await this.instruments.reload();
    // A refused or unchanged file emits no reload event; pin again so Tier B follows the day
    // (only when Tier B is active: it has a selection once enabled and started).
    if (this.tierB.current() !== null) await this.tierB.schedule();
    const restored = await this.watchlists.restoreAll();
    const carried = await this.portfolio.startDay(tradingDate);
    this.logger.log({
      msg: 'start of day',
      tradingDate,
      accepted: reload.accepted,
      restored,
      carried,
    });
    const report = await this.record(base, started, 'DONE');
    this.done({ kind: 'SOD', tradingDate });
    return {
      ...report,
      instruments: { accepted: reload.accepted, count: reload.count, reason: reload.reason },
      restored,
      carried,
    };
  }

  /** Other instances follow the run (DayCycleRelay, REDIS_URL). */
  private done(event: DayCycleDoneEvent): void {
    this.events.emit(DAY_CYCLE_DONE, event);
  }

  private async alreadyDone(kind: DayCycleKind, group: string, date: string): Promise<boolean> {
    return (await this.runs.countBy({ doneKey: doneKey(kind, group, date) })) > 0;
  }

  private async record(
    base: Pick<DayCycleReport, 'kind' | 'group' | 'tradingDate' | 'before' | 'released'>,
    started: Date,
    outcome: DayCycleOutcome,
    reason?: string,
  ): Promise<DayCycleReport> {
    const after = this.referenceCounts();
    const durationMs = Math.max(0, this.clock.now().getTime() - started.getTime());
    const id = randomUUID();
    await this.runs.insert({
      id,
      kind: base.kind,
      group: base.group,
      tradingDate: base.tradingDate,
      startedAt: started,
      durationMs,
      countsBefore: JSON.stringify(base.before),
      countsAfter: JSON.stringify(after),
      outcome,
      // A forced rerun of a done date is recorded as its own run, not as the date's DONE row.
      doneKey:
        outcome === 'DONE' && !(await this.alreadyDone(base.kind, base.group, base.tradingDate))
          ? doneKey(base.kind, base.group, base.tradingDate)
          : null,
    });
    return { id, ...base, outcome, reason, after, durationMs };
  }
}

function doneKey(kind: DayCycleKind, group: string, date: string): string {
  return `${kind}:${group}:${date}`;
}
