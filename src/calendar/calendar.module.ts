import { Module } from '@nestjs/common';
import { MarketCalendar } from './market-calendar';
import { MarketStatusService } from './market-status';

/** Provides `MarketCalendar`; time comes from the application's one `Clock` (CommonModule). */
@Module({
  providers: [MarketCalendar, MarketStatusService],
  exports: [MarketCalendar, MarketStatusService],
})
export class CalendarModule {}
