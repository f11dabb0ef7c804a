import type { ResolvedAppConfig } from '../config/app-config';

/** Timings of the OMS's retry and resolution loops (ms). */
export interface OrdersOptions {
  /** First delay of the lookup loop that resolves an UNKNOWN order; doubles, full jitter. */
  lookupBaseMs: number;
  lookupCapMs: number;
  /**
   * How long the broker may take to show an order it was sent: a lookup that does not find it
   * within this time (from the ambiguous send) counts as "not received" and the order is resent
   * with the same correlationId.
   */
  notFoundGraceMs: number;
  /** Resend after ExecutionUnavailableError (the request never left); doubles, full jitter. */
  sendRetryBaseMs: number;
  sendRetryCapMs: number;
  /** Sends of one order before it is given up as REJECTED (BROKER_UNAVAILABLE). */
  maxSendAttempts: number;
  /** A MARKET order on an instrument not yet streaming waits this long for its first tick. */
  marketPriceWaitMs: number;
  /** MARKET / SL-M orders are sent as limits this far beyond the LTP / trigger (percent). */
  marketProtectionPercent: number;
  /** An order above the freeze quantity is split into at most this many children. */
  maxSlices: number;
}

export const DEFAULT_ORDERS_OPTIONS: Readonly<OrdersOptions> = {
  lookupBaseMs: 250,
  lookupCapMs: 5_000,
  notFoundGraceMs: 5_000,
  sendRetryBaseMs: 500,
  sendRetryCapMs: 10_000,
  maxSendAttempts: 5,
  marketPriceWaitMs: 3_000,
  marketProtectionPercent: 2,
  maxSlices: 10,
};

export const ORDERS_OPTIONS = Symbol('ORDERS_OPTIONS');

/** Tests and embedders can set `orders` on the resolved configuration. */
export interface OrdersRuntimeConfig extends ResolvedAppConfig {
  orders?: Partial<OrdersOptions>;
}

export function ordersOptions(config: ResolvedAppConfig): OrdersOptions {
  return {
    ...DEFAULT_ORDERS_OPTIONS,
    marketProtectionPercent: config.execution.marketProtectionPercent,
    maxSlices: config.execution.maxSlices,
    ...(config as OrdersRuntimeConfig).orders,
  };
}

/** Full-jitter exponential backoff: a ten-line helper rather than a dependency. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random = Math.random) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.max(1, Math.round(random() * ceiling));
}
