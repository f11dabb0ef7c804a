import { ExchangeSegment } from '@app/dhan';
import { TickRecord } from '../ticks/tick-store';
import {
  aggregate,
  bucketStart,
  CandleInterval,
  istMidnight,
  overlay,
  type Bar,
} from './candle-math';
import { LiveSeries } from './live-candles';

const NSE = ExchangeSegment.NSE_EQ;
const MCX = ExchangeSegment.MCX_COMM;
const DAY = '2026-11-25';
/** Epoch seconds of an IST wall-clock time on DAY. */
const ist = (h: number, m: number, s = 0) => istMidnight(DAY) + h * 3600 + m * 60 + s;
const bar = (time: number, o: number, h: number, l: number, c: number, v = 10): Bar => ({
  time,
  open: o,
  high: h,
  low: l,
  close: c,
  volume: v,
  oi: null,
});

describe('candle math', () => {
  it('aligns bars to the session open: 09:15 IST on NSE, 09:00 on MCX; daily at IST midnight', () => {
    expect(bucketStart(ist(9, 39, 59), CandleInterval.M25, NSE)).toBe(ist(9, 15));
    expect(bucketStart(ist(9, 40), CandleInterval.M25, NSE)).toBe(ist(9, 40));
    expect(bucketStart(ist(10, 20), CandleInterval.M60, NSE)).toBe(ist(10, 15));
    expect(bucketStart(ist(10, 20), CandleInterval.M60, MCX)).toBe(ist(10, 0));
    expect(bucketStart(ist(14, 3, 7), CandleInterval.M1, NSE)).toBe(ist(14, 3));
    expect(bucketStart(ist(14, 3), CandleInterval.D1, NSE)).toBe(istMidnight(DAY));
  });

  it('aggregates minutes into 5-minute bars: first open, extreme high and low, last close, summed volume', () => {
    const minutes = [0, 1, 2, 3, 4, 5].map((k) =>
      bar(ist(9, 15 + k), 100 + k, 101 + k + (k === 2 ? 5 : 0), 99 - k, 100.5 + k),
    );
    const [a, b] = aggregate(minutes, CandleInterval.M5, NSE);
    expect(a).toEqual(bar(ist(9, 15), 100, 108, 95, 104.5, 50));
    expect(b).toEqual(bar(ist(9, 20), 105, 106, 94, 105.5, 10));
  });

  it("overlays today's live bars on DhanHQ's: the first live bar keeps DhanHQ's open and the wider range", () => {
    const rest = [bar(ist(9, 15), 100, 102, 99, 101), bar(ist(9, 16), 101, 103, 100, 102, 30)];
    const live = [
      bar(ist(9, 16), 102, 102.5, 101, 102.2, 5),
      bar(ist(9, 17), 102.2, 104, 102, 103),
    ];
    expect(overlay(rest, live)).toEqual([
      rest[0],
      bar(ist(9, 16), 101, 103, 100, 102.2, 30),
      live[1],
    ]);
    expect(overlay(rest, [])).toEqual(rest);
  });
});

describe('LiveSeries', () => {
  const rec = (ltp: number, ltt: number, volume: number) => {
    const r = new TickRecord(1, 100);
    r.ltp = ltp;
    r.ltt = ltt;
    r.volume = volume;
    r.version = ltt;
    return r;
  };

  it('builds minute bars from successive feed states, volume from the day total', () => {
    const s = new LiveSeries(1, NSE);
    expect(s.update(rec(100, ist(10, 0, 5), 1_000), ist(10, 0, 5))).toBe(true);
    s.update(rec(101, ist(10, 0, 30), 1_050), ist(10, 0, 30));
    s.update(rec(99.5, ist(10, 0, 50), 1_080), ist(10, 0, 50));
    s.update(rec(100.2, ist(10, 1, 2), 1_100), ist(10, 1, 2));
    expect(s.bars(CandleInterval.M1)).toEqual([
      { ...bar(ist(10, 0), 100, 101, 99.5, 99.5, 80), oi: null },
      { ...bar(ist(10, 1), 100.2, 100.2, 100.2, 100.2, 20), oi: null },
    ]);
    expect(s.forming(CandleInterval.M5)).toEqual(bar(ist(10, 0), 100, 101, 99.5, 100.2, 100));
  });

  it('ignores an unchanged record and REST snapshots (seeding aside)', () => {
    const s = new LiveSeries(1, NSE);
    const r = rec(100, ist(10, 0), 10);
    r.fromRest = true;
    expect(s.update(r, ist(10, 0))).toBe(false);
    s.seed(r, ist(10, 0));
    expect(s.bars(CandleInterval.M1)).toHaveLength(1);
    expect(s.update(r, ist(10, 0))).toBe(false);
  });
});
