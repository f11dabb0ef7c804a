import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '../health/metrics.service';
import { AlertsService } from './alerts.service';

/** Server-side alerts on /metrics: how many are live, what they fire, what evaluating costs. */
@Injectable()
export class AlertsMetrics implements OnModuleInit {
  constructor(
    private readonly alerts: AlertsService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const alerts = this.alerts;
    const registers = [this.metrics.registry];
    new Gauge({
      name: 'alerts_active',
      help: 'Alerts evaluated on the tick path by this instance',
      registers,
      collect() {
        this.set(alerts.active);
      },
    });
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    counter('alerts_fired_total', 'Alert firings this instance claimed and stored', () => {
      return alerts.stats.fired;
    });
    new Counter({
      name: 'alerts_actions_total',
      help: 'Orders and baskets placed by alerts (ATO), by outcome',
      labelNames: ['outcome'] as const,
      registers,
      collect() {
        this.reset();
        this.inc({ outcome: 'done' }, alerts.stats.actionsDone);
        this.inc({ outcome: 'failed' }, alerts.stats.actionsFailed);
      },
    });
    counter(
      'alerts_evaluations_total',
      'Tick-store drains whose changes alerts were checked on',
      () => {
        return alerts.stats.evaluations;
      },
    );
    counter(
      'alerts_evaluation_seconds_total',
      'Time spent checking alerts on the tick path',
      () => alerts.stats.evaluationMs / 1000,
    );
  }
}
