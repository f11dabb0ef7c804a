import { Module } from '@nestjs/common';
import { MarketCalendar } from './market-calendar';

/** Provides `MarketCalendar`; time comes from the application's one `Clock` (CommonModule). */
@Module({
  providers: [MarketCalendar],
  exports: [MarketCalendar],
})
export class CalendarModule {}
