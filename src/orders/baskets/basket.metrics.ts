import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../../health/metrics.service';
import { BasketService } from './basket.service';

/** Baskets on /metrics: how they ended and how many of their legs were placed. */
@Injectable()
export class BasketMetrics implements OnModuleInit {
  constructor(
    private readonly baskets: BasketService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const stats = this.baskets.stats;
    const registers = [this.metrics.registry];
    new Counter({
      name: 'baskets_ended_total',
      help: 'Baskets reaching PLACED, PARTIAL, REJECTED or CANCELLED on this instance (a placed basket cancelled later counts in both)',
      labelNames: ['status'] as const,
      registers,
      collect() {
        this.reset();
        for (const [status, count] of stats.ended) this.inc({ status }, count);
      },
    });
    new Counter({
      name: 'basket_legs_total',
      help: 'Basket legs this instance handed to placeOrder, by outcome',
      labelNames: ['outcome'] as const,
      registers,
      collect() {
        this.reset();
        this.inc({ outcome: 'placed' }, stats.legsPlaced);
        this.inc({ outcome: 'not_placed' }, stats.legsNotPlaced);
      },
    });
  }
}
