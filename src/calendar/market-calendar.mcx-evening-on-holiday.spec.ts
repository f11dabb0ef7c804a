import { ExchangeSegment } from '@app/dhan/types';
import { aCalendar, aHolidaysDir, ist } from './__tests__/calendar.factory';
import { Exchange, MarketPhase } from './market-calendar.types';

describe('MarketCalendar: MCX evening session on an exchange holiday', () => {
  const { calendar } = aCalendar();
  const holi = '2026-03-03';

  it('Holi: NSE is closed, MCX trades only the evening, 17:00 to 23:55 IST', () => {
    expect(calendar.isTradingDay(Exchange.NSE, holi)).toBe(false);
    expect(calendar.isTradingDay(Exchange.MCX, holi)).toBe(true);
    const session = calendar.session(ExchangeSegment.MCX_COMM, holi);
    expect(session?.eveningOnly).toBe(true);
    expect(session?.open.toISOString()).toBe('2026-03-03T11:30:00.000Z');
    expect(session?.close.toISOString()).toBe('2026-03-03T18:25:00.000Z');
  });

  it('is CLOSED in the morning and OPEN in the evening', () => {
    expect(calendar.phase(ExchangeSegment.MCX_COMM, ist(`${holi}T10:00`))).toBe(MarketPhase.CLOSED);
    expect(calendar.phase(ExchangeSegment.MCX_COMM, ist(`${holi}T16:59`))).toBe(MarketPhase.CLOSED);
    expect(calendar.phase(ExchangeSegment.MCX_COMM, ist(`${holi}T17:00`))).toBe(MarketPhase.OPEN);
    expect(calendar.isMarketHours(ExchangeSegment.MCX_COMM, ist(`${holi}T21:00`))).toBe(true);
  });

  it('the next MCX open after Monday night is the Holi evening', () => {
    expect(
      calendar.nextOpen(ExchangeSegment.MCX_COMM, ist('2026-03-02T23:59'))?.toISOString(),
    ).toBe('2026-03-03T11:30:00.000Z');
  });

  it('Good Friday is closed all day on MCX', () => {
    expect(calendar.holiday(Exchange.MCX, '2026-04-03')?.evening).toBe('closed');
    expect(calendar.session(ExchangeSegment.MCX_COMM, '2026-04-03')).toBeNull();
    expect(calendar.isTradingDay(Exchange.MCX, '2026-04-03')).toBe(false);
  });

  it('a holiday with the morning open and the evening closed trades 09:00-17:00', () => {
    const files = aHolidaysDir({
      [Exchange.MCX]: (doc) => {
        const years = doc.years as Record<string, { holidays: unknown[] }>;
        years['2026'].holidays = [
          { date: '2026-12-24', name: 'Evening closed', morning: 'open', evening: 'closed' },
        ];
        return doc;
      },
    });
    try {
      const { calendar: custom } = aCalendar({ holidaysDir: files.dir });
      const session = custom.session(ExchangeSegment.MCX_COMM, '2026-12-24');
      expect(session?.open.toISOString()).toBe('2026-12-24T03:30:00.000Z');
      expect(session?.close.toISOString()).toBe('2026-12-24T11:30:00.000Z');
      expect(custom.phase(ExchangeSegment.MCX_COMM, ist('2026-12-24T18:00'))).toBe(
        MarketPhase.CLOSED,
      );
    } finally {
      files.remove();
    }
  });
});
