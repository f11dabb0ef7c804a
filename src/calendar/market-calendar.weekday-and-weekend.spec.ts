import { ExchangeSegment } from '@app/dhan/types';
import { aCalendar, ist } from './__tests__/calendar.factory';
import { Exchange, MarketPhase } from './market-calendar.types';

describe('MarketCalendar: an ordinary weekday and a weekend', () => {
  const { calendar } = aCalendar();

  it('a Tuesday is a trading day with NSE equity open 09:15-15:30 IST', () => {
    expect(calendar.isTradingDay(Exchange.NSE, '2026-11-17')).toBe(true);
    const session = calendar.session(ExchangeSegment.NSE_EQ, '2026-11-17');
    expect(session).not.toBeNull();
    expect(session?.tradingDate).toBe('2026-11-17');
    expect(session?.open.toISOString()).toBe('2026-11-17T03:45:00.000Z');
    expect(session?.close.toISOString()).toBe('2026-11-17T10:00:00.000Z');
    expect(session?.preOpen?.start.toISOString()).toBe('2026-11-17T03:30:00.000Z');
    expect(calendar.isOpen(ExchangeSegment.NSE_EQ, ist('2026-11-17T11:00'))).toBe(true);
    expect(calendar.isMarketHours(ExchangeSegment.BSE_EQ, ist('2026-11-17T15:29'))).toBe(true);
  });

  it('every DhanHQ segment maps to its exchange, IDX_I to NSE', () => {
    expect(calendar.exchangeOf(ExchangeSegment.IDX_I)).toBe(Exchange.NSE);
    expect(calendar.exchangeOf(ExchangeSegment.BSE_FNO)).toBe(Exchange.BSE);
    expect(calendar.exchangeOf(ExchangeSegment.BSE_CURRENCY)).toBe(Exchange.BSE);
    expect(calendar.exchangeOf(ExchangeSegment.NSE_CURRENCY)).toBe(Exchange.NSE);
    expect(calendar.exchangeOf(ExchangeSegment.MCX_COMM)).toBe(Exchange.MCX);
  });

  it('currency trades 09:00-17:00 and has no pre-open', () => {
    const session = calendar.session(ExchangeSegment.NSE_CURRENCY, '2026-11-17');
    expect(session?.preOpen).toBeNull();
    expect(session?.open.toISOString()).toBe('2026-11-17T03:30:00.000Z');
    expect(calendar.closeTime(ExchangeSegment.BSE_CURRENCY, '2026-11-17')?.toISOString()).toBe(
      '2026-11-17T11:30:00.000Z',
    );
    expect(calendar.phase(ExchangeSegment.NSE_CURRENCY, ist('2026-11-17T16:59'))).toBe(
      MarketPhase.OPEN,
    );
    expect(calendar.phase(ExchangeSegment.NSE_CURRENCY, ist('2026-11-17T17:00'))).toBe(
      MarketPhase.CLOSED,
    );
  });

  it('a Saturday and Sunday have no session on any exchange', () => {
    for (const date of ['2026-11-21', '2026-11-22']) {
      for (const exchange of Object.values(Exchange)) {
        expect(calendar.isTradingDay(exchange, date)).toBe(false);
      }
      expect(calendar.session(ExchangeSegment.NSE_EQ, date)).toBeNull();
      expect(calendar.session(ExchangeSegment.MCX_COMM, date)).toBeNull();
      expect(calendar.closeTime(ExchangeSegment.NSE_FNO, date)).toBeNull();
    }
    expect(calendar.phase(ExchangeSegment.NSE_EQ, ist('2026-11-21T11:00'))).toBe(
      MarketPhase.CLOSED,
    );
    expect(calendar.isMarketHours(ExchangeSegment.MCX_COMM, ist('2026-11-22T20:00'))).toBe(false);
  });

  it('after Friday close the next open is Monday 09:15 IST', () => {
    expect(calendar.nextOpen(ExchangeSegment.NSE_EQ, ist('2026-11-20T15:45'))?.toISOString()).toBe(
      '2026-11-23T03:45:00.000Z',
    );
    expect(
      calendar.nextOpen(ExchangeSegment.MCX_COMM, ist('2026-11-21T10:00'))?.toISOString(),
    ).toBe('2026-11-23T03:30:00.000Z');
    expect(calendar.previousTradingDay(Exchange.NSE, '2026-11-23')).toBe('2026-11-20');
    expect(calendar.nextTradingDay(Exchange.NSE, '2026-11-20')).toBe('2026-11-23');
  });

  it('before the open on a trading day the next open is the same morning', () => {
    expect(calendar.nextOpen(ExchangeSegment.NSE_FNO, ist('2026-11-17T08:00'))?.toISOString()).toBe(
      '2026-11-17T03:45:00.000Z',
    );
  });

  it('a weekend listed as a special trading day (budget Sunday) trades normal hours', () => {
    expect(calendar.isTradingDay(Exchange.NSE, '2026-02-01')).toBe(true);
    expect(calendar.isTradingDay(Exchange.MCX, '2026-02-01')).toBe(false);
    expect(calendar.phase(ExchangeSegment.NSE_EQ, ist('2026-02-01T10:00'))).toBe(MarketPhase.OPEN);
  });

  it('the defaults read the injected clock', () => {
    const { calendar: atNight, clock } = aCalendar({ now: ist('2026-11-17T20:00') });
    expect(atNight.phase(ExchangeSegment.NSE_EQ)).toBe(MarketPhase.CLOSED);
    expect(atNight.isOpen(ExchangeSegment.MCX_COMM)).toBe(true);
    clock.current = ist('2026-11-18T10:00');
    expect(atNight.isOpen(ExchangeSegment.NSE_EQ)).toBe(true);
    expect(atNight.tradingDate()).toBe('2026-11-18');
  });

  it('refuses a malformed date string', () => {
    expect(() => calendar.isTradingDay(Exchange.NSE, '2026-02-30')).toThrow(RangeError);
    expect(() => calendar.session(ExchangeSegment.NSE_EQ, '17/11/2026')).toThrow(RangeError);
  });
});
