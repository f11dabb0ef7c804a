import { ExchangeSegment, SEGMENT_CODE, instrumentKey } from '@app/dhan';
import { MAX_TICK_BYTES, serializeTick, TickSerializer } from './tick-serializer';
import { marketState } from '../models/tick.model';
import { TickRecord, TickStore } from './tick-store';

/** What JSON.stringify writes for the same values (graphql-js serialises Floats this way). */
function viaJson(values: number[]): string {
  return JSON.stringify(values.map((x) => (Number.isNaN(x) ? null : x)));
}

describe('serializeTick numbers', () => {
  const store = new TickStore();
  const rec = store.ensure(instrumentKey(SEGMENT_CODE[ExchangeSegment.NSE_FNO], 52175));

  function ltpText(x: number): string {
    rec.ltp = x;
    const json = serializeTick(rec);
    return /"ltp":([^,]*),/.exec(json)![1];
  }

  it('writes every value as String(x) does: integers, two-decimal prices and the rest', () => {
    const values = [
      0,
      -0,
      1,
      -1,
      7,
      75,
      2_147_483_647,
      2_147_483_648,
      -2_147_483_648,
      3e9,
      0.05,
      -0.05,
      0.1,
      0.5,
      1.5,
      99.99,
      100.1,
      104.35,
      -12.4,
      21_474_836.47,
      21_474_836.48,
      -21_474_836.48,
      0.1 + 0.2,
      1e-7,
      104.35000000000001,
      Math.fround(104.35),
      1 / 3,
      1e21,
      5e-324,
    ];
    for (let c = -100_000; c <= 100_000; c += 37) values.push(c / 100, c / 20);
    expect(`[${values.map(ltpText).join(',')}]`).toBe(viaJson(values));
  });

  it('writes NaN (unknown) as null and keeps the same bytes per record version', () => {
    expect(ltpText(Number.NaN)).toBe('null');
    const serializer = new TickSerializer();
    rec.ltp = 104.35;
    rec.ltt = 1_764_060_000;
    rec.version++;
    const first = serializer.fragment(rec);
    const text = () => first.view.toString('utf8');
    expect(serializer.fragment(rec)).toBe(first);
    expect(text()).toBe(serializeTick(rec));
    expect(JSON.parse(text())).toMatchObject({
      ltp: 104.35,
      lastTradeTime: new Date(1_764_060_000 * 1000).toISOString(),
    });
    // The next version is written into the same holder and bytes: nothing allocated per tick.
    const bytes = first.bytes;
    const serialised = serializer.serializations;
    rec.ltp = 104.4;
    rec.version++;
    expect(serializer.fragment(rec)).toBe(first);
    expect(first.bytes).toBe(bytes);
    expect(serializer.serializations).toBe(serialised + 1);
    expect(JSON.parse(text())).toMatchObject({ ltp: 104.4 });
    expect(text()).toBe(serializeTick(rec));
  });
});

/**
 * The Tick as the graphql-js path writes it: the record's snapshot (`marketState`, which quotes
 * and option chains serve) without the fields a Tick does not have, through JSON.stringify.
 */
function reference(r: TickRecord): string {
  const { source: _source, receivedAt: _receivedAt, ...tick } = marketState(r);
  return JSON.stringify(tick);
}

/** The record's numbers a Tick carries, in their order. */
const NUMBER_FIELDS = [
  'ltp',
  'ltq',
  'atp',
  'volume',
  'totalBuyQty',
  'totalSellQty',
  'open',
  'high',
  'low',
  'close',
  'prevClose',
  'change',
  'changePercent',
  'oi',
] as const;

describe('serializeTick bytes', () => {
  it('writes the same JSON as JSON.stringify of the Tick for 20,000 random records', () => {
    const store = new TickStore();
    const serializer = new TickSerializer();
    let seed = 11;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    // Values a tick carries, and the odd ones: NaN, negative, huge, long fractions, -0.
    const value = (): number => {
      const k = rand();
      if (k < 0.1) return Number.NaN;
      if (k < 0.4) return Math.round(rand() * 5_000_000) / 100;
      if (k < 0.6) return Math.round(rand() * 1e9);
      if (k < 0.7) return -Math.round(rand() * 100_000) / 100;
      if (k < 0.75) return rand() * 1e6;
      if (k < 0.8) return Math.round(rand() * 1e17);
      if (k < 0.85)
        return [0, -0, 1e21, -1e21, 5e-324, 0.1 + 0.2, 2 ** 53, -(2 ** 53)][(rand() * 8) | 0];
      return Math.round(rand() * 2000) / 20;
    };
    const segments = [ExchangeSegment.NSE_FNO, ExchangeSegment.NSE_EQ, ExchangeSegment.MCX_COMM];
    let longest = 0;
    for (let i = 0; i < 20_000; i++) {
      const segment = segments[i % segments.length];
      const rec = store.ensure(instrumentKey(SEGMENT_CODE[segment], 1 + ((rand() * 300) | 0)));
      for (const field of NUMBER_FIELDS) rec[field] = value();
      rec.ltt = rand() < 0.2 ? 0 : 1_700_000_000 + ((rand() * 1e8) | 0);
      rec.hasDepth = rand() < 0.7;
      for (let d = 0; d < rec.depth.length; d++) rec.depth[d] = value();
      rec.stale = rand() < 0.5;
      const json = serializeTick(rec);
      expect(json).toBe(reference(rec));
      // The record's own bytes, written in place: a longer version than they hold is written
      // again into larger ones, a shorter one leaves no trailing bytes of the last.
      rec.version++;
      expect(serializer.fragment(rec).view.toString('latin1')).toBe(json);
      longest = Math.max(longest, json.length);
    }
    // The scratch buffer holds the longest tick with room to spare.
    expect(longest).toBeLessThan(MAX_TICK_BYTES / 2);
  });

  it('writes trade times as toISOString does, leap days and the ends of the range included', () => {
    const store = new TickStore();
    const rec = store.ensure(instrumentKey(SEGMENT_CODE[ExchangeSegment.NSE_EQ], 2885));
    const times = [
      1,
      59,
      86_399,
      86_400,
      951_782_400, // 2000-02-29
      951_868_799,
      1_709_164_800, // 2024-02-29
      4_107_542_399, // 2100-02-28T23:59:59
      4_107_542_400, // 2100-03-01 (no leap day)
      253_402_300_799, // the last second toISOString writes in four digits
      253_402_300_800,
      1_764_060_000.5,
    ];
    // Every IST midnight from 2025 to 2027, and the second before it.
    for (
      let t = Date.UTC(2025, 0, 1) / 1000 - 19_800;
      t < Date.UTC(2028, 0, 1) / 1000;
      t += 86_400
    ) {
      times.push(t, t - 1);
    }
    for (const t of times) {
      rec.ltt = t;
      const text = /"lastTradeTime":("[^"]*"|null)/.exec(serializeTick(rec))![1];
      expect(text).toBe(JSON.stringify(new Date(t * 1000).toISOString()));
    }
  });
});
