import { Module } from '@nestjs/common';
import { AuthCoreModule } from '../auth/auth-core.module';
import { MarketDataModule } from '../market-data/market-data.module';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { OperationsMetrics } from './operations-metrics';

/** /metrics for operating the desk: fan-out, registry, orders, event loop, GC. */
@Module({
  imports: [MarketDataModule, AuthCoreModule, SchedulerModule],
  providers: [OperationsMetrics],
})
export class OperationsMetricsModule {}
