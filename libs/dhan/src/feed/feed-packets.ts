import { ExchangeSegment, FeedResponseCode } from '../types';

/** Bits of `FeedPacket.flags`: why a packet is not `valid`. */
export const PacketFlag = {
  /** LTP (or previous close) is NaN or infinite. */
  PRICE_NOT_FINITE: 1,
  /** LTP (or previous close) is below zero. */
  PRICE_NEGATIVE: 2,
  /** LTP is exactly zero. */
  PRICE_ZERO: 4,
  /** A secondary price (ATP, OHLC, depth) is NaN, infinite or negative. */
  AUX_PRICE_INVALID: 8,
} as const;

interface PacketHeader {
  segment: ExchangeSegment;
  securityId: number;
  /** False when a price is unusable; the reasons are in `flags`. */
  valid: boolean;
  flags: number;
}

export interface TickerPacket extends PacketHeader {
  type: FeedResponseCode.TICKER;
  ltp: number;
  /** Last trade time in true UTC epoch seconds (0 when the feed sent 0). */
  ltt: number;
}

export interface PrevClosePacket extends PacketHeader {
  type: FeedResponseCode.PREV_CLOSE;
  prevClose: number;
  prevOi: number;
}

export interface QuotePacket extends PacketHeader {
  type: FeedResponseCode.QUOTE;
  ltp: number;
  ltq: number;
  ltt: number;
  atp: number;
  volume: number;
  totalSellQty: number;
  totalBuyQty: number;
  open: number;
  close: number;
  high: number;
  low: number;
}

export interface OiPacket extends PacketHeader {
  type: FeedResponseCode.OI;
  oi: number;
}

export interface DepthLevel {
  bidQty: number;
  askQty: number;
  bidOrders: number;
  askOrders: number;
  bidPrice: number;
  askPrice: number;
}

export interface FullPacket extends PacketHeader {
  type: FeedResponseCode.FULL;
  ltp: number;
  ltq: number;
  ltt: number;
  atp: number;
  volume: number;
  totalSellQty: number;
  totalBuyQty: number;
  oi: number;
  oiDayHigh: number;
  oiDayLow: number;
  open: number;
  close: number;
  high: number;
  low: number;
  /** Five levels, best first. */
  depth: DepthLevel[];
}

/** Code 7: the layout past the header is undocumented (DhanHQ v2: undocumented packet). */
export interface MarketStatusPacket extends PacketHeader {
  type: FeedResponseCode.MARKET_STATUS;
}

export interface DisconnectPacket extends PacketHeader {
  type: FeedResponseCode.DISCONNECT;
  reason: number;
}

export type FeedPacket =
  | TickerPacket
  | PrevClosePacket
  | QuotePacket
  | OiPacket
  | FullPacket
  | MarketStatusPacket
  | DisconnectPacket;

/** Why a byte range of a frame was dropped. */
export enum FeedDecodeError {
  EMPTY_FRAME = 'EMPTY_FRAME',
  /** Fewer than 8 bytes left: not even a header. */
  TRUNCATED_HEADER = 'TRUNCATED_HEADER',
  /** The length field points past the end of the frame. */
  LENGTH_BEYOND_FRAME = 'LENGTH_BEYOND_FRAME',
  /** The length field is below the 8-byte header: the rest of the frame cannot be split. */
  LENGTH_UNDER_HEADER = 'LENGTH_UNDER_HEADER',
  UNKNOWN_CODE = 'UNKNOWN_CODE',
  UNKNOWN_SEGMENT = 'UNKNOWN_SEGMENT',
  /** The length is too short for the packet type it announces. */
  SHORT_FOR_TYPE = 'SHORT_FOR_TYPE',
}

export const PACKET_SIZE = {
  HEADER: 8,
  TICKER: 16,
  PREV_CLOSE: 16,
  QUOTE: 50,
  OI: 12,
  FULL: 162,
  DISCONNECT: 10,
  DEPTH_LEVEL: 20,
  DEPTH_LEVELS: 5,
} as const;

/** 20-level depth feed (DhanHQ v2: 20-level depth feed). */
export enum DepthResponseCode {
  BID = 41,
  DISCONNECT = 50,
  ASK = 51,
}

export interface DepthRow {
  price: number;
  quantity: number;
  orders: number;
}

export interface DepthSidePacket {
  type: DepthResponseCode.BID | DepthResponseCode.ASK;
  side: 'BID' | 'ASK';
  segment: ExchangeSegment;
  securityId: number;
  /** Bytes 8-11: a sequence on the 20-level feed, a row count on the 200-level feed. */
  sequence: number;
  rows: DepthRow[];
  valid: boolean;
  flags: number;
}

export interface DepthDisconnectPacket {
  type: DepthResponseCode.DISCONNECT;
  segment: ExchangeSegment | undefined;
  securityId: number;
  reason: number;
}

export type DepthPacket = DepthSidePacket | DepthDisconnectPacket;

export const DEPTH_SIZE = { HEADER: 12, ROW: 16, ROWS_20: 20 } as const;
