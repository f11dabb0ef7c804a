import { OrderEvent } from '../../../trading/order-events';
import { OrderState, TransitionResult, newOrderState, transition } from '../order-state';
import { OrderStatus } from '../../../trading/order-status';

/** Applies events in order, failing loudly if any is not applied. */
export function afterEvents(state: OrderState, events: readonly OrderEvent[]): OrderState {
  return events.reduce((current, event) => {
    const result = transition(current, event);
    if (result.kind !== 'APPLIED') {
      throw new Error(`${event.type} on ${current.status}: ${describe(result)}`);
    }
    return result.state;
  }, state);
}

function describe(result: TransitionResult): string {
  return result.kind === 'ILLEGAL'
    ? result.illegal.reason
    : result.kind === 'IGNORED'
      ? result.reason
      : '';
}

/** An order of `quantity` (default 10) walked to `status` through the events that lead there. */
export function anOrderState(status: OrderStatus = OrderStatus.NEW, quantity = 10): OrderState {
  const start = newOrderState(quantity);
  const path: Partial<Record<OrderStatus, OrderEvent[]>> = {
    NEW: [],
    IN_FLIGHT: [{ type: 'RISK_APPROVED' }, { type: 'SENT' }],
    UNKNOWN: [{ type: 'RISK_APPROVED' }, { type: 'SENT' }, { type: 'AMBIGUOUS', cause: 'timeout' }],
    TRANSIT: [
      { type: 'RISK_APPROVED' },
      { type: 'SENT' },
      { type: 'ACKNOWLEDGED', brokerOrderId: 'B1' },
    ],
    PENDING: [
      { type: 'RISK_APPROVED' },
      { type: 'SENT' },
      { type: 'ACKNOWLEDGED', brokerOrderId: 'B1' },
      { type: 'BROKER_UPDATE', status: OrderStatus.PENDING },
    ],
    REJECTED: [{ type: 'RISK_DENIED', code: 'RATE_LIMIT' }],
  };
  const events = path[status];
  if (events !== undefined) return afterEvents(start, events);
  const pending = afterEvents(start, path.PENDING ?? []);
  switch (status) {
    case OrderStatus.PART_TRADED:
      return afterEvents(pending, [{ type: 'FILL', tradeId: 'T1', quantity: 1, price: 100 }]);
    case OrderStatus.TRADED:
      return afterEvents(pending, [{ type: 'FILL', tradeId: 'T1', quantity, price: 100 }]);
    case OrderStatus.CANCELLED:
      return afterEvents(pending, [{ type: 'CANCEL_REQUESTED' }, { type: 'CANCEL_ACKED' }]);
    default:
      return afterEvents(pending, [{ type: 'BROKER_UPDATE', status: OrderStatus.EXPIRED }]);
  }
}
