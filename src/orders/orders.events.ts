import type { OrderView } from './order-view';

/** Emitted after every applied transition of an order (EventEmitter2). */
export const ORDERS_UPDATED = 'orders.updated';
export interface OrderUpdatedEvent {
  userId: string;
  order: OrderView;
}
