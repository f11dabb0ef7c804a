/**
 * Date arithmetic on IST calendar dates, written as `YYYY-MM-DD`. Dates are handled as UTC
 * midnights so that no host time zone leaks in.
 */
export const IST_OFFSET_MS = 19_800_000;
const DAY_MS = 86_400_000;

export const MONTHS = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
] as const;

export const TUESDAY = 2;
export const THURSDAY = 4;

export interface CalendarDate {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
}

export function istDate(epochMs: number): string {
  return new Date(epochMs + IST_OFFSET_MS).toISOString().slice(0, 10);
}

export function parseDate(date: string): CalendarDate {
  return {
    year: Number(date.slice(0, 4)),
    month: Number(date.slice(5, 7)),
    day: Number(date.slice(8, 10)),
  };
}

function toUtcMs(date: string): number {
  const d = parseDate(date);
  return Date.UTC(d.year, d.month - 1, d.day);
}

function fromUtcMs(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return fromUtcMs(toUtcMs(date) + days * DAY_MS);
}

/** 0 = Sunday ... 6 = Saturday. */
export function weekday(date: string): number {
  return new Date(toUtcMs(date)).getUTCDay();
}

/** Epoch ms of an IST wall-clock time on a date. */
export function istTimeMs(date: string, hour: number, minute: number): number {
  return toUtcMs(date) + (hour * 60 + minute) * 60_000 - IST_OFFSET_MS;
}

/** The next `count` dates falling on `day` (0-6), starting from `from` inclusive. */
export function nextWeekdays(from: string, day: number, count: number): string[] {
  let first = from;
  while (weekday(first) !== day) first = addDays(first, 1);
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(addDays(first, 7 * i));
  return out;
}

/** Last `day` (0-6) of a month. */
export function lastWeekdayOfMonth(year: number, month: number, day: number): string {
  const lastOfMonth = fromUtcMs(Date.UTC(year, month, 0));
  let date = lastOfMonth;
  while (weekday(date) !== day) date = addDays(date, -1);
  return date;
}

/** Moves a date back to a weekday (Monday-Friday) when it falls on a weekend. */
export function previousBusinessDay(date: string): string {
  let d = date;
  while (weekday(d) === 0 || weekday(d) === 6) d = addDays(d, -1);
  return d;
}

export function addBusinessDays(date: string, days: number): string {
  let d = date;
  let left = Math.abs(days);
  const step = days < 0 ? -1 : 1;
  while (left > 0) {
    d = addDays(d, step);
    if (weekday(d) !== 0 && weekday(d) !== 6) left--;
  }
  return d;
}

/** Monthly expiries (last `day` of month) on or after `from`, `count` of them. */
export function monthlyExpiries(from: string, day: number, count: number): string[] {
  const out: string[] = [];
  let { year, month } = parseDate(from);
  while (out.length < count) {
    const expiry = lastWeekdayOfMonth(year, month, day);
    if (expiry >= from) out.push(expiry);
    month++;
    if (month > 12) {
      month = 1;
      year++;
    }
  }
  return out;
}

/** `Dec2026` */
export function monthTag(date: string): string {
  const d = parseDate(date);
  return `${MONTHS[d.month - 1]}${d.year}`;
}

/** `01 DEC` */
export function dayMonthTag(date: string): string {
  const d = parseDate(date);
  return `${String(d.day).padStart(2, '0')} ${MONTHS[d.month - 1].toUpperCase()}`;
}

/** `YYYY-MM-DD HH:MM:SS` in IST for an epoch. */
export function istDateTime(epochMs: number): string {
  const iso = new Date(epochMs + IST_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}
