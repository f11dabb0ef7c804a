import type { EventEmitter2 } from '@nestjs/event-emitter';
import { topicStream } from '../common/subscriptions/topic-stream';
import { PositionBook } from './domain';
import { POSITIONS_UPDATED, type PositionsUpdatedPayload } from './execution.events';

/**
 * `positions.updated` events of one user. The filter runs on the server on the authenticated
 * user id. PortfolioService publishes a position at most every ~250 ms; a subscriber that has
 * not read yet keeps only the latest state of each position (latest wins).
 */
export function positionUpdatesOf<T>(
  emitter: EventEmitter2,
  userId: string,
  map: (payload: PositionsUpdatedPayload) => T,
): AsyncIterableIterator<{ positionUpdates: T }> {
  return topicStream<PositionsUpdatedPayload, { positionUpdates: T }>(emitter, POSITIONS_UPDATED, {
    filter: (payload) => payload.key.userId === userId,
    map: (payload) => ({ positionUpdates: map(payload) }),
    conflateBy: (payload) => PositionBook.keyOf(payload.key),
  });
}
