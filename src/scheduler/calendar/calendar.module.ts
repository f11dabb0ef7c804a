import { Module } from '@nestjs/common';
import { Clock, SystemClock } from './clock';
import { MarketCalendar } from './market-calendar';

/** Provides `MarketCalendar` and a system `Clock`; tests override `Clock` with a fixed one. */
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }, MarketCalendar],
  exports: [MarketCalendar, Clock],
})
export class CalendarModule {}
