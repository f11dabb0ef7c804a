import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { KeyedSerialQueue } from '../common/keyed-serial-queue';

/**
 * Where all work on an order runs: on that order's queue, so user requests, broker events,
 * lookups and retries never interleave; delayed work (retries, lookups) is dropped once the
 * module closes.
 */
@Injectable()
export class OrderScheduler implements OnModuleDestroy {
  private readonly logger = new Logger(OrderScheduler.name);
  private readonly queue = new KeyedSerialQueue();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  get closing(): boolean {
    return this.closed;
  }

  onModuleDestroy(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Runs `work` after everything queued for this order. */
  serial<T>(orderId: string, work: () => Promise<T>): Promise<T> {
    return this.queue.run(orderId, work);
  }

  /** Resolves when the order's queued work (including an in-progress send) is done. */
  settled(orderId: string): Promise<void> {
    return this.queue.settled(orderId);
  }

  /** Queues `work` on the order's queue after `delayMs` (dropped when the module closes). */
  later(delayMs: number, orderId: string, work: () => Promise<void>): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed) return;
      void this.serial(orderId, work).catch((e: unknown) =>
        this.logger.error({ msg: 'order retry failed', orderId, err: e }),
      );
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }
}
