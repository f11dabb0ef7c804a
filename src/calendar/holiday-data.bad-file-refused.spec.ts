import { aCalendar, aHolidaysDir } from './__tests__/calendar.factory';
import { HolidayDataError } from './holiday-data';
import { Exchange } from './market-calendar.types';

type Doc = Record<string, unknown>;
type YearDoc = { provisional?: unknown; holidays: Array<Record<string, unknown>> };
const year2026 = (doc: Doc): YearDoc => (doc.years as Record<string, YearDoc>)['2026'];

function refusal(edit: Partial<Record<Exchange, (doc: Doc) => unknown>>): HolidayDataError {
  const files = aHolidaysDir(edit);
  try {
    aCalendar({ holidaysDir: files.dir });
  } catch (error) {
    if (error instanceof HolidayDataError) return error;
    throw error;
  } finally {
    files.remove();
  }
  throw new Error('the calendar accepted the file');
}

describe('Holiday files: a bad file is refused with a message naming the file and the problem', () => {
  it('accepts the shipped files unchanged (control)', () => {
    const files = aHolidaysDir();
    try {
      expect(() => aCalendar({ holidaysDir: files.dir })).not.toThrow();
    } finally {
      files.remove();
    }
  });

  it('unsorted dates', () => {
    const error = refusal({
      [Exchange.NSE]: (doc) => {
        year2026(doc).holidays.reverse();
        return doc;
      },
    });
    expect(error.file).toMatch(/nse\.json$/);
    expect(error.message).toMatch(/years\.2026\.holidays must be sorted with no duplicates/);
  });

  it('a duplicated date', () => {
    const error = refusal({
      [Exchange.BSE]: (doc) => {
        const list = year2026(doc).holidays;
        list.splice(1, 0, { ...list[1] });
        return doc;
      },
    });
    expect(error.file).toMatch(/bse\.json$/);
    expect(error.message).toMatch(/2026-01-26 follows 2026-01-26/);
  });

  it('a date that does not exist', () => {
    const error = refusal({
      [Exchange.NSE]: (doc) => {
        year2026(doc).holidays[1].date = '2026-02-30';
        return doc;
      },
    });
    expect(error.message).toMatch(/2026-02-30 is not a calendar date/);
  });

  it('a date in the wrong year or the wrong format', () => {
    expect(
      refusal({
        [Exchange.NSE]: (doc) => {
          year2026(doc).holidays[0].date = '2025-01-15';
          return doc;
        },
      }).message,
    ).toMatch(/2025-01-15 is not in 2026/);
    expect(
      refusal({
        [Exchange.NSE]: (doc) => {
          year2026(doc).holidays[0].date = '15-01-2026';
          return doc;
        },
      }).message,
    ).toMatch(/date must be YYYY-MM-DD/);
  });

  it('a missing provisional flag', () => {
    const error = refusal({
      [Exchange.BSE]: (doc) => {
        delete year2026(doc).provisional;
        return doc;
      },
    });
    expect(error.message).toMatch(/years\.2026\.provisional must be true or false/);
  });

  it('an MCX holiday without its evening session state', () => {
    const error = refusal({
      [Exchange.MCX]: (doc) => {
        delete year2026(doc).holidays[0].evening;
        return doc;
      },
    });
    expect(error.file).toMatch(/mcx\.json$/);
    expect(error.message).toMatch(/evening must be "open" or "closed"/);
  });

  it('an MCX holiday with both sessions open', () => {
    const error = refusal({
      [Exchange.MCX]: (doc) => {
        year2026(doc).holidays[0].morning = 'open';
        return doc;
      },
    });
    expect(error.message).toMatch(/both sessions open is not a holiday/);
  });

  it('session states on an NSE holiday', () => {
    const error = refusal({
      [Exchange.NSE]: (doc) => {
        year2026(doc).holidays[0].evening = 'open';
        return doc;
      },
    });
    expect(error.message).toMatch(/only modelled for MCX/);
  });

  it('a file for the wrong exchange', () => {
    const error = refusal({ [Exchange.BSE]: (doc) => ({ ...doc, exchange: 'NSE' }) });
    expect(error.message).toMatch(/"exchange" must be "BSE"/);
  });

  it('a special trading day that is a weekday', () => {
    const error = refusal({
      [Exchange.NSE]: (doc) => {
        (year2026(doc) as unknown as Doc).specialTradingDays = [
          { date: '2026-02-02', name: 'Not a weekend' },
        ];
        return doc;
      },
    });
    expect(error.message).toMatch(/2026-02-02 is not a Saturday or Sunday/);
  });

  it('text that is not JSON', () => {
    const error = refusal({ [Exchange.MCX]: () => '{ "exchange": "MCX", ' });
    expect(error.message).toMatch(/mcx\.json: is not valid JSON/);
  });

  it('a missing file', () => {
    const error = refusal({ [Exchange.BSE]: () => null });
    expect(error.message).toMatch(/bse\.json: cannot be read/);
  });
});

describe('Holiday files: HOLIDAYS_DIR overrides the shipped directory', () => {
  const saved = process.env.HOLIDAYS_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.HOLIDAYS_DIR;
    else process.env.HOLIDAYS_DIR = saved;
  });

  it('reads the files from HOLIDAYS_DIR when no directory is passed', () => {
    const files = aHolidaysDir({
      [Exchange.NSE]: (doc) => {
        year2026(doc).holidays.push({ date: '2026-12-31', name: 'Operator-added holiday' });
        return doc;
      },
    });
    try {
      process.env.HOLIDAYS_DIR = files.dir;
      const { calendar } = aCalendar();
      expect(calendar.isTradingDay(Exchange.NSE, '2026-12-31')).toBe(false);
      expect(calendar.isTradingDay(Exchange.BSE, '2026-12-31')).toBe(true);
    } finally {
      files.remove();
    }
  });
});
