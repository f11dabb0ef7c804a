import { aCalendar } from './__tests__/calendar.factory';
import { Exchange } from './market-calendar.types';

describe('MarketCalendar: an expiry on a holiday moves to the previous trading day', () => {
  const { calendar } = aCalendar();

  it('NSE monthly expiry, last Tuesday 31 Mar 2026 (Mahavir Jayanti), moves to Monday 30 Mar', () => {
    expect(calendar.adjustExpiry(Exchange.NSE, '2026-03-31')).toBe('2026-03-30');
  });

  it('NIFTY weekly expiry on Tuesday 24 Nov 2026 (Guru Nanak Jayanti) moves to Monday 23 Nov', () => {
    expect(calendar.adjustExpiry(Exchange.NSE, '2026-11-24')).toBe('2026-11-23');
  });

  it('BSE Thursday expiry on 26 Mar 2026 (Ram Navami) moves to Wednesday 25 Mar', () => {
    expect(calendar.adjustExpiry(Exchange.BSE, '2026-03-26')).toBe('2026-03-25');
  });

  it('a Monday holiday moves across the weekend to Friday', () => {
    expect(calendar.adjustExpiry(Exchange.NSE, '2026-09-14')).toBe('2026-09-11');
    expect(calendar.adjustExpiry(Exchange.NSE, '2026-01-26')).toBe('2026-01-23');
  });

  it('an expiry on a weekend moves to Friday', () => {
    expect(calendar.adjustExpiry(Exchange.NSE, '2026-11-22')).toBe('2026-11-20');
  });

  it('consecutive closed days are all skipped (Good Friday after a Thursday that trades)', () => {
    expect(calendar.adjustExpiry(Exchange.NSE, '2026-04-05')).toBe('2026-04-02');
  });

  it('an expiry on a trading day stays', () => {
    expect(calendar.adjustExpiry(Exchange.NSE, '2026-12-29')).toBe('2026-12-29');
    expect(calendar.adjustExpiry(Exchange.BSE, new Date('2026-12-31T06:00:00Z'))).toBe(
      '2026-12-31',
    );
  });
});
