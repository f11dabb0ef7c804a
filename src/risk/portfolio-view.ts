import type { ExchangeSegment } from '@app/dhan/types';
import type { TradeRecord } from '../execution/execution.events';
import type { ProductType } from '../trading/order-vocabulary';

/** What RMS needs to know of a user's account, from the execution module's portfolio. */
export interface RiskAccountSnapshot {
  /** Net position in this instrument and product (units). */
  netQuantity: number;
  /** Sum over instruments of |net position| x LTP, in paise. */
  grossExposurePaise: number;
  /** Realised + unrealised P&L of the day, in paise (negative is a loss). */
  dayPnlPaise: number;
}

/**
 * The port through which RMS reads positions: bound in RiskModule to execution's
 * PortfolioService; specs bind a small fake.
 */
export interface PortfolioView {
  riskSnapshot(
    userId: string,
    segment: ExchangeSegment,
    securityId: string,
    productType: ProductType,
  ): RiskAccountSnapshot;
  /** Every stored trade of the user, in the order positions applied them. */
  tradesOf(userId: string): Promise<TradeRecord[]>;
  /** Unrealised P&L of the user's open positions, in paise. */
  unrealizedPnlPaise(userId: string): number;
}

export const PORTFOLIO_VIEW = Symbol('PORTFOLIO_VIEW');

/** No positions and no P&L. */
export const FLAT_PORTFOLIO: PortfolioView = {
  riskSnapshot: () => ({ netQuantity: 0, grossExposurePaise: 0, dayPnlPaise: 0 }),
  tradesOf: () => Promise.resolve([]),
  unrealizedPnlPaise: () => 0,
};
