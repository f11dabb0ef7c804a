import { ExchangeSegment, SEGMENT_CODE, instrumentKey } from '@app/dhan';
import { serializeTick, TickSerializer } from './tick-serializer';
import { TickStore } from './tick-store';

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
