import { ExchangeSegment } from '@app/dhan/types';
import { aCalendar, ist } from './__tests__/calendar.factory';
import { MarketPhase } from './market-calendar.types';

describe('MarketCalendar: MCX close follows US daylight saving', () => {
  const { calendar } = aCalendar();
  const mcxClose = (date: string): string | undefined =>
    calendar.closeTime(ExchangeSegment.MCX_COMM, date)?.toISOString();

  it('early March (before US DST starts on 8 Mar 2026) closes at 23:55 IST', () => {
    expect(calendar.isUsDaylightSaving('2026-03-05')).toBe(false);
    expect(mcxClose('2026-03-05')).toBe('2026-03-05T18:25:00.000Z');
  });

  it('late March (US DST on) closes at 23:30 IST', () => {
    expect(calendar.isUsDaylightSaving('2026-03-20')).toBe(true);
    expect(mcxClose('2026-03-20')).toBe('2026-03-20T18:00:00.000Z');
  });

  it('switches between Friday 6 and Monday 9 March 2026', () => {
    expect(mcxClose('2026-03-06')).toBe('2026-03-06T18:25:00.000Z');
    expect(mcxClose('2026-03-09')).toBe('2026-03-09T18:00:00.000Z');
  });

  it('switches back between Friday 30 Oct and Monday 2 Nov 2026 (US DST ends 1 Nov)', () => {
    expect(mcxClose('2026-10-30')).toBe('2026-10-30T18:00:00.000Z');
    expect(mcxClose('2026-11-02')).toBe('2026-11-02T18:25:00.000Z');
  });

  it('is computed from the New York zone, not fixed days: 2027 switches on 14 Mar', () => {
    expect(mcxClose('2027-03-12')).toBe('2027-03-12T18:25:00.000Z');
    expect(mcxClose('2027-03-15')).toBe('2027-03-15T18:00:00.000Z');
    expect(calendar.isUsDaylightSaving('2027-11-05')).toBe(true);
    expect(calendar.isUsDaylightSaving('2027-11-08')).toBe(false);
  });

  it('23:40 IST is OPEN in winter and CLOSED in summer', () => {
    expect(calendar.phase(ExchangeSegment.MCX_COMM, ist('2026-03-05T23:40'))).toBe(
      MarketPhase.OPEN,
    );
    expect(calendar.phase(ExchangeSegment.MCX_COMM, ist('2026-03-20T23:40'))).toBe(
      MarketPhase.CLOSED,
    );
  });

  it('NSE equity close does not move with US daylight saving', () => {
    expect(calendar.closeTime(ExchangeSegment.NSE_EQ, '2026-03-05')?.toISOString()).toBe(
      '2026-03-05T10:00:00.000Z',
    );
    expect(calendar.closeTime(ExchangeSegment.NSE_EQ, '2026-03-20')?.toISOString()).toBe(
      '2026-03-20T10:00:00.000Z',
    );
  });
});
