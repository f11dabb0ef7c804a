// Test-only encoder for the DhanHQ feed, written from DhanHQ v2: feed packets/2.9 independently of the
// simulator so that the two cannot share a mistake.
import { FeedResponseCode, SEGMENT_CODE } from '../../types';
import {
  DepthResponseCode,
  DisconnectPacket,
  FullPacket,
  OiPacket,
  PrevClosePacket,
  QuotePacket,
  TickerPacket,
} from '../feed-packets';

const IST = 19_800;

function header(buf: Buffer, code: number, len: number, seg: number, securityId: number): void {
  buf.writeUInt8(code, 0);
  buf.writeUInt16LE(len, 1);
  buf.writeUInt8(seg, 3);
  buf.writeUInt32LE(securityId, 4);
}

function rawLtt(ltt: number): number {
  return ltt === 0 ? 0 : ltt + IST;
}

export function encodeTicker(p: Omit<TickerPacket, 'type' | 'valid' | 'flags'>): Buffer {
  const b = Buffer.alloc(16);
  header(b, FeedResponseCode.TICKER, 16, SEGMENT_CODE[p.segment], p.securityId);
  b.writeFloatLE(p.ltp, 8);
  b.writeInt32LE(rawLtt(p.ltt), 12);
  return b;
}

export function encodePrevClose(p: Omit<PrevClosePacket, 'type' | 'valid' | 'flags'>): Buffer {
  const b = Buffer.alloc(16);
  header(b, FeedResponseCode.PREV_CLOSE, 16, SEGMENT_CODE[p.segment], p.securityId);
  b.writeFloatLE(p.prevClose, 8);
  b.writeUInt32LE(p.prevOi, 12);
  return b;
}

export function encodeOi(p: Omit<OiPacket, 'type' | 'valid' | 'flags'>): Buffer {
  const b = Buffer.alloc(12);
  header(b, FeedResponseCode.OI, 12, SEGMENT_CODE[p.segment], p.securityId);
  b.writeUInt32LE(p.oi, 8);
  return b;
}

export function encodeQuote(p: Omit<QuotePacket, 'type' | 'valid' | 'flags'>): Buffer {
  const b = Buffer.alloc(50);
  header(b, FeedResponseCode.QUOTE, 50, SEGMENT_CODE[p.segment], p.securityId);
  b.writeFloatLE(p.ltp, 8);
  b.writeUInt16LE(p.ltq, 12);
  b.writeInt32LE(rawLtt(p.ltt), 14);
  b.writeFloatLE(p.atp, 18);
  b.writeUInt32LE(p.volume, 22);
  b.writeUInt32LE(p.totalSellQty, 26);
  b.writeUInt32LE(p.totalBuyQty, 30);
  b.writeFloatLE(p.open, 34);
  b.writeFloatLE(p.close, 38);
  b.writeFloatLE(p.high, 42);
  b.writeFloatLE(p.low, 46);
  return b;
}

export function encodeFull(p: Omit<FullPacket, 'type' | 'valid' | 'flags'>): Buffer {
  const b = Buffer.alloc(162);
  header(b, FeedResponseCode.FULL, 162, SEGMENT_CODE[p.segment], p.securityId);
  b.writeFloatLE(p.ltp, 8);
  b.writeUInt16LE(p.ltq, 12);
  b.writeInt32LE(rawLtt(p.ltt), 14);
  b.writeFloatLE(p.atp, 18);
  b.writeUInt32LE(p.volume, 22);
  b.writeUInt32LE(p.totalSellQty, 26);
  b.writeUInt32LE(p.totalBuyQty, 30);
  b.writeUInt32LE(p.oi, 34);
  b.writeUInt32LE(p.oiDayHigh, 38);
  b.writeUInt32LE(p.oiDayLow, 42);
  b.writeFloatLE(p.open, 46);
  b.writeFloatLE(p.close, 50);
  b.writeFloatLE(p.high, 54);
  b.writeFloatLE(p.low, 58);
  p.depth.forEach((l, i) => {
    const o = 62 + i * 20;
    b.writeUInt32LE(l.bidQty, o);
    b.writeUInt32LE(l.askQty, o + 4);
    b.writeUInt16LE(l.bidOrders, o + 8);
    b.writeUInt16LE(l.askOrders, o + 10);
    b.writeFloatLE(l.bidPrice, o + 12);
    b.writeFloatLE(l.askPrice, o + 16);
  });
  return b;
}

export function encodeDisconnect(
  p: Pick<DisconnectPacket, 'segment' | 'securityId' | 'reason'>,
): Buffer {
  const b = Buffer.alloc(10);
  header(b, FeedResponseCode.DISCONNECT, 10, SEGMENT_CODE[p.segment], p.securityId);
  b.writeInt16LE(p.reason, 8);
  return b;
}

export function encodeHeaderOnly(
  code: number,
  len: number,
  seg: number,
  securityId: number,
): Buffer {
  const b = Buffer.alloc(len);
  header(b, code, len, seg, securityId);
  return b;
}

export function encodeDepthSide(
  side: DepthResponseCode.BID | DepthResponseCode.ASK,
  seg: number,
  securityId: number,
  sequence: number,
  rows: ReadonlyArray<{ price: number; quantity: number; orders: number }>,
): Buffer {
  const b = Buffer.alloc(12 + rows.length * 16);
  b.writeUInt16LE(b.length, 0);
  b.writeUInt8(side, 2);
  b.writeUInt8(seg, 3);
  b.writeUInt32LE(securityId, 4);
  b.writeUInt32LE(sequence, 8);
  rows.forEach((r, i) => {
    const o = 12 + i * 16;
    b.writeDoubleLE(r.price, o);
    b.writeUInt32LE(r.quantity, o + 8);
    b.writeUInt32LE(r.orders, o + 12);
  });
  return b;
}
