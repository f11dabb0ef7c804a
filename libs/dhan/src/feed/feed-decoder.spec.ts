import fc from 'fast-check';
import { ExchangeSegment, FeedResponseCode, SEGMENT_CODE } from '../types';
import { DepthDecoder } from './depth-decoder';
import { FeedDecoder } from './feed-decoder';
import {
  DepthPacket,
  DepthResponseCode,
  FeedDecodeError,
  FeedPacket,
  FullPacket,
  PacketFlag,
  QuotePacket,
  TickerPacket,
} from './feed-packets';
import * as enc from './__tests__/feed-test-encoder';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function decodeAll(frame: Uint8Array, decoder = new FeedDecoder()): FeedPacket[] {
  const out: FeedPacket[] = [];
  decoder.decode(frame, (p) => out.push(p));
  return out;
}

function decodeDepth(frame: Uint8Array, decoder = new DepthDecoder()): DepthPacket[] {
  const out: DepthPacket[] = [];
  decoder.decode(frame, (p) => out.push(p));
  return out;
}

// 2025-11-25T06:00:00Z; the feed writes IST wall clock: 1764050400 + 19800 = 1764070200 = 0x69259338.
const LTT_UTC = 1_764_050_400;
const LTT_RAW_HEX = '38 93 25 69';

// float32 LE, computed with Buffer.writeFloatLE:
//   1234.5 = 00 50 9a 44     1220.0 = 00 80 98 44     24500.25 = 80 68 bf 46
//   24480.0 = 00 40 bf 46    24400.0 = 00 a0 be 46    24550.75 = 80 cd bf 46
//   24390.125 = 40 8c be 46  24500.0 = 00 68 bf 46    24501.0 = 00 6a bf 46
//   24499.5 = 00 67 bf 46    24502.0 = 00 6c bf 46    24499.0 = 00 66 bf 46
//   24503.5 = 00 6f bf 46    24498.0 = 00 64 bf 46    24504.0 = 00 70 bf 46
//   24497.5 = 00 63 bf 46    24505.0 = 00 72 bf 46
// float64 LE: 1333.45 = cd cc cc cc cc d5 94 40; 1333.5 = 00 00 00 00 00 d6 94 40
const TICKER_HEX = `02 1000 01 35050000 00509a44 ${LTT_RAW_HEX}`;
const PREV_CLOSE_HEX = '06 1000 02 a0bb0000 00809844 f0490200';
const OI_HEX = '05 0c00 02 a0bb0000 c47a0200';
const QUOTE_HEX = `04 3200 02 a0bb0000
  8068bf46 4b00 ${LTT_RAW_HEX} 0040bf46 87d61200 50c30000 60ea0000
  00a0be46 00000000 80cdbf46 408cbe46`;
const FULL_HEX = `08 a200 02 a0bb0000
  8068bf46 4b00 ${LTT_RAW_HEX} 0040bf46 87d61200 50c30000 60ea0000
  c47a0200 10980200 f0490200
  00a0be46 00000000 80cdbf46 408cbe46
  ee020000 dc050000 0300 0500 0068bf46 006abf46
  39030000 84030000 0400 0600 0067bf46 006cbf46
  cf030000 1a040000 0700 0800 0066bf46 006fbf46
  65040000 b0040000 0900 0a00 0064bf46 0070bf46
  fb040000 46050000 0b00 0c00 0063bf46 0072bf46`;
const MARKET_STATUS_HEX = '07 0800 01 00000000';
const INDEX_HEX = '01 1000 00 0d000000 0000000000000000';
const DISCONNECT_HEX = '32 0a00 00 00000000 2703';

describe('FeedDecoder golden vectors (DhanHQ v2: feed packets)', () => {
  it('decodes a ticker packet and shifts LTT from IST to UTC', () => {
    const [p] = decodeAll(hex(TICKER_HEX));
    expect(p).toEqual({
      type: FeedResponseCode.TICKER,
      segment: ExchangeSegment.NSE_EQ,
      securityId: 1333,
      valid: true,
      flags: 0,
      ltp: 1234.5,
      ltt: LTT_UTC,
    });
  });

  it('honours a configured LTT offset (0 = feed already in UTC)', () => {
    const [p] = decodeAll(hex(TICKER_HEX), new FeedDecoder({ lttOffsetSeconds: 0 }));
    expect((p as TickerPacket).ltt).toBe(LTT_UTC + 19_800);
  });

  it('decodes a prev close packet', () => {
    expect(decodeAll(hex(PREV_CLOSE_HEX))).toEqual([
      {
        type: FeedResponseCode.PREV_CLOSE,
        segment: ExchangeSegment.NSE_FNO,
        securityId: 48032,
        valid: true,
        flags: 0,
        prevClose: 1220,
        prevOi: 150_000,
      },
    ]);
  });

  it('decodes an OI packet', () => {
    expect(decodeAll(hex(OI_HEX))).toEqual([
      {
        type: FeedResponseCode.OI,
        segment: ExchangeSegment.NSE_FNO,
        securityId: 48032,
        valid: true,
        flags: 0,
        oi: 162_500,
      },
    ]);
  });

  it('decodes a quote packet', () => {
    const frame = hex(QUOTE_HEX);
    expect(frame.length).toBe(50);
    expect(decodeAll(frame)).toEqual([
      {
        type: FeedResponseCode.QUOTE,
        segment: ExchangeSegment.NSE_FNO,
        securityId: 48032,
        valid: true,
        flags: 0,
        ltp: 24500.25,
        ltq: 75,
        ltt: LTT_UTC,
        atp: 24480,
        volume: 1_234_567,
        totalSellQty: 50_000,
        totalBuyQty: 60_000,
        open: 24400,
        close: 0,
        high: 24550.75,
        low: 24390.125,
      } satisfies QuotePacket,
    ]);
  });

  it('decodes a full packet with five depth levels', () => {
    const frame = hex(FULL_HEX);
    expect(frame.length).toBe(162);
    expect(decodeAll(frame)).toEqual([
      {
        type: FeedResponseCode.FULL,
        segment: ExchangeSegment.NSE_FNO,
        securityId: 48032,
        valid: true,
        flags: 0,
        ltp: 24500.25,
        ltq: 75,
        ltt: LTT_UTC,
        atp: 24480,
        volume: 1_234_567,
        totalSellQty: 50_000,
        totalBuyQty: 60_000,
        oi: 162_500,
        oiDayHigh: 170_000,
        oiDayLow: 150_000,
        open: 24400,
        close: 0,
        high: 24550.75,
        low: 24390.125,
        depth: [
          {
            bidQty: 750,
            askQty: 1500,
            bidOrders: 3,
            askOrders: 5,
            bidPrice: 24500,
            askPrice: 24501,
          },
          {
            bidQty: 825,
            askQty: 900,
            bidOrders: 4,
            askOrders: 6,
            bidPrice: 24499.5,
            askPrice: 24502,
          },
          {
            bidQty: 975,
            askQty: 1050,
            bidOrders: 7,
            askOrders: 8,
            bidPrice: 24499,
            askPrice: 24503.5,
          },
          {
            bidQty: 1125,
            askQty: 1200,
            bidOrders: 9,
            askOrders: 10,
            bidPrice: 24498,
            askPrice: 24504,
          },
          {
            bidQty: 1275,
            askQty: 1350,
            bidOrders: 11,
            askOrders: 12,
            bidPrice: 24497.5,
            askPrice: 24505,
          },
        ],
      } satisfies FullPacket,
    ]);
  });

  it('reads the market status header and skips its payload by length', () => {
    const d = new FeedDecoder();
    const packets = decodeAll(Buffer.concat([hex('07 0a00 01 00000000 0102'), hex(TICKER_HEX)]), d);
    expect(packets.map((p) => p.type)).toEqual([
      FeedResponseCode.MARKET_STATUS,
      FeedResponseCode.TICKER,
    ]);
    expect(packets[0]).toMatchObject({ segment: ExchangeSegment.NSE_EQ, securityId: 0 });
    expect(decodeAll(hex(MARKET_STATUS_HEX))[0].type).toBe(FeedResponseCode.MARKET_STATUS);
    expect(d.stats.rejectedBytes).toBe(0);
  });

  it('skips an index packet (code 1) by length without error', () => {
    const d = new FeedDecoder();
    const packets = decodeAll(Buffer.concat([hex(INDEX_HEX), hex(TICKER_HEX)]), d);
    expect(packets).toHaveLength(1);
    expect(packets[0].type).toBe(FeedResponseCode.TICKER);
    expect(d.stats.skippedPackets).toBe(1);
    expect(d.stats.acceptedBytes).toBe(32);
  });

  it('decodes a disconnect packet with its reason', () => {
    expect(decodeAll(hex(DISCONNECT_HEX))).toEqual([
      {
        type: FeedResponseCode.DISCONNECT,
        segment: ExchangeSegment.IDX_I,
        securityId: 0,
        valid: true,
        flags: 0,
        reason: 807,
      },
    ]);
  });

  it('splits a frame holding every packet type back to back', () => {
    const frame = hex(
      [
        PREV_CLOSE_HEX,
        TICKER_HEX,
        QUOTE_HEX,
        OI_HEX,
        FULL_HEX,
        MARKET_STATUS_HEX,
        INDEX_HEX,
        DISCONNECT_HEX,
      ].join(' '),
    );
    const d = new FeedDecoder();
    const types = decodeAll(frame, d).map((p) => p.type);
    expect(types).toEqual([6, 2, 4, 5, 8, 7, 50]);
    expect(d.stats.acceptedBytes).toBe(frame.length);
    expect(d.stats.packets).toBe(7);
  });

  it('reuses one object per type when asked to', () => {
    const d = new FeedDecoder({ reuseObjects: true });
    const seen: FeedPacket[] = [];
    const ltps: number[] = [];
    d.decode(hex(`${TICKER_HEX} 02 1000 01 36050000 00809844 ${LTT_RAW_HEX}`), (p) => {
      seen.push(p);
      ltps.push((p as TickerPacket).ltp);
    });
    expect(seen[0]).toBe(seen[1]);
    expect(ltps).toEqual([1234.5, 1220]);
    expect((seen[1] as TickerPacket).securityId).toBe(1334);
  });
});

describe('FeedDecoder bad input (counted, never thrown)', () => {
  const cases: Array<[string, string, FeedDecodeError, number]> = [
    ['zero-length frame', '', FeedDecodeError.EMPTY_FRAME, 0],
    ['fewer than 8 bytes', '02 1000 01 3505', FeedDecodeError.TRUNCATED_HEADER, 6],
    [
      'length beyond the frame (truncated packet)',
      '02 1000 01 35050000 00509a44',
      FeedDecodeError.LENGTH_BEYOND_FRAME,
      12,
    ],
    [
      'length under the header',
      '02 0400 01 35050000 00509a44 00000000',
      FeedDecodeError.LENGTH_UNDER_HEADER,
      16,
    ],
    ['unknown response code', '03 0c00 01 35050000 00000000', FeedDecodeError.UNKNOWN_CODE, 12],
    [
      'ticker length too short for its type',
      '02 0c00 01 35050000 00509a44',
      FeedDecodeError.SHORT_FOR_TYPE,
      12,
    ],
    [
      'full length too short for its type',
      '08 1000 01 35050000 00509a44 00000000',
      FeedDecodeError.SHORT_FOR_TYPE,
      16,
    ],
    [
      'unknown segment code',
      '02 1000 06 35050000 00509a44 00000000',
      FeedDecodeError.UNKNOWN_SEGMENT,
      16,
    ],
  ];
  it.each(cases)('%s', (_name, frameHex, reason, rejected) => {
    const d = new FeedDecoder();
    const packets = decodeAll(hex(frameHex), d);
    expect(packets).toEqual([]);
    expect(d.stats.errors[reason]).toBe(1);
    expect(d.stats.rejectedBytes).toBe(rejected);
  });

  it('keeps the good packets before a bad tail and skips a bad packet in the middle', () => {
    const d = new FeedDecoder();
    const frame = hex(`${TICKER_HEX} 03 0c00 01 35050000 00000000 ${OI_HEX} 02 1000`);
    expect(decodeAll(frame, d).map((p) => p.type)).toEqual([2, 5]);
    expect(d.stats.errors[FeedDecodeError.UNKNOWN_CODE]).toBe(1);
    expect(d.stats.errors[FeedDecodeError.TRUNCATED_HEADER]).toBe(1);
    expect(d.stats.acceptedBytes + d.stats.rejectedBytes).toBe(frame.length);
  });

  it.each([
    ['NaN', '0000c07f', PacketFlag.PRICE_NOT_FINITE],
    ['+Infinity', '0000807f', PacketFlag.PRICE_NOT_FINITE],
    ['negative', '00509ac4', PacketFlag.PRICE_NEGATIVE],
    ['zero', '00000000', PacketFlag.PRICE_ZERO],
  ])('flags a %s LTP as not valid', (_name, ltpHex, flag) => {
    const d = new FeedDecoder();
    const [p] = decodeAll(hex(`02 1000 01 35050000 ${ltpHex} ${LTT_RAW_HEX}`), d);
    expect(p.valid).toBe(false);
    expect(p.flags & flag).toBe(flag);
    expect(d.stats.invalidPackets).toBe(1);
  });

  it('flags a negative depth price on a full packet', () => {
    const bad = FULL_HEX.replace('0068bf46 006abf46', '0068bfc6 006abf46');
    const [p] = decodeAll(hex(bad));
    expect(p.valid).toBe(false);
    expect(p.flags).toBe(PacketFlag.AUX_PRICE_INVALID);
  });

  it('leaves LTT 0 as 0 rather than shifting it before the epoch', () => {
    const [p] = decodeAll(hex('02 1000 01 35050000 00509a44 00000000'));
    expect((p as TickerPacket).ltt).toBe(0);
  });
});

// 20-level depth: 12-byte header (length first), 16-byte rows (DhanHQ v2: 20-level depth feed).
const DEPTH_ROW_1 = 'cdcccccccc d59440 64000000 02000000'; // 1333.45, qty 100, 2 orders
const DEPTH_ROW_N = '0000000000 d69440 32000000 01000000'; // 1333.5, qty 50, 1 order
const DEPTH_BID_HEX = `4c01 29 01 35050000 07000000 ${DEPTH_ROW_1} ${DEPTH_ROW_N.repeat(19)}`;
const DEPTH_ASK_HEX = `4c01 33 01 35050000 08000000 ${DEPTH_ROW_1} ${DEPTH_ROW_N.repeat(19)}`;

describe('DepthDecoder golden vectors (DhanHQ v2: 20-level depth feed)', () => {
  it('decodes a bid and an ask packet stacked in one frame', () => {
    const frame = hex(`${DEPTH_BID_HEX} ${DEPTH_ASK_HEX}`);
    expect(frame.length).toBe(664);
    const d = new DepthDecoder();
    const [bid, ask] = decodeDepth(frame, d);
    expect(bid).toMatchObject({
      type: DepthResponseCode.BID,
      side: 'BID',
      segment: ExchangeSegment.NSE_EQ,
      securityId: 1333,
      sequence: 7,
      valid: true,
    });
    expect(ask).toMatchObject({
      type: DepthResponseCode.ASK,
      side: 'ASK',
      segment: ExchangeSegment.NSE_EQ,
      securityId: 1333,
      sequence: 8,
    });
    for (const side of [bid, ask]) {
      if (side.type === DepthResponseCode.DISCONNECT) throw new Error('unexpected disconnect');
      expect(side.rows).toHaveLength(20);
      expect(side.rows[0]).toEqual({ price: 1333.45, quantity: 100, orders: 2 });
      expect(
        side.rows.slice(1).every((r) => r.price === 1333.5 && r.quantity === 50 && r.orders === 1),
      ).toBe(true);
    }
    expect(d.stats.acceptedBytes).toBe(664);
  });

  it('reads the disconnect reason at 12-13 when the packet has 14 bytes', () => {
    expect(decodeDepth(hex('0e00 32 01 35050000 00000000 2703'))).toEqual([
      {
        type: DepthResponseCode.DISCONNECT,
        segment: ExchangeSegment.NSE_EQ,
        securityId: 1333,
        reason: 807,
      },
    ]);
  });

  it('reads the disconnect reason at 8-11 when the packet is only the header', () => {
    expect(decodeDepth(hex('0c00 32 01 35050000 27030000'))).toEqual([
      {
        type: DepthResponseCode.DISCONNECT,
        segment: ExchangeSegment.NSE_EQ,
        securityId: 1333,
        reason: 807,
      },
    ]);
  });

  it('counts bad depth input', () => {
    const d = new DepthDecoder();
    decodeDepth(hex('4c01 29 01 35050000'), d);
    decodeDepth(hex('4c01 29 01 35050000 07000000 00'), d);
    decodeDepth(hex('1400 63 01 35050000 07000000 0000000000000000'), d);
    decodeDepth(hex('1500 29 01 35050000 07000000 000000000000000000'), d);
    decodeDepth(hex(''), d);
    expect(d.stats.errors).toMatchObject({
      [FeedDecodeError.TRUNCATED_HEADER]: 1,
      [FeedDecodeError.LENGTH_BEYOND_FRAME]: 1,
      [FeedDecodeError.UNKNOWN_CODE]: 1,
      [FeedDecodeError.SHORT_FOR_TYPE]: 1,
      [FeedDecodeError.EMPTY_FRAME]: 1,
    });
    expect(d.stats.packets).toBe(0);
  });
});

// ---- property tests -------------------------------------------------------------------------

const segmentArb = fc.constantFrom(...Object.values(ExchangeSegment));
const priceArb = fc.float({ min: Math.fround(0.05), max: Math.fround(1e6), noNaN: true });
const auxPriceArb = fc.float({ min: 0, max: Math.fround(1e6), noNaN: true });
const u32 = fc.nat({ max: 0xffff_ffff });
const lttArb = fc.integer({ min: 1, max: 2_000_000_000 });

const tickerArb = fc.record({ segment: segmentArb, securityId: u32, ltp: priceArb, ltt: lttArb });
const quoteArb = fc.record({
  segment: segmentArb,
  securityId: u32,
  ltp: priceArb,
  ltq: fc.nat({ max: 0xffff }),
  ltt: lttArb,
  atp: auxPriceArb,
  volume: u32,
  totalSellQty: u32,
  totalBuyQty: u32,
  open: auxPriceArb,
  close: auxPriceArb,
  high: auxPriceArb,
  low: auxPriceArb,
});
const levelArb = fc.record({
  bidQty: u32,
  askQty: u32,
  bidOrders: fc.nat({ max: 0xffff }),
  askOrders: fc.nat({ max: 0xffff }),
  bidPrice: auxPriceArb,
  askPrice: auxPriceArb,
});
const fullArb = fc.record({
  segment: segmentArb,
  securityId: u32,
  ltp: priceArb,
  ltq: fc.nat({ max: 0xffff }),
  ltt: lttArb,
  atp: auxPriceArb,
  volume: u32,
  totalSellQty: u32,
  totalBuyQty: u32,
  oi: u32,
  oiDayHigh: u32,
  oiDayLow: u32,
  open: auxPriceArb,
  close: auxPriceArb,
  high: auxPriceArb,
  low: auxPriceArb,
  depth: fc.array(levelArb, { minLength: 5, maxLength: 5 }),
});
const prevCloseArb = fc.record({
  segment: segmentArb,
  securityId: u32,
  prevClose: auxPriceArb,
  prevOi: u32,
});
const oiArb = fc.record({ segment: segmentArb, securityId: u32, oi: u32 });
const disconnectArb = fc.record({
  segment: segmentArb,
  securityId: u32,
  reason: fc.integer({ min: -32768, max: 32767 }),
});

type Encoded = { bytes: Buffer; expected: object | null };
const packetArb: fc.Arbitrary<Encoded> = fc.oneof(
  tickerArb.map((p) => ({ bytes: enc.encodeTicker(p), expected: { type: 2, valid: true, ...p } })),
  quoteArb.map((p) => ({ bytes: enc.encodeQuote(p), expected: { type: 4, valid: true, ...p } })),
  fullArb.map((p) => ({ bytes: enc.encodeFull(p), expected: { type: 8, valid: true, ...p } })),
  prevCloseArb.map((p) => ({
    bytes: enc.encodePrevClose(p),
    expected: { type: 6, valid: true, ...p },
  })),
  oiArb.map((p) => ({ bytes: enc.encodeOi(p), expected: { type: 5, valid: true, ...p } })),
  disconnectArb.map((p) => ({ bytes: enc.encodeDisconnect(p), expected: { type: 50, ...p } })),
  fc.record({ segment: segmentArb, securityId: u32 }).map((p) => ({
    bytes: enc.encodeHeaderOnly(7, 8, SEGMENT_CODE[p.segment], p.securityId),
    expected: { type: 7, ...p },
  })),
  fc.record({ securityId: u32, len: fc.integer({ min: 8, max: 64 }) }).map((p) => ({
    bytes: enc.encodeHeaderOnly(1, p.len, 0, p.securityId),
    expected: null,
  })),
);

describe('FeedDecoder properties', () => {
  it('never throws on random frames and accounts for every byte', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 5 }), (frames) => {
        const d = new FeedDecoder();
        let emitted = 0;
        for (const f of frames) d.decode(f, () => emitted++);
        const total = frames.reduce((n, f) => n + f.length, 0);
        expect(d.stats.acceptedBytes + d.stats.rejectedBytes).toBe(total);
        expect(emitted).toBe(d.stats.packets);
        const errors = Object.values(d.stats.errors).reduce((a, b) => a + b, 0);
        if (d.stats.rejectedBytes > 0) expect(errors).toBeGreaterThan(0);
        expect(d.stats.errors[FeedDecodeError.EMPTY_FRAME]).toBe(
          frames.filter((f) => f.length === 0).length,
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on random frames built from plausible headers', () => {
    const headerish = fc
      .record({
        code: fc.constantFrom(0, 1, 2, 4, 5, 6, 7, 8, 50, 99),
        len: fc.nat({ max: 200 }),
        body: fc.uint8Array({ maxLength: 200 }),
      })
      .map(({ code, len, body }) => {
        const b = Buffer.alloc(3 + body.length);
        b.writeUInt8(code, 0);
        b.writeUInt16LE(len, 1);
        Buffer.from(body).copy(b, 3);
        return b;
      });
    fc.assert(
      fc.property(fc.array(headerish, { maxLength: 6 }), (parts) => {
        const frame = Buffer.concat(parts);
        const d = new FeedDecoder();
        d.decode(frame, () => undefined);
        expect(d.stats.acceptedBytes + d.stats.rejectedBytes).toBe(frame.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips every packet type, several per frame', () => {
    fc.assert(
      fc.property(fc.array(packetArb, { minLength: 1, maxLength: 8 }), (encoded) => {
        const frame = Buffer.concat(encoded.map((e) => e.bytes));
        const d = new FeedDecoder();
        const got = decodeAll(frame, d);
        const expected = encoded.filter((e) => e.expected !== null).map((e) => e.expected);
        expect(got).toHaveLength(expected.length);
        got.forEach((p, i) => expect(p).toMatchObject(expected[i] as Record<string, unknown>));
        expect(d.stats.rejectedBytes).toBe(0);
        expect(d.stats.acceptedBytes).toBe(frame.length);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips 20-level depth packets', () => {
    const rowArb = fc.record({
      price: fc.double({ min: 0, max: 1e7, noNaN: true }),
      quantity: u32,
      orders: u32,
    });
    const sideArb = fc.record({
      side: fc.constantFrom(DepthResponseCode.BID as const, DepthResponseCode.ASK as const),
      segment: fc.constantFrom(ExchangeSegment.NSE_EQ, ExchangeSegment.NSE_FNO),
      securityId: u32,
      sequence: u32,
      rows: fc.array(rowArb, { minLength: 20, maxLength: 20 }),
    });
    fc.assert(
      fc.property(fc.array(sideArb, { minLength: 1, maxLength: 4 }), (sides) => {
        const frame = Buffer.concat(
          sides.map((s) =>
            enc.encodeDepthSide(s.side, SEGMENT_CODE[s.segment], s.securityId, s.sequence, s.rows),
          ),
        );
        const got = decodeDepth(frame);
        expect(got).toHaveLength(sides.length);
        got.forEach((p, i) => {
          expect(p).toMatchObject({
            type: sides[i].side,
            segment: sides[i].segment,
            securityId: sides[i].securityId,
            sequence: sides[i].sequence,
            rows: sides[i].rows,
            valid: true,
          });
        });
      }),
      { numRuns: 200 },
    );
  });

  it('depth decoder never throws on random frames and accounts for every byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 800 }), (frame) => {
        const d = new DepthDecoder();
        d.decode(frame, () => undefined);
        expect(d.stats.acceptedBytes + d.stats.rejectedBytes).toBe(frame.length);
      }),
      { numRuns: 2000 },
    );
  });
});
