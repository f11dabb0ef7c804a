/**
 * A basket's life: PENDING (stored; risk check, then its legs being sent), PLACED (every leg
 * placed and none refused on the way), PARTIAL (legs placed, some refused or not placed after
 * a restart), REJECTED (the combined risk check failed: nothing was sent), CANCELLED
 * (cancelBasket: unsent legs never go, working legs are cancelled).
 */
export enum BasketStatus {
  PENDING = 'PENDING',
  PLACED = 'PLACED',
  PARTIAL = 'PARTIAL',
  REJECTED = 'REJECTED',
  CANCELLED = 'CANCELLED',
}

/** Most legs one basket may carry. */
export const MAX_BASKET_LEGS = 20;
