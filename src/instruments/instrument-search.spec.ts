import { parseScripMaster, type Instrument } from '@app/dhan';
import { Universe } from '@app/dhan-simulator';
import { InstrumentIndex } from './instrument-index';

/** Search as traders type, against the simulator's whole universe (about 27,000 instruments). */
describe('InstrumentIndex search as traders type (simulator universe)', () => {
  const TODAY = '2026-12-05';
  let index: InstrumentIndex;
  let all: readonly Instrument[];

  beforeAll(async () => {
    const { instruments } = await parseScripMaster(
      new Universe({ seed: 42, today: TODAY }).toCsv(),
    );
    index = new InstrumentIndex(instruments);
    all = instruments;
  });

  const derivatives = (underlying: string, where: (i: Instrument) => boolean) =>
    all
      .filter((i) => i.underlying === underlying && where(i))
      .sort((a, b) => (a.expiry! < b.expiry! ? -1 : a.expiry! > b.expiry! ? 1 : 0));
  const describeHit = (i: Instrument) =>
    `${i.underlying} ${i.expiry} ${i.strike ?? ''} ${i.optionType ?? i.instrumentType}`;

  it.each([
    ['BANKNIFTY 52000 CE'],
    ['banknifty 52000 ce'],
    ['ce 52000 BankNifty'],
    ['BANKNIFTY 52000CE'],
    ['BANKNIFTY CALL 52000'],
  ])('%s: every BANKNIFTY 52000 call, nearest expiry first', (query) => {
    const expected = derivatives('BANKNIFTY', (i) => i.strike === 52000 && i.optionType === 'CE');
    expect(expected.length).toBeGreaterThan(1);
    expect(index.search(query, 20, TODAY).map(describeHit)).toEqual(expected.map(describeHit));
  });

  it.each([['NIFTY DEC FUT'], ['nifty fut dec'], ['FUT NIFTY DECEMBER']])(
    '%s: the December NIFTY future first',
    (query) => {
      const [first] = index.search(query, 20, TODAY);
      expect(describeHit(first)).toBe(
        describeHit(derivatives('NIFTY', (i) => i.instrumentType === 'FUTIDX')[0]),
      );
      expect(first.expiry!.slice(0, 7)).toBe('2026-12');
    },
  );

  it('nifty 24500 pe <day> dec: the one put of that strike and expiry, whatever the order', () => {
    const decExpiries = [
      ...new Set(derivatives('NIFTY', (i) => i.optionType === 'PE').map((i) => i.expiry!)),
    ].filter((e) => e.startsWith('2026-12'));
    const expiry = decExpiries[decExpiries.length - 1];
    const day = Number(expiry.slice(8, 10));
    const target = all.find(
      (i) =>
        i.underlying === 'NIFTY' &&
        i.strike === 24500 &&
        i.optionType === 'PE' &&
        i.expiry === expiry,
    )!;
    expect(target).toBeDefined();
    for (const query of [
      `nifty 24500 pe ${day} dec`,
      `NIFTY ${day} DEC 24500 PE`,
      `dec ${day} 24500pe nifty`,
      `nifty 24500 put ${day} december 2026`,
    ]) {
      expect(index.search(query, 20, TODAY)[0]).toBe(target);
    }
    // Without a day: every December 24500 put, nearest first.
    const found = index.search('nifty 24500 pe dec', 20, TODAY);
    expect(found.map((i) => i.expiry)).toEqual(decExpiries);
  });

  it('CRUDEOIL FUT: the crude oil futures, nearest expiry first', () => {
    const expected = derivatives('CRUDEOIL', (i) => i.instrumentType === 'FUTCOM');
    expect(index.search('CRUDEOIL FUT', 20, TODAY).map(describeHit)).toEqual(
      expected.map(describeHit),
    );
    expect(index.search('crudeoil futures', 20, TODAY)[0]).toBe(expected[0]);
  });

  it('leaves expired contracts out when today is given', () => {
    const expiries = index.search('BANKNIFTY 52000 CE', 20, '2027-01-01').map((i) => i.expiry!);
    expect(expiries.length).toBeGreaterThan(0);
    expect(expiries.every((e) => e >= '2027-01-01')).toBe(true);
  });

  it('reads a query as a contract only when every token fits; otherwise the text search answers', () => {
    // "NIFTY BANK" is the index's display name: the exact match still comes first.
    expect(index.search('nifty bank', 5, TODAY)[0].instrumentType).toBe('INDEX');
    // A strike that is not listed finds no contract and nothing else.
    expect(index.search('BANKNIFTY 52001 CE', 5, TODAY)).toEqual([]);
    // A word that is no underlying, kind or month: plain text search.
    expect(index.search('RELIANCE INDUSTRIES', 5, TODAY)[0]?.symbol).toBe('RELIANCE');
  });

  it('the trigram walk finds exactly what a scan of the whole text finds, in the same order', () => {
    type Cursors = Record<'cursor' | 'scanCursor', (needle: string) => () => number>;
    const cursors = index as unknown as Cursors;
    const drain = (next: () => number) => {
      const out: number[] = [];
      for (let i = next(); i >= 0; i = next()) out.push(i);
      return out;
    };
    // Substrings of real names at every length, digits and spaces included, and misses.
    let seed = 11;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const needles = ['ZZZNOMATCH', 'NIFTY BANK', '24000', ' 1 DEC ', 'OIL', 'QQ\u00e9X'];
    for (let k = 0; k < 300; k++) {
      const i = all[rand(all.length)];
      const name = (rand(2) === 0 ? i.symbol : i.displayName).toUpperCase();
      const at = rand(name.length);
      needles.push(name.slice(at, at + 1 + rand(10)));
    }
    for (const needle of needles) {
      const walked = drain(cursors.cursor.call(index, needle));
      const scanned = drain(cursors.scanCursor.call(index, needle));
      expect({ needle, hits: walked }).toEqual({ needle, hits: scanned });
    }
  });
});
