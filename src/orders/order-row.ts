import { ConflictError, DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { ExecutionRejectedError } from '../execution/execution.contract';
import type { ExchangeSegment } from '@app/dhan/types';
import type { ReservationRow } from '../risk/funds.service';
import type { OrderTerms, OrderToCheck, RiskAction } from '../risk/risk.types';
import { OrderStatus } from '../trading/order-status';
import { type OrderState } from './domain/order-state';
import type { OrderEntity } from './entities/order.entity';
import { priceText } from './order-terms';

/** Statuses of an order the broker may still fill (or that may still reach it). */
export const WORKING_STATUSES: readonly OrderStatus[] = [
  OrderStatus.NEW,
  OrderStatus.IN_FLIGHT,
  OrderStatus.QUEUED,
  OrderStatus.UNKNOWN,
  OrderStatus.TRANSIT,
  OrderStatus.PENDING,
  OrderStatus.PART_TRADED,
];

/** The terms a pending modification asks for, kept on the row until the broker answers. */
export interface PendingTerms {
  orderType: string;
  validity: string;
  price: string | null;
  triggerPrice: string | null;
}

export function parseState(row: OrderEntity): OrderState {
  return JSON.parse(row.state) as OrderState;
}

export function termsOf(row: OrderEntity): OrderTerms {
  return {
    side: row.side as OrderTerms['side'],
    quantity: row.quantity,
    orderType: row.orderType as OrderTerms['orderType'],
    productType: row.productType as OrderTerms['productType'],
    validity: row.validity as OrderTerms['validity'],
    price: row.price === null ? undefined : Number(row.price),
    triggerPrice: row.triggerPrice === null ? undefined : Number(row.triggerPrice),
  };
}

/** The terms an idempotency key is bound to (as stored in the CREATED event). */
export function creationTerms(
  t: Pick<
    OrderEntity,
    | 'segment'
    | 'securityId'
    | 'side'
    | 'quantity'
    | 'orderType'
    | 'productType'
    | 'validity'
    | 'price'
    | 'triggerPrice'
  >,
): Record<string, unknown> {
  return {
    segment: t.segment,
    securityId: t.securityId,
    side: t.side,
    quantity: t.quantity,
    orderType: t.orderType,
    productType: t.productType,
    validity: t.validity,
    price: t.price,
    triggerPrice: t.triggerPrice,
  };
}

/** Average price in rupees, to 1/10,000 rupee. */
export function averageText(rupees: number): string {
  return priceText(Math.round(rupees * 10_000));
}

/** What the user is told when the broker refused, or did not confirm, a modify or a cancel. */
export function brokerRefusal(what: string, e: unknown): DomainError {
  if (e instanceof ExecutionRejectedError) {
    return new ConflictError(`${what} refused by the broker: ${e.reason}`);
  }
  return new DomainError(
    ErrorCode.CONFLICT,
    `${what} not confirmed by the broker; the order is unchanged, try again`,
  );
}

/** An order as RMS checks it: where it trades and the terms under check. */
export function riskOrder(row: OrderEntity, terms: OrderTerms, action: RiskAction): OrderToCheck {
  return {
    orderId: row.id,
    userId: row.userId,
    segment: row.segment as ExchangeSegment,
    securityId: row.securityId,
    action,
    side: terms.side,
    quantity: terms.quantity,
    orderType: terms.orderType,
    productType: terms.productType,
    validity: terms.validity,
    price: terms.price,
    triggerPrice: terms.triggerPrice,
  };
}

/** The order's stored funds reservation, as RMS reads it back. */
export function reservationRow(
  row: Pick<OrderEntity, 'id' | 'quantity' | 'filledQuantity' | 'reservedPaise' | 'reservation'>,
): ReservationRow {
  return {
    orderId: row.id,
    terms: row.reservation,
    heldPaise: row.reservedPaise,
    quantity: row.quantity,
    filledQuantity: row.filledQuantity,
  };
}
