import {
  encodeDisconnect,
  writeFull,
  writeOi,
  writePrevClose,
  writeQuote,
  writeTicker,
} from './feed-encoder';
import { InstrumentState } from './market';

// Expected bytes are written by hand from DhanHQ v2: feed packets, not produced by the encoder.
describe('feed encoder', () => {
  it('ticker: code 2, length 16, segment, id, f32 LTP, i32 LTT', () => {
    const buf = Buffer.alloc(16);
    expect(writeTicker(buf, 0, 1, 2885, 1234.5, 1_700_000_000)).toBe(16);
    // 1234.5f = 0x449A5000; 1_700_000_000 = 0x6553F100; 2885 = 0x0B45
    expect(buf.toString('hex')).toBe('02' + '1000' + '01' + '450b0000' + '00509a44' + '00f15365');
  });

  it('prev close: code 6, f32 close, i32 OI', () => {
    const buf = Buffer.alloc(16);
    writePrevClose(buf, 0, 2, 35001, 100, 650);
    expect(buf.toString('hex')).toBe('06' + '1000' + '02' + 'b9880000' + '0000c842' + '8a020000');
  });

  it('OI: code 5, length 12', () => {
    const buf = Buffer.alloc(12);
    writeOi(buf, 0, 2, 35001, 123456);
    expect(buf.toString('hex')).toBe('05' + '0c00' + '02' + 'b9880000' + '40e20100');
  });

  it('disconnect: code 50, length 10, reason at 8-9', () => {
    expect(encodeDisconnect(805).toString('hex')).toBe('32' + '0a00' + '00' + '00000000' + '2503');
  });

  const state: InstrumentState = {
    ltp: 10,
    ltq: 75,
    lastTradeMs: 0,
    volume: 1000,
    turnover: 0,
    totalBuyQty: 300,
    totalSellQty: 200,
    open: 9,
    high: 11,
    low: 8,
    close: 0,
    prevClose: 9.5,
    oi: 5000,
    prevOi: 4000,
    oiHigh: 5100,
    oiLow: 4900,
  };

  it('quote: 50 bytes, OHLC right after the totals', () => {
    const buf = Buffer.alloc(50);
    expect(writeQuote(buf, 0, 1, 7, state, 9.75, 42)).toBe(50);
    const hex = buf.toString('hex');
    expect(hex).toBe(
      '04' +
        '3200' +
        '01' +
        '07000000' +
        '00002041' + // ltp 10
        '4b00' + // ltq 75
        '2a000000' + // ltt 42
        '00001c41' + // atp 9.75
        'e8030000' + // volume 1000
        'c8000000' + // total sell 200
        '2c010000' + // total buy 300
        '00001041' + // open 9
        '00000000' + // close 0
        '00003041' + // high 11
        '00000041', // low 8
    );
  });

  it('full: 162 bytes, OI block before OHLC, depth rows of 20 bytes', () => {
    const buf = Buffer.alloc(162);
    const depth = [0, 1, 2, 3, 4].map((k) => ({
      bidQty: 10 + k,
      askQty: 20 + k,
      bidOrders: 1,
      askOrders: 2,
      bidPrice: 9.5 - k * 0.5,
      askPrice: 10.5 + k * 0.5,
    }));
    expect(writeFull(buf, 0, 2, 35001, state, 9.75, 42, depth)).toBe(162);
    const hex = buf.toString('hex');
    expect(hex.slice(0, 124)).toBe(
      '08' +
        'a200' +
        '02' +
        'b9880000' +
        '00002041' +
        '4b00' +
        '2a000000' +
        '00001c41' +
        'e8030000' +
        'c8000000' +
        '2c010000' +
        '88130000' + // oi 5000
        'ec130000' + // oi high 5100
        '24130000' + // oi low 4900
        '00001041' +
        '00000000' +
        '00003041' +
        '00000041',
    );
    // level 1 at byte 62: bid qty 10, ask qty 20, bid orders 1, ask orders 2, 9.5, 10.5
    expect(hex.slice(124, 164)).toBe(
      '0a000000' + '14000000' + '0100' + '0200' + '00001841' + '00002841',
    );
    expect(buf.readFloatLE(62 + 4 * 20 + 16)).toBe(12.5);
  });
});
