import type { EventEmitter2 } from '@nestjs/event-emitter';
import type { OrderView } from './order-view';
import { ORDERS_UPDATED, type OrderUpdatedEvent } from './orders.events';

/** Cap of updates queued for one slow subscriber; older ones of the same order are merged. */
const MAX_QUEUED = 1_000;

/**
 * `orders.updated` events of one user as an async iterator for the orderUpdates subscription.
 * The filter runs here, on the server, on the authenticated user id; the listener is removed
 * when the subscription ends.
 */
export function orderUpdatesOf(
  emitter: EventEmitter2,
  userId: string,
): AsyncIterableIterator<{ orderUpdates: OrderView }> {
  const queue: OrderView[] = [];
  let pending: ((r: IteratorResult<{ orderUpdates: OrderView }>) => void) | null = null;
  let done = false;
  const listener = (event: OrderUpdatedEvent): void => {
    if (event.userId !== userId || done) return;
    if (pending) {
      const resolve = pending;
      pending = null;
      resolve({ value: { orderUpdates: event.order }, done: false });
      return;
    }
    if (queue.length >= MAX_QUEUED) {
      const older = queue.findIndex((o) => o.id === event.order.id);
      queue.splice(older >= 0 ? older : 0, 1);
    }
    queue.push(event.order);
  };
  emitter.on(ORDERS_UPDATED, listener);
  const finish = (): Promise<IteratorResult<{ orderUpdates: OrderView }>> => {
    done = true;
    emitter.off(ORDERS_UPDATED, listener);
    queue.length = 0;
    if (pending) pending({ value: undefined, done: true });
    pending = null;
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    next: () => {
      if (done) return Promise.resolve({ value: undefined, done: true });
      const next = queue.shift();
      if (next) return Promise.resolve({ value: { orderUpdates: next }, done: false });
      return new Promise((resolve) => (pending = resolve));
    },
    return: finish,
    throw: (error: unknown) => finish().then(() => Promise.reject(error)),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
