/**
 * Order lifecycle. Local states come first: NEW (stored, not yet risk-checked), IN_FLIGHT
 * (risk-approved and possibly sent, no broker acknowledgement yet), QUEUED (risk-approved and
 * waiting for the firm's order budget, never sent while queued) and UNKNOWN (the send had an
 * ambiguous outcome and is being resolved by correlationId). The rest are DhanHQ's statuses
 * (DhanHQ v2: order statuses). A risk denial is stored as REJECTED with the denial code as rejectionReason.
 */
export enum OrderStatus {
  NEW = 'NEW',
  IN_FLIGHT = 'IN_FLIGHT',
  QUEUED = 'QUEUED',
  UNKNOWN = 'UNKNOWN',
  TRANSIT = 'TRANSIT',
  PENDING = 'PENDING',
  PART_TRADED = 'PART_TRADED',
  TRADED = 'TRADED',
  CANCELLED = 'CANCELLED',
  REJECTED = 'REJECTED',
  EXPIRED = 'EXPIRED',
}

/** Statuses the broker reports. */
export type BrokerStatus =
  | OrderStatus.TRANSIT
  | OrderStatus.PENDING
  | OrderStatus.PART_TRADED
  | OrderStatus.TRADED
  | OrderStatus.CANCELLED
  | OrderStatus.REJECTED
  | OrderStatus.EXPIRED;

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set([
  OrderStatus.TRADED,
  OrderStatus.CANCELLED,
  OrderStatus.REJECTED,
  OrderStatus.EXPIRED,
]);

const BROKER_STATUS_NAMES: Readonly<Record<string, BrokerStatus>> = {
  TRANSIT: OrderStatus.TRANSIT,
  PENDING: OrderStatus.PENDING,
  PART_TRADED: OrderStatus.PART_TRADED,
  PARTTRADED: OrderStatus.PART_TRADED,
  TRADED: OrderStatus.TRADED,
  CANCELLED: OrderStatus.CANCELLED,
  REJECTED: OrderStatus.REJECTED,
  EXPIRED: OrderStatus.EXPIRED,
  // Super-order and forever-order statuses (DhanHQ v2: order statuses) seen on plain orders' books:
  // TRIGGERED (an SL leg fired) is still working; CONFIRM is an accepted forever order waiting;
  // CLOSED means the entry leg traded and its exit legs were placed.
  TRIGGERED: OrderStatus.PENDING,
  CONFIRM: OrderStatus.PENDING,
  CLOSED: OrderStatus.TRADED,
};

/**
 * A broker status string (REST upper case, order-update socket Title-case, DhanHQ v2: order-update payloads as seen) as a
 * BrokerStatus; `undefined` when unknown.
 */
export function parseBrokerStatus(raw: string): BrokerStatus | undefined {
  return BROKER_STATUS_NAMES[raw.trim().toUpperCase().replace(/[\s-]/g, '_')];
}

export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}
