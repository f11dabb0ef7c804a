/**
 * Emitted (EventEmitter2), with REDIS_URL only, after this instance changed what a user's funds
 * are rebuilt from (an order's stored reservation, a settled trade, an adjustment). The cluster
 * relay publishes it and emits the other instances' copies here with `remote: true`; a `funds`
 * query answers from the database again after either (FundsService).
 */
export const FUNDS_CHANGED = 'funds.changed';
export interface FundsChangedEvent {
  userId: string;
  /** Set on a copy another instance announced. */
  remote?: boolean;
}

/**
 * Emitted when an order's reservation holds nothing more: every unit it held for is carried by
 * a settled trade, or the order ended without filling them. The OMS may drop the reservation it
 * stores with the order (a rebuild would find nothing to hold there either).
 */
export const RESERVATION_SETTLED = 'funds.reservation-settled';
export interface ReservationSettledEvent {
  userId: string;
  orderId: string;
}
