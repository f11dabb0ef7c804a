import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { DateTime } from 'luxon';
import { ExchangeSegment } from '@app/dhan/types';
import { Clock } from '../common/clock';
import {
  DEFAULT_HOLIDAYS_DIR,
  ExchangeHolidays,
  Holiday,
  HolidayYear,
  loadHolidayDirectory,
} from './holiday-data';
import {
  CalendarDateInput,
  Exchange,
  MarketPhase,
  PreOpenScope,
  SEGMENT_EXCHANGE,
  TradingSession,
} from './market-calendar.types';

export const IST_ZONE = 'Asia/Kolkata';
const US_DST_ZONE = 'America/New_York';

export interface MarketCalendarOptions {
  /** Directory holding nse.json, bse.json and mcx.json; defaults to the shipped files. */
  holidaysDir?: string;
}
export const MARKET_CALENDAR_OPTIONS = Symbol('MARKET_CALENDAR_OPTIONS');

/** Minutes after IST midnight. */
type Minute = number;
const hm = (h: number, m: number): Minute => h * 60 + m;

interface SegmentHours {
  preOpen: { start: Minute; scope: PreOpenScope } | null;
  open: Minute;
  /** `null`: MCX, whose close follows US daylight saving. */
  close: Minute | null;
  postCloseEnd: Minute | null;
}

const EQUITY: SegmentHours = {
  preOpen: { start: hm(9, 0), scope: 'ALL' },
  open: hm(9, 15),
  close: hm(15, 30),
  // covers the 15:40-16:00 closing-price session (DhanHQ v2: market hours)
  postCloseEnd: hm(16, 0),
};
const FNO: SegmentHours = {
  preOpen: { start: hm(9, 0), scope: 'FUTURES_ONLY' },
  open: hm(9, 15),
  close: hm(15, 30),
  postCloseEnd: null,
};
const CURRENCY: SegmentHours = {
  preOpen: null,
  open: hm(9, 0),
  close: hm(17, 0),
  postCloseEnd: null,
};
const MCX: SegmentHours = { preOpen: null, open: hm(9, 0), close: null, postCloseEnd: null };

const SEGMENT_HOURS: Readonly<Record<ExchangeSegment, SegmentHours>> = {
  [ExchangeSegment.IDX_I]: EQUITY,
  [ExchangeSegment.NSE_EQ]: EQUITY,
  [ExchangeSegment.BSE_EQ]: EQUITY,
  [ExchangeSegment.NSE_FNO]: FNO,
  [ExchangeSegment.BSE_FNO]: FNO,
  [ExchangeSegment.NSE_CURRENCY]: CURRENCY,
  [ExchangeSegment.BSE_CURRENCY]: CURRENCY,
  [ExchangeSegment.MCX_COMM]: MCX,
};

const MCX_EVENING_START = hm(17, 0);
const MCX_CLOSE_US_DST = hm(23, 30);
const MCX_CLOSE_STANDARD = hm(23, 55);
/** Longest run of non-trading days searched before giving up (holiday lists never come close). */
const MAX_SCAN_DAYS = 31;

/**
 * Indian exchange sessions and trading holidays, in Asia/Kolkata.
 * Holidays come from JSON files (see `holidays/`), validated at construction; a bad file throws
 * `HolidayDataError`. Years without a file entry are treated as weekends-only and logged once.
 * NSE_CURRENCY/BSE_CURRENCY use the exchange's equity holiday list.
 */
@Injectable()
export class MarketCalendar {
  private readonly logger = new Logger(MarketCalendar.name);
  private readonly holidays: Map<Exchange, ExchangeHolidays>;
  private readonly holidayIndex = new Map<Exchange, Map<string, Holiday>>();
  private readonly specialDays = new Map<Exchange, Set<string>>();
  private readonly warnedYears = new Set<string>();

  constructor(
    private readonly clock: Clock,
    @Optional() @Inject(MARKET_CALENDAR_OPTIONS) options?: MarketCalendarOptions,
  ) {
    const dir = options?.holidaysDir ?? process.env.HOLIDAYS_DIR ?? DEFAULT_HOLIDAYS_DIR;
    this.holidays = loadHolidayDirectory(dir);
    for (const [exchange, data] of this.holidays) {
      const byDate = new Map<string, Holiday>();
      const special = new Set<string>();
      for (const year of data.years.values()) {
        for (const holiday of year.holidays) byDate.set(holiday.date, holiday);
        for (const day of year.specialTradingDays) special.add(day.date);
        if (year.provisional) {
          this.logger.warn(`${exchange} holidays for ${year.year} are provisional`);
        }
      }
      this.holidayIndex.set(exchange, byDate);
      this.specialDays.set(exchange, special);
    }
  }

  /** IST calendar date (`YYYY-MM-DD`) of an instant, default now. */
  tradingDate(at: Date = this.clock.now()): string {
    return DateTime.fromJSDate(at, { zone: IST_ZONE }).toISODate() as string;
  }

  exchangeOf(segment: ExchangeSegment): Exchange {
    return SEGMENT_EXCHANGE[segment];
  }

  /** The holiday entry for that date, if any (weekends are not holidays). */
  holiday(exchange: Exchange, date: CalendarDateInput): Holiday | null {
    return this.holidayIndex.get(exchange)?.get(this.toIsoDate(date)) ?? null;
  }

  /** The loaded year, or undefined when the file has no list for it. */
  holidayYear(exchange: Exchange, year: number): HolidayYear | undefined {
    return this.holidays.get(exchange)?.years.get(year);
  }

  /**
   * True when the exchange holds any session that day. For MCX an exchange holiday with the
   * evening session open counts as a trading day.
   */
  isTradingDay(exchange: Exchange, date: CalendarDateInput): boolean {
    return this.dayKind(exchange, this.toIsoDate(date)) !== 'CLOSED';
  }

  /** The segment's session on that IST date, or null on a weekend or holiday. */
  session(segment: ExchangeSegment, date: CalendarDateInput): TradingSession | null {
    const exchange = SEGMENT_EXCHANGE[segment];
    const iso = this.toIsoDate(date);
    const kind = this.dayKind(exchange, iso);
    if (kind === 'CLOSED') return null;
    const hours = SEGMENT_HOURS[segment];
    const day = DateTime.fromISO(iso, { zone: IST_ZONE });
    const at = (minute: Minute): Date => day.plus({ minutes: minute }).toJSDate();
    const eveningOnly = kind === 'EVENING_ONLY';
    const closeMinute = hours.close ?? this.mcxCloseMinute(iso);
    return {
      segment,
      exchange,
      tradingDate: iso,
      preOpen:
        hours.preOpen && !eveningOnly
          ? { start: at(hours.preOpen.start), end: at(hours.open), scope: hours.preOpen.scope }
          : null,
      open: at(eveningOnly ? MCX_EVENING_START : hours.open),
      close: at(kind === 'MORNING_ONLY' ? MCX_EVENING_START : closeMinute),
      postCloseEnd: hours.postCloseEnd === null ? null : at(hours.postCloseEnd),
      eveningOnly,
    };
  }

  closeTime(segment: ExchangeSegment, date: CalendarDateInput): Date | null {
    return this.session(segment, date)?.close ?? null;
  }

  phase(segment: ExchangeSegment, at: Date = this.clock.now()): MarketPhase {
    const session = this.session(segment, at);
    if (!session) return MarketPhase.CLOSED;
    const t = at.getTime();
    if (session.preOpen && t >= session.preOpen.start.getTime() && t < session.open.getTime()) {
      return MarketPhase.PRE_OPEN;
    }
    if (t >= session.open.getTime() && t < session.close.getTime()) return MarketPhase.OPEN;
    if (
      session.postCloseEnd &&
      t >= session.close.getTime() &&
      t < session.postCloseEnd.getTime()
    ) {
      return MarketPhase.POST_CLOSE;
    }
    return MarketPhase.CLOSED;
  }

  /** Normal trading (open <= at < close); pre-open and post-close are not "open". */
  isOpen(segment: ExchangeSegment, at: Date = this.clock.now()): boolean {
    return this.phase(segment, at) === MarketPhase.OPEN;
  }

  /**
   * Whether ticks are expected, for the feed watchdog: the normal session, plus pre-open when
   * `includePreOpen` (pre-open quotes are sparse, so a watchdog should not expect them by default).
   */
  isMarketHours(
    segment: ExchangeSegment,
    at: Date = this.clock.now(),
    options: { includePreOpen?: boolean } = {},
  ): boolean {
    const phase = this.phase(segment, at);
    return (
      phase === MarketPhase.OPEN ||
      (options.includePreOpen === true && phase === MarketPhase.PRE_OPEN)
    );
  }

  /** The first normal-session open strictly after `after` (today's if still ahead), or null. */
  nextOpen(segment: ExchangeSegment, after: Date = this.clock.now()): Date | null {
    let day = DateTime.fromJSDate(after, { zone: IST_ZONE }).startOf('day');
    for (let i = 0; i <= MAX_SCAN_DAYS; i++, day = day.plus({ days: 1 })) {
      const session = this.session(segment, day.toISODate() as string);
      if (session && session.open.getTime() > after.getTime()) return session.open;
    }
    return null;
  }

  /** The last trading day strictly before `date` (`YYYY-MM-DD`). */
  previousTradingDay(exchange: Exchange, date: CalendarDateInput): string {
    let day = DateTime.fromISO(this.toIsoDate(date), { zone: IST_ZONE });
    for (let i = 0; i < MAX_SCAN_DAYS; i++) {
      day = day.minus({ days: 1 });
      const iso = day.toISODate() as string;
      if (this.isTradingDay(exchange, iso)) return iso;
    }
    throw new RangeError(
      `no ${exchange} trading day in the ${MAX_SCAN_DAYS} days before ${this.toIsoDate(date)}`,
    );
  }

  /** The first trading day strictly after `date` (`YYYY-MM-DD`). */
  nextTradingDay(exchange: Exchange, date: CalendarDateInput): string {
    let day = DateTime.fromISO(this.toIsoDate(date), { zone: IST_ZONE });
    for (let i = 0; i < MAX_SCAN_DAYS; i++) {
      day = day.plus({ days: 1 });
      const iso = day.toISODate() as string;
      if (this.isTradingDay(exchange, iso)) return iso;
    }
    throw new RangeError(
      `no ${exchange} trading day in the ${MAX_SCAN_DAYS} days after ${this.toIsoDate(date)}`,
    );
  }

  /**
   * An expiry falling on a non-trading day moves to the previous trading day (exchange
   * practice, DhanHQ v2: market hours); a trading day is returned unchanged.
   */
  adjustExpiry(exchange: Exchange, date: CalendarDateInput): string {
    const iso = this.toIsoDate(date);
    return this.isTradingDay(exchange, iso) ? iso : this.previousTradingDay(exchange, iso);
  }

  /** True while US daylight saving is in effect on that date (read in New York at noon). */
  isUsDaylightSaving(date: CalendarDateInput): boolean {
    const { year, month, day } = DateTime.fromISO(this.toIsoDate(date), { zone: IST_ZONE });
    return DateTime.fromObject({ year, month, day, hour: 12 }, { zone: US_DST_ZONE }).isInDST;
  }

  private mcxCloseMinute(iso: string): Minute {
    return this.isUsDaylightSaving(iso) ? MCX_CLOSE_US_DST : MCX_CLOSE_STANDARD;
  }

  private dayKind(
    exchange: Exchange,
    iso: string,
  ): 'FULL' | 'EVENING_ONLY' | 'MORNING_ONLY' | 'CLOSED' {
    const day = DateTime.fromISO(iso, { zone: IST_ZONE });
    this.warnIfUncovered(exchange, day.year);
    if (day.weekday >= 6) return this.specialDays.get(exchange)?.has(iso) ? 'FULL' : 'CLOSED';
    const holiday = this.holidayIndex.get(exchange)?.get(iso);
    if (!holiday) return 'FULL';
    if (holiday.morning === 'closed' && holiday.evening === 'open') return 'EVENING_ONLY';
    if (holiday.morning === 'open' && holiday.evening === 'closed') return 'MORNING_ONLY';
    return 'CLOSED';
  }

  private warnIfUncovered(exchange: Exchange, year: number): void {
    const key = `${exchange}:${year}`;
    if (this.warnedYears.has(key) || this.holidays.get(exchange)?.years.has(year)) return;
    this.warnedYears.add(key);
    this.logger.warn(
      `no ${exchange} holiday list for ${year}: only weekends are treated as closed`,
    );
  }

  private toIsoDate(date: CalendarDateInput): string {
    if (date instanceof Date) return this.tradingDate(date);
    const parsed = DateTime.fromISO(date, { zone: IST_ZONE });
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !parsed.isValid) {
      throw new RangeError(`not a calendar date (YYYY-MM-DD): ${JSON.stringify(date)}`);
    }
    return date;
  }
}
