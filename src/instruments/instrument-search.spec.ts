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
});
