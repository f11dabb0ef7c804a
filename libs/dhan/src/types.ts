/**
 * Shared vocabulary of the DhanHQ v2 protocol (DhanHQ v2: feed header and packets, scrip master).
 * Framework-free: imported by the client, the simulator and the server alike.
 */

export enum ExchangeSegment {
  IDX_I = 'IDX_I',
  NSE_EQ = 'NSE_EQ',
  NSE_FNO = 'NSE_FNO',
  NSE_CURRENCY = 'NSE_CURRENCY',
  BSE_EQ = 'BSE_EQ',
  MCX_COMM = 'MCX_COMM',
  BSE_CURRENCY = 'BSE_CURRENCY',
  BSE_FNO = 'BSE_FNO',
}

/** Numeric segment code used in the binary feed header (DhanHQ v2: feed header; 6 is unused). */
export const SEGMENT_CODE: Readonly<Record<ExchangeSegment, number>> = {
  [ExchangeSegment.IDX_I]: 0,
  [ExchangeSegment.NSE_EQ]: 1,
  [ExchangeSegment.NSE_FNO]: 2,
  [ExchangeSegment.NSE_CURRENCY]: 3,
  [ExchangeSegment.BSE_EQ]: 4,
  [ExchangeSegment.MCX_COMM]: 5,
  [ExchangeSegment.BSE_CURRENCY]: 7,
  [ExchangeSegment.BSE_FNO]: 8,
};

/** Segment by numeric code; `undefined` for unknown codes. */
export const SEGMENT_BY_CODE: ReadonlyArray<ExchangeSegment | undefined> = (() => {
  const table: Array<ExchangeSegment | undefined> = new Array<ExchangeSegment | undefined>(9);
  for (const [segment, code] of Object.entries(SEGMENT_CODE)) {
    table[code] = segment as ExchangeSegment;
  }
  return table;
})();

export function isExchangeSegment(value: string): value is ExchangeSegment {
  return Object.prototype.hasOwnProperty.call(SEGMENT_CODE, value);
}

/**
 * A number that identifies one instrument on the feed without allocating a string:
 * segment code in the high part, security id (uint32) in the low 32 bits.
 */
export function instrumentKey(segmentCode: number, securityId: number): number {
  return segmentCode * 0x1_0000_0000 + securityId;
}

export function segmentCodeOfKey(key: number): number {
  return Math.floor(key / 0x1_0000_0000);
}

export function securityIdOfKey(key: number): number {
  return key % 0x1_0000_0000;
}

/** Feed subscription modes and their request codes (DhanHQ v2: feed modes). */
export enum FeedMode {
  TICKER = 'TICKER',
  QUOTE = 'QUOTE',
  FULL = 'FULL',
}

/** Higher rank carries more data: a FULL subscription also yields what QUOTE and TICKER give. */
export const FEED_MODE_RANK: Readonly<Record<FeedMode, number>> = {
  [FeedMode.TICKER]: 1,
  [FeedMode.QUOTE]: 2,
  [FeedMode.FULL]: 3,
};

export enum FeedRequestCode {
  CONNECT = 11,
  DISCONNECT = 12,
  SUBSCRIBE_TICKER = 15,
  UNSUBSCRIBE_TICKER = 16,
  SUBSCRIBE_QUOTE = 17,
  UNSUBSCRIBE_QUOTE = 18,
  SUBSCRIBE_FULL = 21,
  UNSUBSCRIBE_FULL = 22,
  SUBSCRIBE_DEPTH = 23,
  UNSUBSCRIBE_DEPTH = 24,
}

export const SUBSCRIBE_CODE: Readonly<Record<FeedMode, FeedRequestCode>> = {
  [FeedMode.TICKER]: FeedRequestCode.SUBSCRIBE_TICKER,
  [FeedMode.QUOTE]: FeedRequestCode.SUBSCRIBE_QUOTE,
  [FeedMode.FULL]: FeedRequestCode.SUBSCRIBE_FULL,
};

export const UNSUBSCRIBE_CODE: Readonly<Record<FeedMode, FeedRequestCode>> = {
  [FeedMode.TICKER]: FeedRequestCode.UNSUBSCRIBE_TICKER,
  [FeedMode.QUOTE]: FeedRequestCode.UNSUBSCRIBE_QUOTE,
  [FeedMode.FULL]: FeedRequestCode.UNSUBSCRIBE_FULL,
};

/** Response codes of the binary feed (DhanHQ v2: feed packets). */
export enum FeedResponseCode {
  INDEX = 1,
  TICKER = 2,
  QUOTE = 4,
  OI = 5,
  PREV_CLOSE = 6,
  MARKET_STATUS = 7,
  FULL = 8,
  DISCONNECT = 50,
}

/** Feed / data-API disconnect and error codes (DhanHQ v2: feed disconnect codes). */
export enum FeedDisconnectCode {
  INTERNAL_SERVER_ERROR = 800,
  INSTRUMENTS_EXCEED_LIMIT = 804,
  TOO_MANY_CONNECTIONS = 805,
  DATA_API_NOT_SUBSCRIBED = 806,
  ACCESS_TOKEN_EXPIRED = 807,
  AUTHENTICATION_FAILED = 808,
  ACCESS_TOKEN_INVALID = 809,
  CLIENT_ID_INVALID = 810,
  INVALID_EXPIRY_DATE = 811,
  INVALID_DATE_FORMAT = 812,
  INVALID_SECURITY_ID = 813,
  INVALID_REQUEST = 814,
}

/** Hard limits of the DhanHQ feed (DhanHQ v2: feed limits). */
export const FEED_LIMITS = {
  maxConnections: 5,
  maxInstrumentsPerConnection: 5000,
  maxInstrumentsPerMessage: 100,
  maxInstrumentsTotal: 25000,
} as const;

/** Option side as DhanHQ writes it. */
export type OptionType = 'CE' | 'PE';

/** One row of the scrip master, normalised (DhanHQ v2: scrip master). Tick size is in rupees. */
export interface Instrument {
  segment: ExchangeSegment;
  securityId: string;
  exchange: 'NSE' | 'BSE' | 'MCX';
  /** SEM_INSTRUMENT_NAME: INDEX, EQUITY, FUTIDX, OPTIDX, FUTSTK, OPTSTK, FUTCOM, OPTFUT, FUTCUR, OPTCUR. */
  instrumentType: string;
  /** Exchange trading symbol (SEM_TRADING_SYMBOL), e.g. `NIFTY-Dec2026-24000-CE`, or the index name. */
  symbol: string;
  /** Dhan display name (SEM_CUSTOM_SYMBOL), e.g. `NIFTY 30 DEC 24000 CALL`. */
  displayName: string;
  /** Underlying symbol for derivatives (e.g. NIFTY, CRUDEOIL); undefined for cash and indices. */
  underlying?: string;
  /** Expiry as an ISO date (YYYY-MM-DD) for derivatives. */
  expiry?: string;
  strike?: number;
  optionType?: OptionType;
  /** 'W' weekly or 'M' monthly, where the file says. */
  expiryFlag?: string;
  lotSize: number;
  /** In rupees (the compact file writes paise; DhanHQ v2: tick size in paise). */
  tickSize: number;
}
