import type { PositionKey, PositionView } from './domain';

/**
 * Emitted (EventEmitter2) once per trade, right after it was stored and applied to positions,
 * whatever path it came by: the funds ledger settles it. Price in 1/10,000-rupee units.
 */
export const TRADE_STORED = 'execution.trade-stored';
export interface TradeStoredPayload {
  trade: TradeRecord;
}

/** A stored trade as other modules read it. */
export interface TradeRecord {
  userId: string;
  orderId: string;
  segment: string;
  securityId: string;
  productType: string;
  side: 'BUY' | 'SELL';
  quantity: number;
  exchangeTradeId: string;
  priceUnits: number;
  tradedAt: Date;
}

/** Emitted (EventEmitter2) when a position's quantities or P&L changed, at most every ~250 ms. */
export const POSITIONS_UPDATED = 'positions.updated';
export interface PositionsUpdatedPayload {
  key: PositionKey;
  view: PositionView;
}
