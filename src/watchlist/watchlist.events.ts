import type { ExchangeSegment } from '@app/dhan';

/** Event on the Nest EventEmitter2 after a watchlist change has been committed. */
export const WATCHLIST_CHANGED = 'watchlist.changed';

export enum WatchlistChange {
  CREATED = 'CREATED',
  RENAMED = 'RENAMED',
  DELETED = 'DELETED',
  ITEM_ADDED = 'ITEM_ADDED',
  ITEM_UPDATED = 'ITEM_UPDATED',
  ITEM_REMOVED = 'ITEM_REMOVED',
}

export interface WatchlistItemKey {
  segment: ExchangeSegment;
  securityId: string;
}

export interface WatchlistChangedEvent {
  change: WatchlistChange;
  userId: string;
  watchlistId: string;
  /** Items the change added, updated or removed (every item of a deleted list). */
  items: WatchlistItemKey[];
  /** Made on another instance and relayed here (REDIS_URL). */
  remote?: true;
}
