import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { DateTime } from 'luxon';
import { Clock } from '../../common/clock';
import { DEFAULT_HOLIDAYS_DIR, HOLIDAY_FILE } from '../holiday-data';
import { MarketCalendar } from '../market-calendar';
import { Exchange } from '../market-calendar.types';

// provisional-year warnings are expected with the shipped files; keep test output readable
Logger.overrideLogger(false);

export class FixedClock extends Clock {
  constructor(public current: Date) {
    super();
  }
  now(): Date {
    return this.current;
  }
}

/** An instant given as IST wall-clock time, e.g. `ist('2026-01-26T09:20')`. */
export function ist(local: string): Date {
  const parsed = DateTime.fromISO(local, { zone: 'Asia/Kolkata' });
  if (!parsed.isValid) throw new RangeError(`bad IST time ${local}`);
  return parsed.toJSDate();
}

export function aCalendar(options: { now?: Date; holidaysDir?: string } = {}): {
  calendar: MarketCalendar;
  clock: FixedClock;
} {
  const clock = new FixedClock(options.now ?? ist('2026-11-17T12:00'));
  return { calendar: new MarketCalendar(clock, { holidaysDir: options.holidaysDir }), clock };
}

export function shippedHolidayDocument(exchange: Exchange): Record<string, unknown> {
  return JSON.parse(
    readFileSync(join(DEFAULT_HOLIDAYS_DIR, HOLIDAY_FILE[exchange]), 'utf8'),
  ) as Record<string, unknown>;
}

/**
 * A temporary holidays directory holding the shipped files, with `edit` applied to the
 * documents (a string replaces the file's text as is; null leaves the file out). Call `remove()` when done.
 */
export function aHolidaysDir(
  edit: Partial<Record<Exchange, (doc: Record<string, unknown>) => unknown>> = {},
): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'holidays-'));
  for (const exchange of Object.values(Exchange)) {
    const doc = shippedHolidayDocument(exchange);
    const edited = edit[exchange] ? edit[exchange](doc) : doc;
    if (edited === null) continue;
    const text = typeof edited === 'string' ? edited : JSON.stringify(edited);
    writeFileSync(join(dir, HOLIDAY_FILE[exchange]), text);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
