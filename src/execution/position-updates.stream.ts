import type { EventEmitter2 } from '@nestjs/event-emitter';
import { PositionBook } from './domain';
import { POSITIONS_UPDATED, type PositionsUpdatedPayload } from './execution.events';

/**
 * `positions.updated` events of one user as an async iterator. The filter runs on the server on
 * the authenticated user id. PortfolioService publishes a position at most every ~250 ms; a
 * subscriber that has not read yet keeps only the latest state of each position (latest wins).
 */
export function positionUpdatesOf<T>(
  emitter: EventEmitter2,
  userId: string,
  map: (payload: PositionsUpdatedPayload) => T,
): AsyncIterableIterator<{ positionUpdates: T }> {
  const queue = new Map<string, PositionsUpdatedPayload>();
  let pending: ((r: IteratorResult<{ positionUpdates: T }>) => void) | null = null;
  let done = false;
  const listener = (payload: PositionsUpdatedPayload): void => {
    if (done || payload.key.userId !== userId) return;
    if (pending) {
      const resolve = pending;
      pending = null;
      resolve({ value: { positionUpdates: map(payload) }, done: false });
      return;
    }
    const id = PositionBook.keyOf(payload.key);
    queue.delete(id);
    queue.set(id, payload);
  };
  emitter.on(POSITIONS_UPDATED, listener);
  const finish = (): Promise<IteratorResult<{ positionUpdates: T }>> => {
    done = true;
    emitter.off(POSITIONS_UPDATED, listener);
    queue.clear();
    if (pending) pending({ value: undefined, done: true });
    pending = null;
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    next: () => {
      if (done) return Promise.resolve({ value: undefined, done: true });
      const first = queue.entries().next();
      if (!first.done) {
        queue.delete(first.value[0]);
        return Promise.resolve({ value: { positionUpdates: map(first.value[1]) }, done: false });
      }
      return new Promise((resolve) => (pending = resolve));
    },
    return: finish,
    throw: (error: unknown) => finish().then(() => Promise.reject(error)),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
