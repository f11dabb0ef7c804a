import { ExchangeSegment } from '@app/dhan/types';
import { aCalendar, ist } from './__tests__/calendar.factory';
import { MarketPhase } from './market-calendar.types';

describe('MarketCalendar: phases around the pre-open and the close on a trading day', () => {
  const { calendar } = aCalendar();
  const day = '2026-11-17';
  const phaseAt = (segment: ExchangeSegment, time: string): MarketPhase =>
    calendar.phase(segment, ist(`${day}T${time}`));

  it('NSE equity: CLOSED, PRE_OPEN 09:00-09:15, OPEN 09:15-15:30, POST_CLOSE to 16:00, CLOSED', () => {
    expect(phaseAt(ExchangeSegment.NSE_EQ, '08:59:59')).toBe(MarketPhase.CLOSED);
    expect(phaseAt(ExchangeSegment.NSE_EQ, '09:00')).toBe(MarketPhase.PRE_OPEN);
    expect(phaseAt(ExchangeSegment.NSE_EQ, '09:14:59')).toBe(MarketPhase.PRE_OPEN);
    expect(phaseAt(ExchangeSegment.NSE_EQ, '09:15')).toBe(MarketPhase.OPEN);
    expect(phaseAt(ExchangeSegment.NSE_EQ, '15:29:59')).toBe(MarketPhase.OPEN);
    expect(phaseAt(ExchangeSegment.NSE_EQ, '15:30')).toBe(MarketPhase.POST_CLOSE);
    expect(phaseAt(ExchangeSegment.NSE_EQ, '15:50')).toBe(MarketPhase.POST_CLOSE);
    expect(phaseAt(ExchangeSegment.NSE_EQ, '16:00')).toBe(MarketPhase.CLOSED);
  });

  it('pre-open is not "open" and not market hours unless the watchdog asks for it', () => {
    const at = ist(`${day}T09:05`);
    expect(calendar.isOpen(ExchangeSegment.BSE_EQ, at)).toBe(false);
    expect(calendar.isMarketHours(ExchangeSegment.BSE_EQ, at)).toBe(false);
    expect(calendar.isMarketHours(ExchangeSegment.BSE_EQ, at, { includePreOpen: true })).toBe(true);
  });

  it('F&O has a futures-only pre-open and no post-close session', () => {
    const session = calendar.session(ExchangeSegment.NSE_FNO, day);
    expect(session?.preOpen?.scope).toBe('FUTURES_ONLY');
    expect(calendar.session(ExchangeSegment.NSE_EQ, day)?.preOpen?.scope).toBe('ALL');
    expect(phaseAt(ExchangeSegment.NSE_FNO, '09:05')).toBe(MarketPhase.PRE_OPEN);
    expect(phaseAt(ExchangeSegment.NSE_FNO, '15:30')).toBe(MarketPhase.CLOSED);
  });

  it('MCX and currency have no pre-open: already OPEN at 09:05', () => {
    expect(phaseAt(ExchangeSegment.MCX_COMM, '09:05')).toBe(MarketPhase.OPEN);
    expect(phaseAt(ExchangeSegment.NSE_CURRENCY, '09:05')).toBe(MarketPhase.OPEN);
    expect(phaseAt(ExchangeSegment.MCX_COMM, '08:59')).toBe(MarketPhase.CLOSED);
  });

  it('during pre-open the next open is the same day 09:15', () => {
    expect(calendar.nextOpen(ExchangeSegment.NSE_EQ, ist(`${day}T09:05`))?.toISOString()).toBe(
      '2026-11-17T03:45:00.000Z',
    );
  });
});
