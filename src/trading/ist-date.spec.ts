import { istDate } from './ist-date';

const BY_TIME_ZONE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Kolkata',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

describe('istDate', () => {
  it('is the Asia/Kolkata date of the time-zone database, at and around every IST midnight', () => {
    // 18:30 UTC is midnight in India: a minute, a millisecond either side, for every day of
    // 2025-2027 (leap day included).
    const start = Date.UTC(2024, 11, 31, 18, 30);
    const day = 24 * 60 * 60 * 1000;
    for (let midnight = start; midnight < Date.UTC(2027, 11, 31, 18, 30); midnight += day) {
      for (const at of [
        midnight - 60_000,
        midnight - 1,
        midnight,
        midnight + 1,
        midnight + 60_000,
      ]) {
        expect(istDate(at)).toBe(BY_TIME_ZONE.format(at));
      }
    }
    expect(istDate(Date.UTC(2028, 1, 28, 18, 30))).toBe('2028-02-29');
    expect(istDate(Date.UTC(2026, 11, 5, 18, 29, 59, 999))).toBe('2026-12-05');
  });
});
