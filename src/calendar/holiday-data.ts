import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { Exchange } from './market-calendar.types';

export type SessionState = 'open' | 'closed';

export interface Holiday {
  date: string;
  name: string;
  /** MCX only: the day session (from 09:00). Always `closed` for NSE and BSE. */
  morning: SessionState;
  /** MCX only: the evening session (from 17:00). Always `closed` for NSE and BSE. */
  evening: SessionState;
}

/** A weekend date on which the exchange holds a normal session (e.g. a budget-day Sunday). */
export interface SpecialTradingDay {
  date: string;
  name: string;
}

export interface HolidayYear {
  year: number;
  /** True while the exchange has not published this year's list (dates are estimates). */
  provisional: boolean;
  holidays: Holiday[];
  specialTradingDays: SpecialTradingDay[];
}

export interface ExchangeHolidays {
  exchange: Exchange;
  years: ReadonlyMap<number, HolidayYear>;
}

export class HolidayDataError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`Holiday file ${file}: ${detail}`);
    this.name = 'HolidayDataError';
  }
}

export const HOLIDAY_FILE: Readonly<Record<Exchange, string>> = {
  [Exchange.NSE]: 'nse.json',
  [Exchange.BSE]: 'bse.json',
  [Exchange.MCX]: 'mcx.json',
};

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isWeekend(date: string): boolean {
  return DateTime.fromISO(date, { zone: 'Asia/Kolkata' }).weekday >= 6;
}

/**
 * Validates one exchange's holiday document. Shape:
 * `{ exchange, years: { "2026": { provisional, holidays: [{ date, name, morning?, evening? }],
 * specialTradingDays?: [{ date, name }] } } }`; dates are ISO, inside their year, strictly
 * ascending. `morning`/`evening` are required for MCX and not allowed elsewhere.
 */
export function parseHolidayDocument(
  raw: unknown,
  expected: Exchange,
  file: string,
): ExchangeHolidays {
  const fail = (detail: string): never => {
    throw new HolidayDataError(file, detail);
  };
  if (!isRecord(raw)) return fail('top level must be an object');
  if (raw.exchange !== expected) {
    return fail(`"exchange" must be "${expected}", found ${JSON.stringify(raw.exchange)}`);
  }
  if (!isRecord(raw.years)) return fail('"years" must be an object keyed by year');

  const years = new Map<number, HolidayYear>();
  for (const [key, value] of Object.entries(raw.years)) {
    if (!/^\d{4}$/.test(key)) fail(`year key "${key}" is not a four-digit year`);
    const year = Number(key);
    const where = `years.${key}`;
    if (!isRecord(value)) return fail(`${where} must be an object`);
    if (typeof value.provisional !== 'boolean') {
      fail(`${where}.provisional must be true or false`);
    }
    if (!Array.isArray(value.holidays)) return fail(`${where}.holidays must be an array`);

    const dateOf = (entry: unknown, at: string): { date: string; name: string } => {
      if (!isRecord(entry)) return fail(`${at} must be an object`);
      const { date, name } = entry;
      if (typeof date !== 'string' || !ISO_DATE.test(date)) {
        return fail(`${at}.date must be YYYY-MM-DD, found ${JSON.stringify(date)}`);
      }
      const parsed = DateTime.fromISO(date, { zone: 'Asia/Kolkata' });
      if (!parsed.isValid) return fail(`${at}.date ${date} is not a calendar date`);
      if (parsed.year !== year) return fail(`${at}.date ${date} is not in ${year}`);
      if (typeof name !== 'string' || name.trim() === '') return fail(`${at}.name is missing`);
      return { date, name };
    };
    const ascending = (dates: string[], at: string): void => {
      for (let i = 1; i < dates.length; i++) {
        if (dates[i] <= dates[i - 1]) {
          fail(`${at} must be sorted with no duplicates: ${dates[i]} follows ${dates[i - 1]}`);
        }
      }
    };

    const holidays = value.holidays.map((entry, i): Holiday => {
      const at = `${where}.holidays[${i}]`;
      const { date, name } = dateOf(entry, at);
      const record = entry as Record<string, unknown>;
      if (expected !== Exchange.MCX) {
        if ('morning' in record || 'evening' in record) {
          fail(`${at}: morning/evening sessions are only modelled for MCX`);
        }
        return { date, name, morning: 'closed', evening: 'closed' };
      }
      const state = (field: 'morning' | 'evening'): SessionState => {
        const v = record[field];
        if (v !== 'open' && v !== 'closed') {
          return fail(`${at}.${field} must be "open" or "closed", found ${JSON.stringify(v)}`);
        }
        return v;
      };
      const morning = state('morning');
      const evening = state('evening');
      if (morning === 'open' && evening === 'open') {
        fail(`${at}: a holiday with both sessions open is not a holiday`);
      }
      return { date, name, morning, evening };
    });
    ascending(
      holidays.map((h) => h.date),
      `${where}.holidays`,
    );

    const specialRaw = value.specialTradingDays ?? [];
    if (!Array.isArray(specialRaw)) return fail(`${where}.specialTradingDays must be an array`);
    const holidayDates = new Set(holidays.map((h) => h.date));
    const specialTradingDays = specialRaw.map((entry, i): SpecialTradingDay => {
      const at = `${where}.specialTradingDays[${i}]`;
      const day = dateOf(entry, at);
      if (!isWeekend(day.date)) fail(`${at}.date ${day.date} is not a Saturday or Sunday`);
      if (holidayDates.has(day.date)) fail(`${at}.date ${day.date} is also listed as a holiday`);
      return day;
    });
    ascending(
      specialTradingDays.map((d) => d.date),
      `${where}.specialTradingDays`,
    );

    years.set(year, {
      year,
      provisional: value.provisional as boolean,
      holidays,
      specialTradingDays,
    });
  }
  return { exchange: expected, years };
}

/** Reads and validates `<dir>/<exchange>.json`; any problem is a `HolidayDataError` naming the file. */
export function loadHolidayFile(dir: string, exchange: Exchange): ExchangeHolidays {
  const file = join(dir, HOLIDAY_FILE[exchange]);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new HolidayDataError(file, `cannot be read (${(error as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new HolidayDataError(file, `is not valid JSON (${(error as Error).message})`);
  }
  return parseHolidayDocument(raw, exchange, file);
}

export function loadHolidayDirectory(dir: string): Map<Exchange, ExchangeHolidays> {
  const all = new Map<Exchange, ExchangeHolidays>();
  for (const exchange of Object.values(Exchange)) {
    all.set(exchange, loadHolidayFile(dir, exchange));
  }
  return all;
}

/** Where the shipped files live: beside this module in `src/` and, via nest-cli assets, in `dist/`. */
export const DEFAULT_HOLIDAYS_DIR = join(__dirname, 'holidays');
