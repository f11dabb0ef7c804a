import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../health/metrics.service';
import { ExecutionService } from './execution.service';

/** EMS figures on /metrics, read from ExecutionService when scraped. */
@Injectable()
export class ExecutionMetrics implements OnModuleInit {
  constructor(
    private readonly execution: ExecutionService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const execution = this.execution;
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.metrics.registry],
        collect() {
          this.set(read());
        },
      });
    gauge('ems_trades_stored', 'Trades stored since start (each exchange trade once)', () => {
      return execution.stats.tradesAdded;
    });
    gauge('ems_duplicate_trades', 'Trades seen again and not stored (dedupe hits)', () => {
      return execution.stats.duplicateTrades;
    });
    gauge('ems_unmatched_updates', 'Order updates for orders that are not ours', () => {
      return execution.stats.unmatchedUpdates;
    });
    gauge(
      'ems_foreign_broker_orders',
      "Broker answers under one of our ids that carried another order's correlationId (ignored)",
      () => execution.stats.foreignBrokerOrders,
    );
    gauge('ems_reconciliations', 'Reconciliations finished since start', () => {
      return execution.stats.reconciliations;
    });
    gauge('ems_order_updates_connected', '1 while the order-update stream is up', () =>
      execution.streaming ? 1 : 0,
    );
  }
}
