import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { InstrumentsModule } from '../instruments/instruments.module';
import { MarketDataModule } from '../market-data/market-data.module';
import { WatchlistModule } from '../watchlist/watchlist.module';
import { CalendarModule } from '../calendar/calendar.module';
import { ExecutionModule } from '../execution/execution.module';
import { OrdersModule } from '../orders/orders.module';
import { DayCycleRelay } from './day-cycle.relay';
import { DayCycleScheduler } from './day-cycle.scheduler';
import { DayCycleService } from './day-cycle.service';
import { DayCycleRunEntity } from './entities/day-cycle-run.entity';

/** End of day / start of day: DayCycleService and its cron handlers. */
@Module({
  imports: [
    TypeOrmModule.forFeature([DayCycleRunEntity]),
    CalendarModule,
    InstrumentsModule,
    MarketDataModule,
    WatchlistModule,
    OrdersModule,
    ExecutionModule,
  ],
  providers: [DayCycleService, DayCycleScheduler, DayCycleRelay],
  exports: [DayCycleService],
})
export class SchedulerModule {}
