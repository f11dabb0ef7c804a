import { ExchangeSegment } from '@app/dhan/types';
import { aCalendar, ist } from './__tests__/calendar.factory';
import { Exchange, MarketPhase } from './market-calendar.types';

describe('MarketCalendar: Republic Day, Monday 26 Jan 2026, an NSE and BSE holiday', () => {
  const { calendar } = aCalendar();
  const republicDay = '2026-01-26';

  it('is not a trading day on NSE or BSE and has no equity, F&O, index or currency session', () => {
    expect(calendar.isTradingDay(Exchange.NSE, republicDay)).toBe(false);
    expect(calendar.isTradingDay(Exchange.BSE, republicDay)).toBe(false);
    for (const segment of [
      ExchangeSegment.NSE_EQ,
      ExchangeSegment.NSE_FNO,
      ExchangeSegment.IDX_I,
      ExchangeSegment.NSE_CURRENCY,
      ExchangeSegment.BSE_EQ,
      ExchangeSegment.BSE_FNO,
    ]) {
      expect(calendar.session(segment, republicDay)).toBeNull();
    }
    expect(calendar.holiday(Exchange.NSE, republicDay)?.name).toBe('Republic Day');
  });

  it('is CLOSED in the middle of what would be the session', () => {
    expect(calendar.phase(ExchangeSegment.NSE_EQ, ist('2026-01-26T11:00'))).toBe(
      MarketPhase.CLOSED,
    );
    expect(calendar.isMarketHours(ExchangeSegment.IDX_I, ist('2026-01-26T11:00'))).toBe(false);
  });

  it('MCX is closed all day too (morning and evening)', () => {
    expect(calendar.isTradingDay(Exchange.MCX, republicDay)).toBe(false);
    expect(calendar.session(ExchangeSegment.MCX_COMM, republicDay)).toBeNull();
  });

  it('the next open after Friday 23 Jan close skips the weekend and the holiday to Tuesday', () => {
    expect(calendar.nextOpen(ExchangeSegment.NSE_EQ, ist('2026-01-23T15:31'))?.toISOString()).toBe(
      '2026-01-27T03:45:00.000Z',
    );
    expect(calendar.previousTradingDay(Exchange.NSE, '2026-01-27')).toBe('2026-01-23');
  });

  it('the day before and after are ordinary trading days', () => {
    expect(calendar.isTradingDay(Exchange.NSE, '2026-01-23')).toBe(true);
    expect(calendar.isTradingDay(Exchange.NSE, '2026-01-27')).toBe(true);
  });
});
