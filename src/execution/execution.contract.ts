import type { ExchangeSegment } from '@app/dhan/types';
import type { BrokerStatus } from '../trading/order-status';
import type { OrderEvent } from '../trading/order-events';
import type { OrderSide, OrderType, ProductType, Validity } from '../trading/order-vocabulary';

/**
 * The boundary between the OMS (orders module) and the EMS (execution module).
 *
 * Direction of dependency: orders imports ExecutionModule and calls ExecutionService; execution
 * never imports orders. What the broker does to an order comes back as events
 * (`EXECUTION_ORDER_EVENT`), always carrying our order id, which execution resolves from the
 * correlationId or from its own routing record of brokerOrderId -> orderId.
 *
 * Execution owns: the gateways (DhanHQ, paper), its routing record of what it sent, the
 * order-update socket, reconciliation, trades (deduplicated by exchange trade id) and positions.
 * Orders owns: the order, its state machine and event log, idempotency, RMS calls.
 */

/** An order as the EMS sends it. `orderId` is ours; the correlationId is derived from it. */
export interface ExecutionOrder {
  orderId: string;
  userId: string;
  segment: ExchangeSegment;
  securityId: string;
  side: OrderSide;
  quantity: number;
  orderType: OrderType;
  productType: ProductType;
  validity: Validity;
  /** Rupees. */
  price?: number;
  triggerPrice?: number;
  boProfitValue?: number;
  boStopLossValue?: number;
}

/** A modification: `quantity` is the total order quantity (DhanHQ v2: modify order). */
export interface ExecutionModify {
  orderType: OrderType;
  validity: Validity;
  quantity: number;
  price?: number;
  triggerPrice?: number;
}

export interface ExecutionAck {
  brokerOrderId: string;
  status?: BrokerStatus;
}

/** The broker definitely refused the request (a DH-9xx answer, or the paper rules). */
export class ExecutionRejectedError extends Error {
  constructor(
    readonly reason: string,
    readonly brokerCode?: string,
  ) {
    super(reason);
    this.name = 'ExecutionRejectedError';
  }
}

/** The request left and no answer came: the outcome is unknown; resolve with `lookup`. */
export class ExecutionAmbiguousError extends Error {
  constructor(readonly causeDescription: string) {
    super(causeDescription);
    this.name = 'ExecutionAmbiguousError';
  }
}

/** The request never left (client rate limit, connection refused): safe to try again later. */
export class ExecutionUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ExecutionUnavailableError';
  }
}

/** What the broker knows of one of our orders, looked up by correlationId. */
export type ExecutionLookup =
  | { found: false }
  | {
      found: true;
      brokerOrderId: string;
      status: BrokerStatus;
      quantity: number;
      filledQuantity: number;
      averagePrice?: number;
      reason?: string;
    };

/**
 * What ExecutionService offers the OMS. Every method may throw ExecutionRejectedError,
 * ExecutionAmbiguousError or ExecutionUnavailableError (place also the first two only after the
 * routing record is stored, so a crash never loses what was sent). `place` stores an order's
 * routing record with a durable commit before its first request leaves, which makes every
 * write committed before it durable too (see CommitDurability): the OMS defers the flush of
 * the writes that lead up to a first send.
 */
export interface ExecutionPort {
  readonly gatewayKind: 'dhan' | 'paper';
  place(order: ExecutionOrder): Promise<ExecutionAck>;
  modify(orderId: string, change: ExecutionModify): Promise<void>;
  cancel(orderId: string): Promise<void>;
  lookup(orderId: string): Promise<ExecutionLookup>;
}

/** Emitted (EventEmitter2) for every broker update and every fill, from socket, reconciliation or paper engine. */
export const EXECUTION_ORDER_EVENT = 'execution.order-event';
export interface ExecutionOrderEventPayload {
  orderId: string;
  userId: string;
  /** BROKER_UPDATE or FILL (a FILL's tradeId is the exchange trade id, unique per segment). */
  event: Extract<OrderEvent, { type: 'BROKER_UPDATE' | 'FILL' }>;
  source: 'socket' | 'reconciliation' | 'paper' | 'lookup';
  at: Date;
}

/** Emitted after reconciliation of the whole day's book finished (startup, socket reconnect). */
export const EXECUTION_RECONCILED = 'execution.reconciled';
export interface ExecutionReconciledPayload {
  reason: 'startup' | 'reconnect' | 'manual';
  orders: number;
  tradesAdded: number;
}
