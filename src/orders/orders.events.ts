import type { OrderView } from './order-view';

/** Emitted after an applied transition that changed the order as the API shows it. */
export const ORDERS_UPDATED = 'orders.updated';
export interface OrderUpdatedEvent {
  userId: string;
  order: OrderView;
}

/** Emitted after every applied transition, shown or not (SENT is written ahead unseen). */
export const ORDER_TRANSITION = 'orders.transition';
export interface OrderTransitionEvent {
  orderId: string;
  userId: string;
  /** The state-machine event applied (CREATED for a new order). */
  type: string;
  from: string | null;
  to: string;
  /** RISK_DENIED: the denial code. */
  reason?: string;
}
