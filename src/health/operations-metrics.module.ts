import { Module } from '@nestjs/common';
import { AuthCoreModule } from '../auth/auth-core.module';
import { MarketDataModule } from '../market-data/market-data.module';
import { OperationsMetrics } from './operations-metrics';

/** /metrics for operating the desk: fan-out, registry, orders, event loop, GC. */
@Module({
  imports: [MarketDataModule, AuthCoreModule],
  providers: [OperationsMetrics],
})
export class OperationsMetricsModule {}
