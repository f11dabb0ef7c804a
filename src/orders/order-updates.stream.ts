import type { EventEmitter2 } from '@nestjs/event-emitter';
import { topicStream } from '../common/subscriptions/topic-stream';
import type { OrderView } from './order-view';
import { ORDERS_UPDATED, type OrderUpdatedEvent } from './orders.events';

/** Cap of updates queued for one slow subscriber; older ones of the same order are merged. */
const MAX_QUEUED = 1_000;

/**
 * `orders.updated` events of one user for the orderUpdates subscription. The filter runs here,
 * on the server, on the authenticated user id; the listener is removed when the subscription ends.
 */
export function orderUpdatesOf(
  emitter: EventEmitter2,
  userId: string,
): AsyncIterableIterator<{ orderUpdates: OrderView }> {
  return topicStream<OrderUpdatedEvent, { orderUpdates: OrderView }>(emitter, ORDERS_UPDATED, {
    filter: (event) => event.userId === userId,
    map: (event) => ({ orderUpdates: event.order }),
    maxQueued: MAX_QUEUED,
    mergeBy: (event) => event.order.id,
  });
}
