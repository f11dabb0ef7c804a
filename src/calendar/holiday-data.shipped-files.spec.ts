import { DEFAULT_HOLIDAYS_DIR, loadHolidayDirectory } from './holiday-data';
import { Exchange } from './market-calendar.types';

describe('Holiday files: the shipped NSE, BSE and MCX lists', () => {
  const all = loadHolidayDirectory(DEFAULT_HOLIDAYS_DIR);
  const dates = (exchange: Exchange, year: number): string[] =>
    all
      .get(exchange)
      ?.years.get(year)
      ?.holidays.map((h) => h.date) ?? [];

  it('cover 2026 (published for NSE and BSE) and 2027 (provisional)', () => {
    for (const exchange of Object.values(Exchange)) {
      expect(all.get(exchange)?.years.get(2027)?.provisional).toBe(true);
      expect(dates(exchange, 2026).length).toBeGreaterThan(10);
    }
    expect(all.get(Exchange.NSE)?.years.get(2026)?.provisional).toBe(false);
    expect(all.get(Exchange.BSE)?.years.get(2026)?.provisional).toBe(false);
  });

  it('NSE 2026 has Republic Day, Holi and Christmas', () => {
    expect(dates(Exchange.NSE, 2026)).toEqual(
      expect.arrayContaining(['2026-01-26', '2026-03-03', '2026-12-25']),
    );
  });

  it('BSE and MCX list the same dates as NSE', () => {
    for (const year of [2026, 2027]) {
      expect(dates(Exchange.BSE, year)).toEqual(dates(Exchange.NSE, year));
      expect(dates(Exchange.MCX, year)).toEqual(dates(Exchange.NSE, year));
    }
  });

  it('MCX closes the morning on every exchange holiday', () => {
    for (const year of [2026, 2027]) {
      for (const holiday of all.get(Exchange.MCX)?.years.get(year)?.holidays ?? []) {
        expect(holiday.morning).toBe('closed');
      }
    }
  });
});
