import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../../health/metrics.service';
import { OrderGovernorService } from './order-governor.service';

/** The order budget's use per segment and dealer on /metrics, read when scraped. */
@Injectable()
export class OrderGovernorMetrics implements OnModuleInit {
  constructor(
    private readonly governor: OrderGovernorService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const governor = this.governor;
    const registers = [this.metrics.registry];
    new Gauge({
      name: 'order_governor_segment_utilisation',
      help: 'Sends in the last second over the segment allowance (1 = the budget is full)',
      labelNames: ['segment'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of governor.usage().segments) {
          this.set({ segment: s.segment }, s.sentLastSecond / s.allowancePerSecond);
        }
      },
    });
    new Gauge({
      name: 'order_governor_queued',
      help: 'Orders, modifies and cancels waiting for the order budget, by segment and dealer',
      labelNames: ['segment', 'dealer'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of governor.usage().segments) {
          for (const d of s.dealers) this.set({ segment: s.segment, dealer: d.dealer }, d.queued);
        }
      },
    });
    const counter = (
      name: string,
      help: string,
      read: (c: { sent: number; refused: number; queued: number }) => number,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ['segment', 'dealer'] as const,
        registers,
        collect() {
          this.reset();
          for (const s of governor.usage().segments) {
            for (const d of s.dealers) {
              this.set({ segment: s.segment, dealer: d.dealer }, read(d.counters));
            }
          }
        },
      });
    counter(
      'order_governor_sent',
      'Sends granted since start, by segment and dealer',
      (c) => c.sent,
    );
    counter(
      'order_governor_waited',
      'Sends that had to wait in the queue since start, by segment and dealer',
      (c) => c.queued,
    );
    counter(
      'order_governor_refused',
      'Requests refused after waiting past ORDER_QUEUE_MAX_WAIT_MS, by segment and dealer',
      (c) => c.refused,
    );
    new Gauge({
      name: 'order_governor_shared',
      help:
        'How the order budget is kept (1 for the current state): LOCAL (no Redis), SHARED (on ' +
        'Redis, one budget for every instance), FALLBACK (Redis lost: a share per instance)',
      labelNames: ['state'] as const,
      registers,
      collect() {
        this.reset();
        const now = governor.sharing;
        for (const state of ['LOCAL', 'SHARED', 'FALLBACK'] as const) {
          this.set({ state }, state === now ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'order_governor_instances',
      help: 'Instances sharing the order budget as last seen on Redis (1 without Redis)',
      registers,
      collect() {
        this.set(governor.shared?.instances ?? 1);
      },
    });
    new Gauge({
      name: 'order_governor_fallbacks',
      help: "Times the shared order budget fell back to this instance's share since start",
      registers,
      collect() {
        this.set(governor.shared?.fallbacks ?? 0);
      },
    });
    new Gauge({
      name: 'order_governor_account_used',
      help: "Sends within each of the broker account's windows (seconds: 1, 60, 3600, 86400)",
      labelNames: ['window_seconds'] as const,
      registers,
      collect() {
        this.reset();
        for (const w of governor.usage().account) {
          this.set({ window_seconds: String(w.intervalMs / 1000) }, w.used);
        }
      },
    });
  }
}
