import { ExchangeSegment, SEGMENT_BY_CODE } from '../types';
import {
  DEPTH_SIZE,
  DepthPacket,
  DepthResponseCode,
  DepthRow,
  FeedDecodeError,
  PacketFlag,
} from './feed-packets';
import { emptyDecodeErrors, FeedDecoderStats } from './feed-decoder';

export type DepthPacketCallback = (packet: DepthPacket) => void;

/**
 * Decoder of the 20-level (and 200-level) depth feed (DhanHQ v2: 20-level depth feed): 12-byte header with the
 * length first, then 16-byte rows (float64 price, uint32 quantity, uint32 orders). Bid and ask
 * come as separate packets stacked in one frame. Never throws; drops are counted.
 */
export class DepthDecoder {
  readonly stats: FeedDecoderStats = {
    frames: 0,
    bytes: 0,
    packets: 0,
    invalidPackets: 0,
    skippedPackets: 0,
    acceptedBytes: 0,
    rejectedBytes: 0,
    errors: emptyDecodeErrors(),
  };

  decode(frame: Uint8Array, onPacket: DepthPacketCallback): void {
    const stats = this.stats;
    const len = frame.byteLength;
    stats.frames++;
    stats.bytes += len;
    if (len === 0) {
      stats.errors[FeedDecodeError.EMPTY_FRAME]++;
      return;
    }
    const dv = new DataView(frame.buffer, frame.byteOffset, len);
    let off = 0;
    while (off < len) {
      const rem = len - off;
      if (rem < DEPTH_SIZE.HEADER) {
        this.reject(FeedDecodeError.TRUNCATED_HEADER, rem);
        return;
      }
      const plen = dv.getUint16(off, true);
      const code = dv.getUint8(off + 2);
      if (plen < DEPTH_SIZE.HEADER) {
        this.reject(FeedDecodeError.LENGTH_UNDER_HEADER, rem);
        return;
      }
      if (plen > rem) {
        this.reject(FeedDecodeError.LENGTH_BEYOND_FRAME, rem);
        return;
      }
      if (code === DepthResponseCode.DISCONNECT) {
        this.emitDisconnect(dv, off, plen, onPacket);
      } else if (code === DepthResponseCode.BID || code === DepthResponseCode.ASK) {
        this.emitSide(dv, off, plen, code, onPacket);
      } else {
        this.reject(FeedDecodeError.UNKNOWN_CODE, plen);
      }
      off += plen;
    }
  }

  private reject(reason: FeedDecodeError, bytes: number): void {
    this.stats.errors[reason]++;
    this.stats.rejectedBytes += bytes;
  }

  private emitDisconnect(
    dv: DataView,
    off: number,
    plen: number,
    onPacket: DepthPacketCallback,
  ): void {
    // int16 at 12-13 when the packet is long enough, else uint32 at 8-11 (DhanHQ v2: depth packet header).
    const reason = plen >= 14 ? dv.getInt16(off + 12, true) : dv.getUint32(off + 8, true);
    this.stats.packets++;
    this.stats.acceptedBytes += plen;
    onPacket({
      type: DepthResponseCode.DISCONNECT,
      segment: SEGMENT_BY_CODE[dv.getUint8(off + 3)],
      securityId: dv.getUint32(off + 4, true),
      reason,
    });
  }

  private emitSide(
    dv: DataView,
    off: number,
    plen: number,
    code: DepthResponseCode.BID | DepthResponseCode.ASK,
    onPacket: DepthPacketCallback,
  ): void {
    const segment: ExchangeSegment | undefined = SEGMENT_BY_CODE[dv.getUint8(off + 3)];
    if (segment === undefined) {
      this.reject(FeedDecodeError.UNKNOWN_SEGMENT, plen);
      return;
    }
    if ((plen - DEPTH_SIZE.HEADER) % DEPTH_SIZE.ROW !== 0) {
      this.reject(FeedDecodeError.SHORT_FOR_TYPE, plen);
      return;
    }
    const count = (plen - DEPTH_SIZE.HEADER) / DEPTH_SIZE.ROW;
    const rows: DepthRow[] = new Array<DepthRow>(count);
    let flags = 0;
    for (let i = 0, o = off + DEPTH_SIZE.HEADER; i < count; i++, o += DEPTH_SIZE.ROW) {
      const price = dv.getFloat64(o, true);
      if (!Number.isFinite(price)) flags |= PacketFlag.PRICE_NOT_FINITE;
      else if (price < 0) flags |= PacketFlag.PRICE_NEGATIVE;
      rows[i] = { price, quantity: dv.getUint32(o + 8, true), orders: dv.getUint32(o + 12, true) };
    }
    this.stats.packets++;
    this.stats.acceptedBytes += plen;
    if (flags !== 0) this.stats.invalidPackets++;
    onPacket({
      type: code,
      side: code === DepthResponseCode.BID ? 'BID' : 'ASK',
      segment,
      securityId: dv.getUint32(off + 4, true),
      sequence: dv.getUint32(off + 8, true),
      rows,
      valid: flags === 0,
      flags,
    });
  }
}
