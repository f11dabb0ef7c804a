import { ExchangeSegment } from '@app/dhan';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config';
import { Cron } from '@nestjs/schedule';
import { LeadershipService, standaloneLeadership } from '../cluster/leadership.service';
import { Clock } from '../common/clock';
import { IST_ZONE, MarketCalendar } from '../calendar/market-calendar';
import { DayCycleService, type ExchangeGroup } from './day-cycle.service';

/** Cron expressions (IST) of the day-cycle handlers. */
export const DAY_CYCLE_CRON = {
  nseBseEndOfDay: '0 30 15 * * 1-5',
  mcxEndOfDayEarly: '0 30 23 * * 1-5',
  mcxEndOfDayLate: '0 55 23 * * 1-5',
  startOfDay: '0 45 8 * * 1-5',
  /** Every minute on weekdays: acts at each group's close minus INTRADAY_SQUARE_OFF_MINUTES. */
  squareOff: '0 * * * * 1-5',
} as const;

/** A segment per group whose session gives the group's close (NSE/BSE equity, MCX). */
const CLOSE_SEGMENT: Readonly<Record<ExchangeGroup, ExchangeSegment>> = {
  NSE_BSE: ExchangeSegment.NSE_EQ,
  MCX: ExchangeSegment.MCX_COMM,
};

/** Minutes after IST midnight of the two MCX closes (US daylight saving or not). */
const MCX_EARLY_CLOSE = 23 * 60 + 30;
const MCX_LATE_CLOSE = 23 * 60 + 55;

/**
 * Thin cron handlers: each only checks that this instance leads (fenced: with several instances
 * the leader alone runs the day cycle), calls DayCycleService and logs what it did or why not.
 */
@Injectable()
export class DayCycleScheduler {
  private readonly logger = new Logger(DayCycleScheduler.name);
  private readonly leadership: LeadershipService;

  constructor(
    private readonly dayCycle: DayCycleService,
    private readonly calendar: MarketCalendar,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: ResolvedAppConfig,
    @Optional() leadership?: LeadershipService,
  ) {
    this.leadership = leadership ?? standaloneLeadership();
  }

  @Cron(DAY_CYCLE_CRON.squareOff, { name: 'intraday-square-off', timeZone: 'Asia/Kolkata' })
  async squareOffTick(): Promise<void> {
    const now = this.clock.now();
    if (
      !(['NSE_BSE', 'MCX'] as const).some((g) => this.isSquareOffMinute(g, now)) ||
      !(await this.leads('square-off'))
    ) {
      return;
    }
    for (const group of ['NSE_BSE', 'MCX'] as const) {
      if (!this.isSquareOffMinute(group, now)) continue;
      try {
        const r = await this.dayCycle.runSquareOff(group);
        this.logger.log({ msg: 'square-off run', group, outcome: r.outcome, placed: r.placed });
      } catch (e) {
        this.logger.error({ msg: 'square-off failed', group, err: e });
      }
    }
  }

  /** Whether `at` is the group's close today minus the configured lead, to the minute. */
  isSquareOffMinute(group: ExchangeGroup, at: Date): boolean {
    const today = this.calendar.tradingDate(at);
    const close = this.calendar.closeTime(CLOSE_SEGMENT[group], today);
    if (close === null) return false;
    const lead = this.config.execution.squareOffMinutesBeforeClose;
    return istMinute(close) - lead === istMinute(at);
  }

  @Cron(DAY_CYCLE_CRON.nseBseEndOfDay, { name: 'eod-nse-bse', timeZone: 'Asia/Kolkata' })
  nseBseEndOfDay(): Promise<void> {
    return this.endOfDay('NSE_BSE');
  }

  @Cron(DAY_CYCLE_CRON.mcxEndOfDayEarly, { name: 'eod-mcx-2330', timeZone: 'Asia/Kolkata' })
  mcxEndOfDayEarly(): Promise<void> {
    return this.mcxEndOfDay(MCX_EARLY_CLOSE);
  }

  @Cron(DAY_CYCLE_CRON.mcxEndOfDayLate, { name: 'eod-mcx-2355', timeZone: 'Asia/Kolkata' })
  mcxEndOfDayLate(): Promise<void> {
    return this.mcxEndOfDay(MCX_LATE_CLOSE);
  }

  @Cron(DAY_CYCLE_CRON.startOfDay, { name: 'sod', timeZone: 'Asia/Kolkata' })
  async startOfDay(): Promise<void> {
    if (!(await this.leads('start of day'))) return;
    try {
      const r = await this.dayCycle.runStartOfDay();
      this.logger.log({ msg: 'start of day run', outcome: r.outcome, tradingDate: r.tradingDate });
    } catch (e) {
      this.logger.error({ msg: 'start of day failed', err: e });
    }
  }

  /** Both MCX crons fire every weekday; only the one at today's actual close acts. */
  private async mcxEndOfDay(closeMinute: number): Promise<void> {
    const today = this.calendar.tradingDate(this.clock.now());
    const close = this.calendar.closeTime(ExchangeSegment.MCX_COMM, today);
    if (close === null || istMinute(close) !== closeMinute) return;
    await this.endOfDay('MCX');
  }

  /** The fencing check: false (and logged) on a follower or a leader that was replaced. */
  private async leads(job: string): Promise<boolean> {
    if (await this.leadership.confirm()) return true;
    this.logger.log({ msg: 'day-cycle job left to the leader instance', job });
    return false;
  }

  private async endOfDay(group: ExchangeGroup): Promise<void> {
    if (!(await this.leads(`end of day ${group}`))) return;
    try {
      const r = await this.dayCycle.runEndOfDay(group);
      this.logger.log({ msg: 'end of day run', group, outcome: r.outcome, released: r.released });
    } catch (e) {
      this.logger.error({ msg: 'end of day failed', group, err: e });
    }
  }
}

function istMinute(at: Date): number {
  const [h, m] = new Intl.DateTimeFormat('en-GB', {
    timeZone: IST_ZONE,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  })
    .format(at)
    .split(':')
    .map(Number);
  return h * 60 + m;
}
