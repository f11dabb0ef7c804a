import { Global, Module, type OnModuleInit } from '@nestjs/common';
import { DatabaseWriteProbe } from './database-write-probe';
import { HealthController } from './health.controller';
import { MetricsService } from './metrics.service';
import { ReadinessRegistry } from './readiness.registry';

@Global()
@Module({
  controllers: [HealthController],
  providers: [MetricsService, ReadinessRegistry, DatabaseWriteProbe],
  exports: [MetricsService, ReadinessRegistry],
})
export class HealthModule implements OnModuleInit {
  constructor(
    private readonly readiness: ReadinessRegistry,
    private readonly databaseWrites: DatabaseWriteProbe,
  ) {}

  onModuleInit(): void {
    // Up means writable: a database that only answers reads cannot take an order.
    this.readiness.register('database', () => this.databaseWrites.check());
  }
}
