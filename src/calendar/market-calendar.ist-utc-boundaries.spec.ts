import { ExchangeSegment } from '@app/dhan/types';
import { aCalendar, ist } from './__tests__/calendar.factory';
import { MarketPhase } from './market-calendar.types';

describe('MarketCalendar: instants near midnight IST and UTC', () => {
  const { calendar } = aCalendar();

  it('23:45 IST is 18:15 UTC the same date', () => {
    expect(ist('2026-11-17T23:45').toISOString()).toBe('2026-11-17T18:15:00.000Z');
    expect(calendar.tradingDate(new Date('2026-11-17T18:15:00Z'))).toBe('2026-11-17');
  });

  it('18:30 UTC is already the next IST date', () => {
    expect(calendar.tradingDate(new Date('2026-11-17T18:29:59Z'))).toBe('2026-11-17');
    expect(calendar.tradingDate(new Date('2026-11-17T18:30:00Z'))).toBe('2026-11-18');
  });

  it('MCX at 23:45 IST in winter is OPEN; at 23:55 IST (18:25 UTC) it has closed', () => {
    expect(calendar.phase(ExchangeSegment.MCX_COMM, new Date('2026-11-17T18:15:00Z'))).toBe(
      MarketPhase.OPEN,
    );
    expect(calendar.phase(ExchangeSegment.MCX_COMM, new Date('2026-11-17T18:25:00Z'))).toBe(
      MarketPhase.CLOSED,
    );
  });

  it('Friday 19:00 UTC is Saturday 00:30 IST: no session, although it is Friday in UTC', () => {
    const at = new Date('2026-11-20T19:00:00Z');
    expect(calendar.tradingDate(at)).toBe('2026-11-21');
    expect(calendar.session(ExchangeSegment.NSE_EQ, at)).toBeNull();
    expect(calendar.phase(ExchangeSegment.MCX_COMM, at)).toBe(MarketPhase.CLOSED);
  });

  it('Monday 00:30 IST (Sunday in UTC) is a trading date, before the open', () => {
    const at = new Date('2026-11-22T19:00:00Z');
    expect(calendar.tradingDate(at)).toBe('2026-11-23');
    expect(calendar.session(ExchangeSegment.NSE_EQ, at)?.tradingDate).toBe('2026-11-23');
    expect(calendar.phase(ExchangeSegment.NSE_EQ, at)).toBe(MarketPhase.CLOSED);
    expect(calendar.nextOpen(ExchangeSegment.NSE_EQ, at)?.toISOString()).toBe(
      '2026-11-23T03:45:00.000Z',
    );
  });
});
