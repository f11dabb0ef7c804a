import type { ExchangeSegment } from '@app/dhan/types';
import type { ProductType } from '../trading/order-vocabulary';

/**
 * DI token of the ExecutionPort (src/execution/execution.contract.ts) the OMS calls. Bound to
 * ExecutionService in OrdersModule; unit specs bind a small in-memory fake.
 */
export const EXECUTION_PORT = Symbol('EXECUTION_PORT');

/** What RMS needs to know of a user's account, from the execution module's portfolio. */
export interface RiskAccountSnapshot {
  /** Net position in this instrument and product (units). */
  netQuantity: number;
  /** Sum over instruments of |net position| x LTP, in paise. */
  grossExposurePaise: number;
  /** Realised + unrealised P&L of the day, in paise (negative is a loss). */
  dayPnlPaise: number;
}

/** The part of execution's PortfolioService the OMS reads. */
export interface PortfolioView {
  riskSnapshot(
    userId: string,
    segment: ExchangeSegment,
    securityId: string,
    productType: ProductType,
  ): RiskAccountSnapshot;
}

export const PORTFOLIO_VIEW = Symbol('PORTFOLIO_VIEW');

/** No positions and no P&L: the view until the execution module provides one. */
export const FLAT_PORTFOLIO: PortfolioView = {
  riskSnapshot: () => ({ netQuantity: 0, grossExposurePaise: 0, dayPnlPaise: 0 }),
};
