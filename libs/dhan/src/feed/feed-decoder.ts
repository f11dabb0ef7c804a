import { ExchangeSegment, FeedResponseCode, SEGMENT_BY_CODE } from '../types';
import {
  DepthLevel,
  DisconnectPacket,
  FeedDecodeError,
  FeedPacket,
  FullPacket,
  MarketStatusPacket,
  OiPacket,
  PACKET_SIZE,
  PacketFlag,
  PrevClosePacket,
  QuotePacket,
  TickerPacket,
} from './feed-packets';

/** IST is UTC+05:30; the feed writes IST wall clock as if it were an epoch (DhanHQ v2: LTT is IST wall clock). */
export const DEFAULT_LTT_OFFSET_SECONDS = 19_800;

export interface FeedDecoderOptions {
  /** Seconds subtracted from every non-zero LTT to get true UTC. */
  lttOffsetSeconds?: number;
  /**
   * Reuse one packet object per type (and one depth array) across calls. The callback must copy
   * what it keeps before it returns; the next packet of that type overwrites the object.
   */
  reuseObjects?: boolean;
}

export interface FeedDecoderStats {
  frames: number;
  bytes: number;
  /** Packets handed to the callback. */
  packets: number;
  /** Packets handed on with `valid: false`. */
  invalidPackets: number;
  /** Well-formed packets deliberately not handed on (index packets, code 1). */
  skippedPackets: number;
  /** Bytes of packets handed on or skipped on purpose. */
  acceptedBytes: number;
  /** Bytes dropped because of an error; acceptedBytes + rejectedBytes === bytes. */
  rejectedBytes: number;
  errors: Record<FeedDecodeError, number>;
}

export type FeedPacketCallback = (packet: FeedPacket) => void;

export function emptyDecodeErrors(): Record<FeedDecodeError, number> {
  return {
    [FeedDecodeError.EMPTY_FRAME]: 0,
    [FeedDecodeError.TRUNCATED_HEADER]: 0,
    [FeedDecodeError.LENGTH_BEYOND_FRAME]: 0,
    [FeedDecodeError.LENGTH_UNDER_HEADER]: 0,
    [FeedDecodeError.UNKNOWN_CODE]: 0,
    [FeedDecodeError.UNKNOWN_SEGMENT]: 0,
    [FeedDecodeError.SHORT_FOR_TYPE]: 0,
  };
}

function priceFlags(ltp: number, zeroIsInvalid: boolean): number {
  if (!Number.isFinite(ltp)) return PacketFlag.PRICE_NOT_FINITE;
  if (ltp < 0) return PacketFlag.PRICE_NEGATIVE;
  if (ltp === 0 && zeroIsInvalid) return PacketFlag.PRICE_ZERO;
  return 0;
}

function auxBad(price: number): boolean {
  return !(price >= 0) || price === Infinity;
}

/**
 * Decoder of the DhanHQ v2 binary market feed (DhanHQ v2: feed packets). A frame may hold several
 * packets back to back, split by the length field. Nothing in here throws on bad input: every
 * dropped byte range is counted in `stats.errors` and `stats.rejectedBytes`.
 */
export class FeedDecoder {
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

  private readonly lttOffset: number;
  private readonly reuse: boolean;
  private readonly ticker: TickerPacket;
  private readonly quote: QuotePacket;
  private readonly full: FullPacket;

  constructor(options: FeedDecoderOptions = {}) {
    this.lttOffset = options.lttOffsetSeconds ?? DEFAULT_LTT_OFFSET_SECONDS;
    this.reuse = options.reuseObjects ?? false;
    const seg = ExchangeSegment.IDX_I;
    this.ticker = {
      type: FeedResponseCode.TICKER,
      segment: seg,
      securityId: 0,
      valid: true,
      flags: 0,
      ltp: 0,
      ltt: 0,
    };
    this.quote = newQuotePacket(seg, 0);
    this.full = newFullPacket(seg, 0);
  }

  /** Decodes one WebSocket binary frame and calls `onPacket` for each packet in it. */
  decode(frame: Uint8Array, onPacket: FeedPacketCallback): void {
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
      if (rem < PACKET_SIZE.HEADER) {
        this.reject(FeedDecodeError.TRUNCATED_HEADER, rem);
        return;
      }
      const code = dv.getUint8(off);
      const plen = dv.getUint16(off + 1, true);
      if (plen < PACKET_SIZE.HEADER) {
        this.reject(FeedDecodeError.LENGTH_UNDER_HEADER, rem);
        return;
      }
      if (plen > rem) {
        this.reject(FeedDecodeError.LENGTH_BEYOND_FRAME, rem);
        return;
      }
      if (code === FeedResponseCode.TICKER && plen >= PACKET_SIZE.TICKER) {
        // Fast path for the most frequent packet; same checks as packet().
        const segment = SEGMENT_BY_CODE[dv.getUint8(off + 3)];
        if (segment === undefined) {
          this.reject(FeedDecodeError.UNKNOWN_SEGMENT, plen);
        } else {
          const p = this.readTicker(dv, off, segment, dv.getUint32(off + 4, true));
          stats.packets++;
          stats.acceptedBytes += plen;
          if (!p.valid) stats.invalidPackets++;
          onPacket(p);
        }
      } else {
        this.packet(dv, off, code, plen, onPacket);
      }
      off += plen;
    }
  }

  private reject(reason: FeedDecodeError, bytes: number): void {
    this.stats.errors[reason]++;
    this.stats.rejectedBytes += bytes;
  }

  private packet(
    dv: DataView,
    off: number,
    code: number,
    plen: number,
    onPacket: FeedPacketCallback,
  ): void {
    let min: number;
    switch (code) {
      case FeedResponseCode.TICKER:
        min = PACKET_SIZE.TICKER;
        break;
      case FeedResponseCode.QUOTE:
        min = PACKET_SIZE.QUOTE;
        break;
      case FeedResponseCode.FULL:
        min = PACKET_SIZE.FULL;
        break;
      case FeedResponseCode.OI:
        min = PACKET_SIZE.OI;
        break;
      case FeedResponseCode.PREV_CLOSE:
        min = PACKET_SIZE.PREV_CLOSE;
        break;
      case FeedResponseCode.DISCONNECT:
        min = PACKET_SIZE.DISCONNECT;
        break;
      case FeedResponseCode.MARKET_STATUS:
        min = PACKET_SIZE.HEADER;
        break;
      case FeedResponseCode.INDEX:
        // No public layout (DhanHQ v2: undocumented packet): skip by length.
        this.stats.skippedPackets++;
        this.stats.acceptedBytes += plen;
        return;
      default:
        this.reject(FeedDecodeError.UNKNOWN_CODE, plen);
        return;
    }
    if (plen < min) {
      this.reject(FeedDecodeError.SHORT_FOR_TYPE, plen);
      return;
    }
    const segment = SEGMENT_BY_CODE[dv.getUint8(off + 3)];
    if (segment === undefined) {
      this.reject(FeedDecodeError.UNKNOWN_SEGMENT, plen);
      return;
    }
    const securityId = dv.getUint32(off + 4, true);
    let p: FeedPacket;
    switch (code) {
      case FeedResponseCode.TICKER:
        p = this.readTicker(dv, off, segment, securityId);
        break;
      case FeedResponseCode.QUOTE:
        p = this.readQuote(dv, off, segment, securityId);
        break;
      case FeedResponseCode.FULL:
        p = this.readFull(dv, off, segment, securityId);
        break;
      case FeedResponseCode.OI:
        p = this.readOi(dv, off, segment, securityId);
        break;
      case FeedResponseCode.PREV_CLOSE:
        p = this.readPrevClose(dv, off, segment, securityId);
        break;
      case FeedResponseCode.DISCONNECT:
        p = {
          type: FeedResponseCode.DISCONNECT,
          segment,
          securityId,
          valid: true,
          flags: 0,
          reason: dv.getInt16(off + 8, true),
        } satisfies DisconnectPacket;
        break;
      default:
        p = {
          type: FeedResponseCode.MARKET_STATUS,
          segment,
          securityId,
          valid: true,
          flags: 0,
        } satisfies MarketStatusPacket;
        break;
    }
    this.stats.packets++;
    this.stats.acceptedBytes += plen;
    if (!p.valid) this.stats.invalidPackets++;
    onPacket(p);
  }

  private ltt(raw: number): number {
    return raw === 0 ? 0 : raw - this.lttOffset;
  }

  private readTicker(
    dv: DataView,
    off: number,
    segment: ExchangeSegment,
    securityId: number,
  ): TickerPacket {
    const ltp = dv.getFloat32(off + 8, true);
    const ltt = this.ltt(dv.getInt32(off + 12, true));
    const flags = priceFlags(ltp, true);
    if (!this.reuse) {
      return {
        type: FeedResponseCode.TICKER,
        segment,
        securityId,
        valid: flags === 0,
        flags,
        ltp,
        ltt,
      };
    }
    const t = this.ticker;
    t.segment = segment;
    t.securityId = securityId;
    t.valid = flags === 0;
    t.flags = flags;
    t.ltp = ltp;
    t.ltt = ltt;
    return t;
  }

  private readPrevClose(
    dv: DataView,
    off: number,
    segment: ExchangeSegment,
    securityId: number,
  ): PrevClosePacket {
    const prevClose = dv.getFloat32(off + 8, true);
    const flags = priceFlags(prevClose, false);
    return {
      type: FeedResponseCode.PREV_CLOSE,
      segment,
      securityId,
      valid: flags === 0,
      flags,
      prevClose,
      prevOi: dv.getUint32(off + 12, true),
    };
  }

  private readOi(
    dv: DataView,
    off: number,
    segment: ExchangeSegment,
    securityId: number,
  ): OiPacket {
    return {
      type: FeedResponseCode.OI,
      segment,
      securityId,
      valid: true,
      flags: 0,
      oi: dv.getUint32(off + 8, true),
    };
  }

  private readQuote(
    dv: DataView,
    off: number,
    segment: ExchangeSegment,
    securityId: number,
  ): QuotePacket {
    const q: QuotePacket = this.reuse ? this.quote : newQuotePacket(segment, securityId);
    q.segment = segment;
    q.securityId = securityId;
    q.ltp = dv.getFloat32(off + 8, true);
    q.ltq = dv.getUint16(off + 12, true);
    q.ltt = this.ltt(dv.getInt32(off + 14, true));
    q.atp = dv.getFloat32(off + 18, true);
    q.volume = dv.getUint32(off + 22, true);
    q.totalSellQty = dv.getUint32(off + 26, true);
    q.totalBuyQty = dv.getUint32(off + 30, true);
    q.open = dv.getFloat32(off + 34, true);
    q.close = dv.getFloat32(off + 38, true);
    q.high = dv.getFloat32(off + 42, true);
    q.low = dv.getFloat32(off + 46, true);
    let flags = priceFlags(q.ltp, true);
    if (auxBad(q.atp) || auxBad(q.open) || auxBad(q.close) || auxBad(q.high) || auxBad(q.low)) {
      flags |= PacketFlag.AUX_PRICE_INVALID;
    }
    q.flags = flags;
    q.valid = flags === 0;
    return q;
  }

  private readFull(
    dv: DataView,
    off: number,
    segment: ExchangeSegment,
    securityId: number,
  ): FullPacket {
    const f: FullPacket = this.reuse ? this.full : newFullPacket(segment, securityId);
    f.segment = segment;
    f.securityId = securityId;
    f.ltp = dv.getFloat32(off + 8, true);
    f.ltq = dv.getUint16(off + 12, true);
    f.ltt = this.ltt(dv.getInt32(off + 14, true));
    f.atp = dv.getFloat32(off + 18, true);
    f.volume = dv.getUint32(off + 22, true);
    f.totalSellQty = dv.getUint32(off + 26, true);
    f.totalBuyQty = dv.getUint32(off + 30, true);
    f.oi = dv.getUint32(off + 34, true);
    f.oiDayHigh = dv.getUint32(off + 38, true);
    f.oiDayLow = dv.getUint32(off + 42, true);
    f.open = dv.getFloat32(off + 46, true);
    f.close = dv.getFloat32(off + 50, true);
    f.high = dv.getFloat32(off + 54, true);
    f.low = dv.getFloat32(off + 58, true);
    let flags = priceFlags(f.ltp, true);
    let aux = auxBad(f.atp) || auxBad(f.open) || auxBad(f.close) || auxBad(f.high) || auxBad(f.low);
    const depth = f.depth;
    for (let i = 0, o = off + 62; i < PACKET_SIZE.DEPTH_LEVELS; i++, o += PACKET_SIZE.DEPTH_LEVEL) {
      const level = depth[i];
      level.bidQty = dv.getUint32(o, true);
      level.askQty = dv.getUint32(o + 4, true);
      level.bidOrders = dv.getUint16(o + 8, true);
      level.askOrders = dv.getUint16(o + 10, true);
      level.bidPrice = dv.getFloat32(o + 12, true);
      level.askPrice = dv.getFloat32(o + 16, true);
      if (auxBad(level.bidPrice) || auxBad(level.askPrice)) aux = true;
    }
    if (aux) flags |= PacketFlag.AUX_PRICE_INVALID;
    f.flags = flags;
    f.valid = flags === 0;
    return f;
  }
}

function newDepth(): DepthLevel[] {
  const depth: DepthLevel[] = new Array<DepthLevel>(PACKET_SIZE.DEPTH_LEVELS);
  for (let i = 0; i < PACKET_SIZE.DEPTH_LEVELS; i++) {
    depth[i] = { bidQty: 0, askQty: 0, bidOrders: 0, askOrders: 0, bidPrice: 0, askPrice: 0 };
  }
  return depth;
}

/** A packet with every field present, so pooled and fresh packets share one shape. */
function newQuotePacket(segment: ExchangeSegment, securityId: number): QuotePacket {
  return {
    type: FeedResponseCode.QUOTE,
    segment,
    securityId,
    valid: true,
    flags: 0,
    ltp: 0,
    ltq: 0,
    ltt: 0,
    atp: 0,
    volume: 0,
    totalSellQty: 0,
    totalBuyQty: 0,
    open: 0,
    close: 0,
    high: 0,
    low: 0,
  };
}

/** A packet with every field present, so pooled and fresh packets share one shape. */
function newFullPacket(segment: ExchangeSegment, securityId: number): FullPacket {
  return {
    type: FeedResponseCode.FULL,
    segment,
    securityId,
    valid: true,
    flags: 0,
    ltp: 0,
    ltq: 0,
    ltt: 0,
    atp: 0,
    volume: 0,
    totalSellQty: 0,
    totalBuyQty: 0,
    oi: 0,
    oiDayHigh: 0,
    oiDayLow: 0,
    open: 0,
    close: 0,
    high: 0,
    low: 0,
    depth: newDepth(),
  };
}
