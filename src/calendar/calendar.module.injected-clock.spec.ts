import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExchangeSegment } from '@app/dhan/types';
import { FixedClock, ist } from './__tests__/calendar.factory';
import { CalendarModule } from './calendar.module';
import { Clock, SystemClock } from '../common/clock';
import { MarketCalendar } from './market-calendar';
import { MarketPhase } from './market-calendar.types';

/** The application's one Clock, global as CommonModule provides it. */
@Global()
@Module({ providers: [{ provide: Clock, useClass: SystemClock }], exports: [Clock] })
class ClockModule {}

describe('CalendarModule: MarketCalendar resolved by Nest with an injected clock', () => {
  it('uses the overriding clock for its defaults', async () => {
    const clock = new FixedClock(ist('2026-11-17T09:05'));
    const moduleRef = await Test.createTestingModule({ imports: [ClockModule, CalendarModule] })
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
