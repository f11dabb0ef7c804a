import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { ClusterRedis } from '../../cluster/cluster-redis';
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
import { SharedOrderBudget, type SharedBudgetState } from './shared-order-budget';
import { SharedSendWindows } from './shared-send-window';

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

/**
 * The Redis keys of the shared order budget start with this and the DhanHQ client id: one
 * budget per broker account (`paper` without one).
 */
export const SHARED_BUDGET_PREFIX = 'terminal:order-budget';

/**
 * The shared budget's timings. A pending send lapses after the broker request's own timeout
 * (10 s) and a margin, so a dead instance's unanswered sends free their places by themselves.
 */
export const SHARED_BUDGET_TIMINGS = Object.freeze({
  pendingLapseMs: 15_000,
  /** Redis slower than this: the fallback (this instance's share) until it answers again. */
  timeoutMs: 500,
  heartbeatMs: 1_000,
  /** An instance not heard from for this long no longer takes a share. */
  liveMs: 5_000,
  pollMs: 50,
});

/** How the budget is kept: LOCAL (no REDIS_URL), SHARED (on Redis), FALLBACK (Redis lost). */
export type OrderBudgetSharing = 'LOCAL' | SharedBudgetState;

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
export class OrderGovernorService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OrderGovernorService.name);
  readonly governor: OrderGovernor;
  readonly config: OrderGovernorConfig;
  /** The budget shared with the other instances on Redis (REDIS_URL); none otherwise. */
  readonly shared: SharedOrderBudget | undefined;
  private readonly reducing = new Set<string>();

  constructor(
    @Optional() @Inject(APP_CONFIG) appConfig: ResolvedAppConfig | null = null,
    @Optional() private readonly redis?: ClusterRedis,
  ) {
    this.config = appConfig?.execution.governor ?? DEFAULT_GOVERNOR_CONFIG;
    const limits = governorLimits(this.config);
    const client = redis?.client ?? null;
    if (client !== null) {
      this.shared = new SharedOrderBudget({
        ...limits,
        ...SHARED_BUDGET_TIMINGS,
        windows: new SharedSendWindows(client, {
          ...limits,
          prefix: `${SHARED_BUDGET_PREFIX}:${appConfig?.dhan.clientId ?? 'paper'}`,
          guardMs: GOVERNOR_GUARD_MS,
          pendingLapseMs: SHARED_BUDGET_TIMINGS.pendingLapseMs,
          pollMs: SHARED_BUDGET_TIMINGS.pollMs,
        }),
        guardMs: GOVERNOR_GUARD_MS,
        instanceId: `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
        connected: () => client.status === 'ready',
        now: () => performance.now(),
        onStateChange: (state, reason) => {
          if (state === 'FALLBACK') {
            this.logger.warn({
              msg: 'order budget: Redis lost, this instance keeps to its share',
              reason,
              instances: this.shared?.instances,
            });
          } else {
            this.logger.log({ msg: 'order budget shared on Redis again', reason });
          }
        },
      });
    }
    this.governor = new OrderGovernor({
      ...limits,
      gate: this.shared,
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

  onApplicationBootstrap(): void {
    const shared = this.shared;
    if (shared === undefined) return;
    // The first heartbeat once the connection is up (or after the bounded wait): a boot that
    // is still connecting is not a Redis outage.
    void (this.redis?.whenConnected() ?? Promise.resolve()).then(() => shared.start());
  }

  async onModuleDestroy(): Promise<void> {
    this.governor.close();
    await this.shared?.close();
  }

  /** How the budget is kept now. */
  get sharing(): OrderBudgetSharing {
    return this.shared?.state ?? 'LOCAL';
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
