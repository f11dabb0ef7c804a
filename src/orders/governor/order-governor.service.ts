import { Inject, Injectable, Optional, type OnModuleDestroy } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import {
  APP_CONFIG,
  type OrderGovernorConfig,
  type ResolvedAppConfig,
} from '../../config/app-config';
import {
  OrderGovernor,
  SendPriority,
  type AccountUsage,
  type SegmentUsage,
} from './order-governor';
import type { SendLimit } from './send-window';

/** The settings' defaults: 10 a second per segment, DhanHQ's account limits, 10 s in the queue. */
export const DEFAULT_GOVERNOR_CONFIG: OrderGovernorConfig = Object.freeze({
  perSegmentPerSecond: 10,
  account: Object.freeze({ perSecond: 10, perMinute: 250, perHour: 1_000, perDay: 7_000 }),
  maxWaitMs: 10_000,
});

/**
 * Added to every window. Sends are stamped when the broker answers (after its arrival), so the
 * guard only covers timer granularity and the broker's own clock.
 */
export const GOVERNOR_GUARD_MS = 10;

export function governorLimits(config: OrderGovernorConfig): {
  perSegment: SendLimit[];
  account: SendLimit[];
} {
  return {
    perSegment: [{ limit: config.perSegmentPerSecond, intervalMs: 1_000 }],
    account: [
      { limit: config.account.perSecond, intervalMs: 1_000 },
      { limit: config.account.perMinute, intervalMs: 60_000 },
      { limit: config.account.perHour, intervalMs: 3_600_000 },
      { limit: config.account.perDay, intervalMs: 86_400_000 },
    ],
  };
}

/**
 * The process's OrderGovernor, on the monotonic clock (a budget measures elapsed time; a test's
 * frozen wall clock must not freeze it), and the send priority of each order: risk-reducing
 * orders (RMS says so at admission) and the desk's square-offs go before new exposure.
 */
@Injectable()
export class OrderGovernorService implements OnModuleDestroy {
  readonly governor: OrderGovernor;
  readonly config: OrderGovernorConfig;
  private readonly reducing = new Set<string>();

  constructor(@Optional() @Inject(APP_CONFIG) appConfig: ResolvedAppConfig | null = null) {
    this.config = appConfig?.execution.governor ?? DEFAULT_GOVERNOR_CONFIG;
    this.governor = new OrderGovernor({
      ...governorLimits(this.config),
      guardMs: GOVERNOR_GUARD_MS,
      maxWaitMs: this.config.maxWaitMs,
      now: () => performance.now(),
      setTimer: (fn, ms) => {
        const timer = setTimeout(fn, ms);
        timer.unref();
        return () => clearTimeout(timer);
      },
    });
  }

  onModuleDestroy(): void {
    this.governor.close();
  }

  /** RMS found the order risk-reducing (or the desk placed it to square off). */
  markReducing(orderId: string): void {
    this.reducing.add(orderId);
  }

  isReducing(orderId: string): boolean {
    return this.reducing.has(orderId);
  }

  priorityOf(orderId: string): SendPriority {
    return this.reducing.has(orderId) ? SendPriority.REDUCE : SendPriority.NEW;
  }

  /** The order was sent or ended: its priority is no longer needed. */
  forget(orderId: string): void {
    this.reducing.delete(orderId);
  }

  position(orderId: string): number | undefined {
    return this.governor.position(orderId);
  }

  usage(): { segments: SegmentUsage[]; account: AccountUsage[] } {
    return this.governor.usage();
  }
}
