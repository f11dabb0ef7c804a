import { FeedResponseCode } from '@app/dhan/types';
import { DepthLevel, InstrumentState } from './market';

/**
 * Binary packets of the v2 live feed (DhanHQ v2: feed packets), little endian, written from the
 * documented tables independently of the client's decoder.
 */
export const PACKET_SIZE = {
  TICKER: 16,
  PREV_CLOSE: 16,
  QUOTE: 50,
  OI: 12,
  FULL: 162,
  DISCONNECT: 10,
  MARKET_STATUS: 8,
} as const;

const INT32_MAX = 2_147_483_647;

function int32(value: number): number {
  if (!Number.isFinite(value)) return 0;
  return Math.max(-2_147_483_648, Math.min(INT32_MAX, Math.trunc(value)));
}

function int16(value: number): number {
  return Math.max(0, Math.min(32_767, Math.trunc(value)));
}

export function writeHeader(
  buf: Buffer,
  offset: number,
  code: number,
  length: number,
  segmentCode: number,
  securityId: number,
): void {
  buf.writeUInt8(code, offset);
  buf.writeInt16LE(length, offset + 1);
  buf.writeUInt8(segmentCode, offset + 3);
  buf.writeInt32LE(int32(securityId), offset + 4);
}

/** Ticker (2): LTP and LTT. Returns the offset after the packet. */
export function writeTicker(
  buf: Buffer,
  offset: number,
  segmentCode: number,
  securityId: number,
  ltp: number,
  ltt: number,
): number {
  writeHeader(buf, offset, FeedResponseCode.TICKER, PACKET_SIZE.TICKER, segmentCode, securityId);
  buf.writeFloatLE(ltp, offset + 8);
  buf.writeInt32LE(int32(ltt), offset + 12);
  return offset + PACKET_SIZE.TICKER;
}

/** Prev close (6): previous close and previous OI. */
export function writePrevClose(
  buf: Buffer,
  offset: number,
  segmentCode: number,
  securityId: number,
  prevClose: number,
  prevOi: number,
): number {
  writeHeader(
    buf,
    offset,
    FeedResponseCode.PREV_CLOSE,
    PACKET_SIZE.PREV_CLOSE,
    segmentCode,
    securityId,
  );
  buf.writeFloatLE(prevClose, offset + 8);
  buf.writeInt32LE(int32(prevOi), offset + 12);
  return offset + PACKET_SIZE.PREV_CLOSE;
}

/** Quote (4): 50 bytes, OHLC right after the buy/sell totals. */
export function writeQuote(
  buf: Buffer,
  offset: number,
  segmentCode: number,
  securityId: number,
  s: InstrumentState,
  atp: number,
  ltt: number,
): number {
  writeHeader(buf, offset, FeedResponseCode.QUOTE, PACKET_SIZE.QUOTE, segmentCode, securityId);
  buf.writeFloatLE(s.ltp, offset + 8);
  buf.writeInt16LE(int16(s.ltq), offset + 12);
  buf.writeInt32LE(int32(ltt), offset + 14);
  buf.writeFloatLE(atp, offset + 18);
  buf.writeInt32LE(int32(s.volume), offset + 22);
  buf.writeInt32LE(int32(s.totalSellQty), offset + 26);
  buf.writeInt32LE(int32(s.totalBuyQty), offset + 30);
  buf.writeFloatLE(s.open, offset + 34);
  buf.writeFloatLE(s.close, offset + 38);
  buf.writeFloatLE(s.high, offset + 42);
  buf.writeFloatLE(s.low, offset + 46);
  return offset + PACKET_SIZE.QUOTE;
}

/** OI (5): open interest. */
export function writeOi(
  buf: Buffer,
  offset: number,
  segmentCode: number,
  securityId: number,
  oi: number,
): number {
  writeHeader(buf, offset, FeedResponseCode.OI, PACKET_SIZE.OI, segmentCode, securityId);
  buf.writeInt32LE(int32(oi), offset + 8);
  return offset + PACKET_SIZE.OI;
}

/** Full (8): 162 bytes, OI block between totals and OHLC, then 5 depth levels of 20 bytes. */
export function writeFull(
  buf: Buffer,
  offset: number,
  segmentCode: number,
  securityId: number,
  s: InstrumentState,
  atp: number,
  ltt: number,
  depth: readonly DepthLevel[],
): number {
  writeHeader(buf, offset, FeedResponseCode.FULL, PACKET_SIZE.FULL, segmentCode, securityId);
  buf.writeFloatLE(s.ltp, offset + 8);
  buf.writeInt16LE(int16(s.ltq), offset + 12);
  buf.writeInt32LE(int32(ltt), offset + 14);
  buf.writeFloatLE(atp, offset + 18);
  buf.writeInt32LE(int32(s.volume), offset + 22);
  buf.writeInt32LE(int32(s.totalSellQty), offset + 26);
  buf.writeInt32LE(int32(s.totalBuyQty), offset + 30);
  buf.writeInt32LE(int32(s.oi), offset + 34);
  buf.writeInt32LE(int32(s.oiHigh), offset + 38);
  buf.writeInt32LE(int32(s.oiLow), offset + 42);
  buf.writeFloatLE(s.open, offset + 46);
  buf.writeFloatLE(s.close, offset + 50);
  buf.writeFloatLE(s.high, offset + 54);
  buf.writeFloatLE(s.low, offset + 58);
  for (let k = 0; k < 5; k++) {
    const at = offset + 62 + k * 20;
    const level = depth[k];
    buf.writeInt32LE(int32(level ? level.bidQty : 0), at);
    buf.writeInt32LE(int32(level ? level.askQty : 0), at + 4);
    buf.writeInt16LE(int16(level ? level.bidOrders : 0), at + 8);
    buf.writeInt16LE(int16(level ? level.askOrders : 0), at + 10);
    buf.writeFloatLE(level ? level.bidPrice : 0, at + 12);
    buf.writeFloatLE(level ? level.askPrice : 0, at + 16);
  }
  return offset + PACKET_SIZE.FULL;
}

/** Feed disconnect (50): reason code at bytes 8-9. */
export function encodeDisconnect(reason: number, segmentCode = 0, securityId = 0): Buffer {
  const buf = Buffer.alloc(PACKET_SIZE.DISCONNECT);
  writeHeader(buf, 0, FeedResponseCode.DISCONNECT, PACKET_SIZE.DISCONNECT, segmentCode, securityId);
  buf.writeInt16LE(reason, 8);
  return buf;
}
