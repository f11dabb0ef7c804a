import { rupeesToUnits } from '../../trading/price-units';
import type { OrderEvent, OrderEventType } from '../../trading/order-events';
import { isTerminal, OrderStatus } from '../../trading/order-status';

export const MAX_MODIFICATIONS = 25;

/**
 * Status changes the machine may make (a status may also stay the same while quantities move).
 * CANCELLED and EXPIRED may still become TRADED: the exchange filled the rest before the cancel
 * or expiry took effect and the broker says so (see `transition`).
 */
export const STATUS_EDGES: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  NEW: [OrderStatus.IN_FLIGHT, OrderStatus.REJECTED, OrderStatus.CANCELLED],
  IN_FLIGHT: [
    OrderStatus.QUEUED,
    OrderStatus.UNKNOWN,
    OrderStatus.TRANSIT,
    OrderStatus.PENDING,
    OrderStatus.PART_TRADED,
    OrderStatus.TRADED,
    OrderStatus.CANCELLED,
    OrderStatus.REJECTED,
    OrderStatus.EXPIRED,
  ],
  // Never sent while queued; the broker statuses cover a resend queued after a lookup found
  // nothing, should the broker show the earlier send after all.
  QUEUED: [
    OrderStatus.IN_FLIGHT,
    OrderStatus.TRANSIT,
    OrderStatus.PENDING,
    OrderStatus.PART_TRADED,
    OrderStatus.TRADED,
    OrderStatus.CANCELLED,
    OrderStatus.REJECTED,
    OrderStatus.EXPIRED,
  ],
  UNKNOWN: [
    OrderStatus.IN_FLIGHT,
    OrderStatus.TRANSIT,
    OrderStatus.PENDING,
    OrderStatus.PART_TRADED,
    OrderStatus.TRADED,
    OrderStatus.CANCELLED,
    OrderStatus.REJECTED,
    OrderStatus.EXPIRED,
  ],
  TRANSIT: [
    OrderStatus.PENDING,
    OrderStatus.PART_TRADED,
    OrderStatus.TRADED,
    OrderStatus.CANCELLED,
    OrderStatus.REJECTED,
    OrderStatus.EXPIRED,
  ],
  PENDING: [
    OrderStatus.PART_TRADED,
    OrderStatus.TRADED,
    OrderStatus.CANCELLED,
    OrderStatus.REJECTED,
    OrderStatus.EXPIRED,
  ],
  PART_TRADED: [OrderStatus.TRADED, OrderStatus.CANCELLED, OrderStatus.EXPIRED],
  TRADED: [],
  CANCELLED: [OrderStatus.TRADED],
  REJECTED: [],
  EXPIRED: [OrderStatus.TRADED],
};

/** How far along the broker's lifecycle a status is; a lower-ranked update is stale. */
const RANK: Readonly<Record<OrderStatus, number>> = {
  NEW: 0,
  IN_FLIGHT: 0,
  QUEUED: 0,
  UNKNOWN: 0,
  TRANSIT: 1,
  PENDING: 2,
  PART_TRADED: 3,
  TRADED: 4,
  CANCELLED: 4,
  REJECTED: 4,
  EXPIRED: 4,
};

/** The part of an order the state machine owns. Immutable: transitions return a new object. */
export interface OrderState {
  readonly status: OrderStatus;
  /** Total quantity (a modification changes it; DhanHQ v2: modify order). */
  readonly quantity: number;
  /** max(trades applied, broker-reported filled): both count the same fills. */
  readonly filledQuantity: number;
  readonly tradedQuantity: number;
  /** Sum of fill quantity x price in price units (1/10,000 rupee). */
  readonly tradedValueUnits: number;
  readonly tradeIds: readonly string[];
  readonly brokerFilledQuantity: number;
  /** Average traded price in rupees as the broker reported it. */
  readonly brokerAveragePrice?: number;
  readonly brokerOrderId?: string;
  readonly modificationCount: number;
  readonly pendingModify?: { readonly quantity: number };
  readonly pendingCancel: boolean;
  readonly rejectionReason?: string;
  /** Times the request was sent (a resend after RESOLVED_NOT_FOUND uses the same correlationId). */
  readonly sendAttempts: number;
}

/** A transition the machine refuses: to be logged and alerted, never applied. */
export interface IllegalTransition {
  readonly from: OrderStatus;
  readonly event: OrderEventType;
  readonly reason: string;
}

export type TransitionResult =
  | { kind: 'APPLIED'; state: OrderState; from: OrderStatus; to: OrderStatus }
  /** A duplicate or stale event: nothing to change, nothing wrong. */
  | { kind: 'IGNORED'; state: OrderState; reason: string }
  | { kind: 'ILLEGAL'; illegal: IllegalTransition };

export function newOrderState(quantity: number): OrderState {
  return {
    status: OrderStatus.NEW,
    quantity,
    filledQuantity: 0,
    tradedQuantity: 0,
    tradedValueUnits: 0,
    tradeIds: [],
    brokerFilledQuantity: 0,
    modificationCount: 0,
    pendingCancel: false,
    sendAttempts: 0,
  };
}

/** Average fill price in rupees (for display), from our trades or else the broker's figure. */
export function averagePrice(state: OrderState): number | undefined {
  if (state.tradedQuantity > 0 && state.tradedQuantity >= state.brokerFilledQuantity) {
    return state.tradedValueUnits / state.tradedQuantity / 10_000;
  }
  return state.brokerAveragePrice;
}

/**
 * Applies `event` to `state` and returns the new state, or says why the event is ignored or
 * illegal. Pure and total: never throws and never mutates `state`.
 */
export function transition(state: OrderState, event: OrderEvent): TransitionResult {
  switch (event.type) {
    case 'RISK_APPROVED':
      return state.status === OrderStatus.NEW
        ? applied(state, { status: OrderStatus.IN_FLIGHT })
        : illegal(state, event, 'risk is checked only on a new order');
    case 'RISK_DENIED':
      return state.status === OrderStatus.NEW
        ? applied(state, { status: OrderStatus.REJECTED, rejectionReason: event.code })
        : illegal(state, event, 'risk is checked only on a new order');
    case 'QUEUED':
      if (state.status === OrderStatus.QUEUED) return ignored(state, 'already queued');
      return state.status === OrderStatus.IN_FLIGHT
        ? applied(state, { status: OrderStatus.QUEUED })
        : illegal(state, event, 'only an approved order not yet sent is queued');
    case 'QUEUE_TIMEOUT':
      return state.status === OrderStatus.QUEUED
        ? applied(state, { status: OrderStatus.REJECTED, rejectionReason: event.reason })
        : illegal(state, event, 'only a queued order times out in the queue');
    case 'SENT':
      // A queued order leaves the queue as it is sent: one write on the grant path.
      return state.status === OrderStatus.IN_FLIGHT || state.status === OrderStatus.QUEUED
        ? applied(state, { status: OrderStatus.IN_FLIGHT, sendAttempts: state.sendAttempts + 1 })
        : illegal(state, event, 'only an approved order in flight or queued is sent');
    case 'AMBIGUOUS':
      if (state.status === OrderStatus.IN_FLIGHT)
        return applied(state, { status: OrderStatus.UNKNOWN });
      if (state.status === OrderStatus.UNKNOWN) return ignored(state, 'already being resolved');
      return illegal(state, event, 'only an order in flight can have an ambiguous outcome');
    case 'RESOLVED_NOT_FOUND':
      if (state.status === OrderStatus.UNKNOWN)
        return applied(state, { status: OrderStatus.IN_FLIGHT });
      if (state.status === OrderStatus.IN_FLIGHT)
        return ignored(state, 'not sent yet or already resendable');
      return illegal(state, event, 'the broker already knows this order');
    case 'ACKNOWLEDGED':
      return onAcknowledged(state, event);
    case 'BROKER_UPDATE':
      return onBrokerUpdate(state, event);
    case 'FILL':
      return onFill(state, event);
    case 'MODIFY_REQUESTED':
      return onModifyRequested(state, event);
    case 'MODIFY_ACKED':
      return onModifyAcked(state, event);
    case 'MODIFY_REJECTED':
      return state.pendingModify === undefined
        ? ignored(state, 'no modification pending')
        : applied(state, { pendingModify: undefined });
    case 'CANCEL_REQUESTED':
      return onCancelRequested(state, event);
    case 'CANCEL_ACKED':
      return onCancelAcked(state, event);
    case 'CANCEL_REJECTED':
      return state.pendingCancel
        ? applied(state, { pendingCancel: false })
        : ignored(state, 'no cancel pending');
  }
}

function onAcknowledged(
  state: OrderState,
  event: Extract<OrderEvent, { type: 'ACKNOWLEDGED' }>,
): TransitionResult {
  if (!event.brokerOrderId)
    return illegal(state, event, 'an acknowledgement carries the broker order id');
  if (state.brokerOrderId !== undefined && state.brokerOrderId !== event.brokerOrderId) {
    return illegal(
      state,
      event,
      `acknowledged as ${event.brokerOrderId}, known as ${state.brokerOrderId}`,
    );
  }
  if (state.status !== OrderStatus.IN_FLIGHT && state.status !== OrderStatus.UNKNOWN) {
    if (state.status === OrderStatus.NEW) return illegal(state, event, 'a new order was not sent');
    if (state.status === OrderStatus.QUEUED) {
      return illegal(state, event, 'a queued order is not sent while it waits');
    }
    return state.brokerOrderId === undefined
      ? applied(state, { brokerOrderId: event.brokerOrderId })
      : ignored(state, 'the broker already moved the order on');
  }
  return onBrokerUpdate(
    { ...state, brokerOrderId: event.brokerOrderId },
    { type: 'BROKER_UPDATE', status: event.status ?? OrderStatus.TRANSIT },
    state,
  );
}

function onBrokerUpdate(
  state: OrderState,
  event: Extract<OrderEvent, { type: 'BROKER_UPDATE' }>,
  original: OrderState = state,
): TransitionResult {
  const from = state.status;
  if (from === OrderStatus.NEW)
    return illegal(state, event, 'the broker cannot know an order never sent');
  if (
    event.brokerOrderId !== undefined &&
    state.brokerOrderId !== undefined &&
    event.brokerOrderId !== state.brokerOrderId
  ) {
    return illegal(
      state,
      event,
      `update for ${event.brokerOrderId}, order is ${state.brokerOrderId}`,
    );
  }
  const quantity = event.quantity ?? state.quantity;
  if (!isCount(quantity) || quantity === 0)
    return illegal(state, event, `bad quantity ${event.quantity}`);
  if (event.filledQuantity !== undefined && !isCount(event.filledQuantity)) {
    return illegal(state, event, `bad filled quantity ${event.filledQuantity}`);
  }
  const brokerFilled =
    event.filledQuantity ??
    (event.status === OrderStatus.TRADED ? quantity : state.brokerFilledQuantity);
  if (brokerFilled > quantity)
    return illegal(state, event, `filled ${brokerFilled} above quantity ${quantity}`);
  if (brokerFilled < state.brokerFilledQuantity)
    return ignored(original, 'stale: fewer fills than already known');
  if (quantity < state.filledQuantity) {
    return illegal(
      state,
      event,
      `quantity ${quantity} below the ${state.filledQuantity} already filled`,
    );
  }
  const filled = Math.max(state.tradedQuantity, brokerFilled);
  let to: OrderStatus = event.status;
  if (!isTerminal(to)) {
    if (filled === quantity) {
      return illegal(state, event, `${to} with all ${quantity} filled`);
    }
    // A working order with fills is part traded, whatever label came with the fills.
    if (filled > 0) to = OrderStatus.PART_TRADED;
  }

  if (RANK[to] < RANK[from]) return ignored(original, `stale: ${to} after ${from}`);
  if (isTerminal(from)) {
    if (to === from) {
      if (brokerFilled === state.brokerFilledQuantity && quantity === state.quantity) {
        return ignored(original, 'duplicate');
      }
    } else if (!(to === OrderStatus.TRADED && lateFillAllowed(from))) {
      return illegal(state, event, `${from} is final; the broker now says ${to}`);
    }
  }
  if (to !== from && !STATUS_EDGES[from].includes(to)) {
    return illegal(state, event, `${from} cannot become ${to}`);
  }
  if (to === OrderStatus.TRADED && filled !== quantity) {
    return illegal(state, event, `TRADED with ${filled} of ${quantity} filled`);
  }
  if (
    to === from &&
    brokerFilled === state.brokerFilledQuantity &&
    quantity === state.quantity &&
    state === original
  ) {
    return ignored(original, 'duplicate');
  }
  const next: Partial<Mutable<OrderState>> = {
    status: to,
    quantity,
    brokerFilledQuantity: brokerFilled,
    filledQuantity: filled,
    brokerAveragePrice: event.averagePrice ?? state.brokerAveragePrice,
    brokerOrderId: event.brokerOrderId ?? state.brokerOrderId,
  };
  if (isTerminal(to)) {
    next.pendingCancel = false;
    next.pendingModify = undefined;
  }
  if (to === OrderStatus.REJECTED && event.reason !== undefined)
    next.rejectionReason = event.reason;
  return appliedFrom(original, state, next);
}

function onFill(state: OrderState, event: Extract<OrderEvent, { type: 'FILL' }>): TransitionResult {
  const from = state.status;
  if (from === OrderStatus.NEW) return illegal(state, event, 'a fill for an order never sent');
  if (state.tradeIds.includes(event.tradeId))
    return ignored(state, `trade ${event.tradeId} already applied`);
  if (!isCount(event.quantity) || event.quantity === 0)
    return illegal(state, event, `bad fill quantity ${event.quantity}`);
  const priceUnits = rupeesToUnits(event.price);
  if (priceUnits === undefined || priceUnits === 0)
    return illegal(state, event, `bad fill price ${event.price}`);
  const traded = state.tradedQuantity + event.quantity;
  if (traded > state.quantity)
    return illegal(state, event, `overfill: ${traded} of ${state.quantity}`);
  const tradedValueUnits = state.tradedValueUnits + event.quantity * priceUnits;
  if (!Number.isSafeInteger(tradedValueUnits))
    return illegal(state, event, 'fill value out of range');
  if (from === OrderStatus.REJECTED) return illegal(state, event, 'a fill on a REJECTED order');
  if (from === OrderStatus.TRADED) {
    // The broker's TRADED status can arrive before its trade book lists every fill (DhanHQ's
    // trade book lags the order book): the late trade is recorded, the status stays TRADED.
    return applied(state, {
      tradedQuantity: traded,
      tradedValueUnits,
      tradeIds: [...state.tradeIds, event.tradeId],
    });
  }
  if (lateFillAllowed(from)) {
    // The exchange traded before the cancel/expiry took effect: record it, but only on the
    // broker's word that the order did trade.
    const evidence =
      event.brokerStatus === OrderStatus.PART_TRADED || event.brokerStatus === OrderStatus.TRADED;
    if (!evidence)
      return illegal(state, event, `a fill on a ${from} order without the broker's trade status`);
  }
  const filled = Math.max(traded, state.brokerFilledQuantity);
  let to: OrderStatus;
  if (filled === state.quantity) to = OrderStatus.TRADED;
  else if (lateFillAllowed(from)) to = from;
  else to = OrderStatus.PART_TRADED;
  return applied(state, {
    status: to,
    tradedQuantity: traded,
    tradedValueUnits,
    filledQuantity: filled,
    tradeIds: [...state.tradeIds, event.tradeId],
    ...(isTerminal(to) ? { pendingCancel: false, pendingModify: undefined } : {}),
  });
}

function onModifyRequested(
  state: OrderState,
  event: Extract<OrderEvent, { type: 'MODIFY_REQUESTED' }>,
): TransitionResult {
  if (state.status === OrderStatus.TRANSIT) return illegal(state, event, 'the order is in transit');
  if (state.status !== OrderStatus.PENDING && state.status !== OrderStatus.PART_TRADED) {
    return illegal(state, event, `a ${state.status} order cannot be modified`);
  }
  if (state.pendingModify !== undefined || state.pendingCancel) {
    return illegal(state, event, 'another modification or cancel is pending');
  }
  if (state.modificationCount >= MAX_MODIFICATIONS) {
    return illegal(state, event, `at most ${MAX_MODIFICATIONS} modifications per order`);
  }
  if (!isCount(event.quantity) || event.quantity <= state.filledQuantity) {
    return illegal(
      state,
      event,
      `quantity ${event.quantity} must stay above the ${state.filledQuantity} filled`,
    );
  }
  // Counted at request: DhanHQ's limit counts modifications sent, and a rejected one is not refunded.
  return applied(state, {
    pendingModify: { quantity: event.quantity },
    modificationCount: state.modificationCount + 1,
  });
}

function onModifyAcked(
  state: OrderState,
  event: Extract<OrderEvent, { type: 'MODIFY_ACKED' }>,
): TransitionResult {
  const pending = state.pendingModify;
  if (pending === undefined) return ignored(state, 'no modification pending');
  if (isTerminal(state.status)) return ignored(state, 'the order ended first');
  if (pending.quantity < state.filledQuantity) {
    return illegal(
      state,
      event,
      `modified quantity ${pending.quantity} below ${state.filledQuantity} filled`,
    );
  }
  const to = pending.quantity === state.filledQuantity ? OrderStatus.TRADED : state.status;
  return applied(state, { quantity: pending.quantity, pendingModify: undefined, status: to });
}

function onCancelRequested(
  state: OrderState,
  event: Extract<OrderEvent, { type: 'CANCEL_REQUESTED' }>,
): TransitionResult {
  switch (state.status) {
    case OrderStatus.NEW:
    case OrderStatus.QUEUED:
      // Never sent: cancelled here, nothing to ask the broker.
      return applied(state, { status: OrderStatus.CANCELLED });
    case OrderStatus.PENDING:
    case OrderStatus.PART_TRADED:
      if (state.pendingCancel) return ignored(state, 'cancel already pending');
      return applied(state, { pendingCancel: true });
    case OrderStatus.TRANSIT:
      return illegal(state, event, 'DhanHQ refuses to cancel an order in transit');
    case OrderStatus.IN_FLIGHT:
    case OrderStatus.UNKNOWN:
      return illegal(state, event, 'the order must be acknowledged or resolved first');
    default:
      return illegal(state, event, `a ${state.status} order cannot be cancelled`);
  }
}

function onCancelAcked(
  state: OrderState,
  event: Extract<OrderEvent, { type: 'CANCEL_ACKED' }>,
): TransitionResult {
  if (state.status === OrderStatus.PENDING || state.status === OrderStatus.PART_TRADED) {
    return applied(state, {
      status: OrderStatus.CANCELLED,
      pendingCancel: false,
      pendingModify: undefined,
    });
  }
  if (isTerminal(state.status)) return ignored(state, `the order is already ${state.status}`);
  return illegal(state, event, `a ${state.status} order has nothing to cancel at the broker`);
}

function lateFillAllowed(status: OrderStatus): boolean {
  return status === OrderStatus.CANCELLED || status === OrderStatus.EXPIRED;
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function applied(state: OrderState, changes: Partial<OrderState>): TransitionResult {
  return appliedFrom(state, state, changes);
}

function appliedFrom(
  original: OrderState,
  base: OrderState,
  changes: Partial<OrderState>,
): TransitionResult {
  const next: OrderState = { ...base, ...changes };
  return { kind: 'APPLIED', state: next, from: original.status, to: next.status };
}

function ignored(state: OrderState, reason: string): TransitionResult {
  return { kind: 'IGNORED', state, reason };
}

function illegal(state: OrderState, event: OrderEvent, reason: string): TransitionResult {
  return { kind: 'ILLEGAL', illegal: { from: state.status, event: event.type, reason } };
}
