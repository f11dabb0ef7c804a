import { Test } from '@nestjs/testing';
import { ExchangeSegment } from '@app/dhan/types';
import { FixedClock, ist } from './__tests__/calendar.factory';
import { CalendarModule } from './calendar.module';
import { Clock } from '../common/clock';
import { CommonModule } from '../common/common.module';
import { MarketCalendar } from './market-calendar';
import { MarketPhase } from './market-calendar.types';

describe('CalendarModule: MarketCalendar resolved by Nest with an injected clock', () => {
  it('uses the overriding clock for its defaults', async () => {
    const clock = new FixedClock(ist('2026-11-17T09:05'));
    const moduleRef = await Test.createTestingModule({ imports: [CommonModule, CalendarModule] })
      .overrideProvider(Clock)
      .useValue(clock)
      .compile();
    try {
      const calendar = moduleRef.get(MarketCalendar);
      expect(calendar.phase(ExchangeSegment.NSE_EQ)).toBe(MarketPhase.PRE_OPEN);
      clock.current = ist('2026-11-17T10:00');
      expect(calendar.isOpen(ExchangeSegment.NSE_EQ)).toBe(true);
    } finally {
      await moduleRef.close();
    }
  });
});
