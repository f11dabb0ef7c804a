import { ExchangeSegment } from '@app/dhan/types';

export enum Exchange {
  NSE = 'NSE',
  BSE = 'BSE',
  MCX = 'MCX',
}

export enum MarketPhase {
  CLOSED = 'CLOSED',
  PRE_OPEN = 'PRE_OPEN',
  OPEN = 'OPEN',
  POST_CLOSE = 'POST_CLOSE',
}

/**
 * Exchange whose holidays and hours govern each DhanHQ segment. IDX_I carries both NSE and BSE
 * indices (NIFTY, SENSEX); it follows NSE, whose equity holidays BSE matches.
 */
export const SEGMENT_EXCHANGE: Readonly<Record<ExchangeSegment, Exchange>> = {
  [ExchangeSegment.IDX_I]: Exchange.NSE,
  [ExchangeSegment.NSE_EQ]: Exchange.NSE,
  [ExchangeSegment.NSE_FNO]: Exchange.NSE,
  [ExchangeSegment.NSE_CURRENCY]: Exchange.NSE,
  [ExchangeSegment.BSE_EQ]: Exchange.BSE,
  [ExchangeSegment.BSE_FNO]: Exchange.BSE,
  [ExchangeSegment.BSE_CURRENCY]: Exchange.BSE,
  [ExchangeSegment.MCX_COMM]: Exchange.MCX,
};

/** Which orders the pre-open call auction takes (DhanHQ v2: market hours: F&O pre-open is for futures only). */
export type PreOpenScope = 'ALL' | 'FUTURES_ONLY';

/** One segment's session on one IST trading date; all instants are absolute (UTC) `Date`s. */
export interface TradingSession {
  segment: ExchangeSegment;
  exchange: Exchange;
  /** IST calendar date, `YYYY-MM-DD`. */
  tradingDate: string;
  preOpen: { start: Date; end: Date; scope: PreOpenScope } | null;
  open: Date;
  close: Date;
  /** End of the post-close (closing-price) window, when the segment has one. */
  postCloseEnd: Date | null;
  /** MCX only: true when the morning is closed for an exchange holiday and only the evening trades. */
  eveningOnly: boolean;
}

/** A calendar date (`YYYY-MM-DD`, read as an IST date) or an instant (its IST date is used). */
export type CalendarDateInput = string | Date;
