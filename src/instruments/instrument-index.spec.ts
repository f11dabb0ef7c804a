import { ExchangeSegment, type Instrument, instrumentKey, SEGMENT_CODE } from '@app/dhan';
import { InstrumentIndex, normaliseSearch, SearchRank } from './instrument-index';

function anInstrument(overrides: Partial<Instrument> = {}): Instrument {
  return {
    segment: ExchangeSegment.NSE_EQ,
    securityId: '2885',
    exchange: 'NSE',
    instrumentType: 'EQUITY',
    symbol: 'RELIANCE',
    displayName: 'Reliance Industries',
    lotSize: 1,
    tickSize: 0.05,
    ...overrides,
  };
}

function anIndex(symbol: string, securityId: string, displayName = symbol): Instrument {
  return anInstrument({
    segment: ExchangeSegment.IDX_I,
    securityId,
    instrumentType: 'INDEX',
    symbol,
    displayName,
  });
}

function anOption(
  underlying: string,
  expiry: string,
  strike: number,
  optionType: 'CE' | 'PE',
  securityId: string,
  segment = ExchangeSegment.NSE_FNO,
): Instrument {
  const month = expiry.slice(5, 7);
  return anInstrument({
    segment,
    securityId,
    exchange: segment === ExchangeSegment.MCX_COMM ? 'MCX' : 'NSE',
    instrumentType: segment === ExchangeSegment.MCX_COMM ? 'OPTFUT' : 'OPTIDX',
    symbol: `${underlying}-${month}-${strike}-${optionType}`,
    displayName: `${underlying} ${expiry} ${strike} ${optionType === 'CE' ? 'CALL' : 'PUT'}`,
    underlying,
    expiry,
    strike,
    optionType,
    lotSize: 65,
  });
}

function aFuture(underlying: string, expiry: string, securityId: string): Instrument {
  return anInstrument({
    segment: ExchangeSegment.MCX_COMM,
    securityId,
    exchange: 'MCX',
    instrumentType: 'FUTCOM',
    symbol: `${underlying}-${expiry}-FUT`,
    displayName: `${underlying} ${expiry} FUT`,
    underlying,
    expiry,
    lotSize: 100,
    tickSize: 1,
  });
}

const NIFTY = anIndex('NIFTY', '13', 'Nifty 50');
const BANKNIFTY = anIndex('BANKNIFTY', '25', 'Nifty Bank');
const UNIVERSE: Instrument[] = [
  anOption('NIFTY', '2026-12-08', 24100, 'PE', '40004'),
  anOption('NIFTY', '2026-12-01', 24100, 'CE', '40001'),
  anOption('NIFTY', '2026-12-01', 24000, 'PE', '40002'),
  anOption('NIFTY', '2026-12-01', 24000, 'CE', '40003'),
  BANKNIFTY,
  NIFTY,
  anInstrument(),
  anInstrument({ securityId: '500325', segment: ExchangeSegment.BSE_EQ, exchange: 'BSE' }),
  aFuture('CRUDEOIL', '2026-11-19', '420000'),
  aFuture('CRUDEOIL', '2026-12-18', '420001'),
  anOption('CRUDEOIL', '2026-12-16', 6000, 'CE', '421000', ExchangeSegment.MCX_COMM),
];

describe('InstrumentIndex', () => {
  const index = new InstrumentIndex(UNIVERSE);

  it('looks instruments up by segment and id, and by instrument key', () => {
    expect(index.get(ExchangeSegment.IDX_I, '13')).toBe(NIFTY);
    expect(index.get(ExchangeSegment.NSE_EQ, '13')).toBeUndefined();
    expect(index.get(ExchangeSegment.IDX_I, 'abc')).toBeUndefined();
    expect(index.getByKey(instrumentKey(SEGMENT_CODE.IDX_I, 25))).toBe(BANKNIFTY);
    expect(index.size).toBe(UNIVERSE.length);
  });

  it('lists option expiries ascending, without past ones', () => {
    expect(index.expiries('nifty')).toEqual(['2026-12-01', '2026-12-08']);
    expect(index.expiries('NIFTY', '2026-12-02')).toEqual(['2026-12-08']);
    expect(index.expiries('UNKNOWN')).toEqual([]);
    expect(index.hasUnderlying('crudeoil')).toBe(true);
    expect(index.hasUnderlying('RELIANCE')).toBe(false);
  });

  it('gives a chain by strike, CE before PE', () => {
    expect(index.chain('NIFTY', '2026-12-01').map((o) => `${o.strike}${o.optionType}`)).toEqual([
      '24000CE',
      '24000PE',
      '24100CE',
    ]);
    expect(index.chain('NIFTY', '2030-01-01')).toEqual([]);
  });

  it('finds the underlying: the index, the MCX near-month future, the cash equity', () => {
    expect(index.underlyingOf('nifty', '2026-11-25')).toBe(NIFTY);
    expect(index.underlyingOf('NIFTY 50', '2026-11-25')).toBe(NIFTY);
    expect(index.underlyingOf('CRUDEOIL', '2026-11-19')?.securityId).toBe('420000');
    expect(index.underlyingOf('CRUDEOIL', '2026-11-20')?.securityId).toBe('420001');
    expect(index.underlyingOf('RELIANCE', '2026-11-25')?.segment).toBe(ExchangeSegment.NSE_EQ);
    expect(index.underlyingOf('NOPE', '2026-11-25')).toBeUndefined();
  });

  it('finds the future an MCX option expiry is written on: the first expiring on or after it', () => {
    // Futures 2026-11-19 (420000) and 2026-12-18 (420001).
    expect(index.futureFor('CRUDEOIL', '2026-11-16')?.securityId).toBe('420000');
    expect(index.futureFor('crudeoil', '2026-11-19')?.securityId).toBe('420000');
    expect(index.futureFor('CRUDEOIL', '2026-12-16')?.securityId).toBe('420001');
    expect(index.futureFor('CRUDEOIL', '2026-12-18')?.securityId).toBe('420001');
    expect(index.futureFor('CRUDEOIL', '2026-12-21')).toBeUndefined();
    expect(index.futureFor('NIFTY', '2026-11-26')).toBeUndefined();
    expect(index.futureFor('NOPE', '2026-11-26')).toBeUndefined();
    // By expiry whatever order the master lists them in.
    const reversed = new InstrumentIndex([...UNIVERSE].reverse());
    expect(reversed.futureFor('CRUDEOIL', '2026-11-16')?.securityId).toBe('420000');
    expect(reversed.futureFor('CRUDEOIL', '2026-12-16')?.securityId).toBe('420001');
  });

  it("prices a chain off its expiry's future on MCX, else off underlyingOf", () => {
    // On 2026-11-19 the near future is November's, but December's options are on December's.
    expect(index.chainBase('CRUDEOIL', '2026-12-16', '2026-11-19')?.securityId).toBe('420001');
    // No future expiring on or after the options: the near future, as before.
    expect(index.chainBase('CRUDEOIL', '2027-01-18', '2026-11-19')?.securityId).toBe('420000');
    expect(index.chainBase('NIFTY', '2026-11-26', '2026-11-25')).toBe(NIFTY);
    expect(index.chainBase('RELIANCE', '2026-11-26', '2026-11-25')?.segment).toBe(
      ExchangeSegment.NSE_EQ,
    );
  });

  describe('search', () => {
    it('puts the exact match first, case-insensitively, on symbol or display name', () => {
      expect(index.search('nifty', 10)[0]).toBe(NIFTY);
      expect(index.search('  nifty   bank ', 10)[0]).toBe(BANKNIFTY);
      expect(index.search('Reliance Industries', 1)[0].symbol).toBe('RELIANCE');
    });

    it('ranks exact > prefix > contains, display order within a rank', () => {
      const found = index.search('NIFTY', 20);
      const ranks = found.map((i) => InstrumentIndex.rank(i, 'NIFTY'));
      expect(ranks[0]).toBe(SearchRank.EXACT);
      expect([...ranks].sort()).toEqual(ranks);
      // Prefix: the BANKNIFTY index by its name "Nifty Bank" comes before options.
      expect(found[1]).toBe(BANKNIFTY);
      expect(found.slice(2).map((i) => i.securityId)).toEqual(['40003', '40002', '40001', '40004']);
      // BANKNIFTY matches by symbol only as "contains", but its display name is a prefix.
      expect(InstrumentIndex.rank(BANKNIFTY, 'NIFTY')).toBe(SearchRank.PREFIX);
    });

    it('returns each instrument once, even when both names match', () => {
      const found = index.search('CRUDEOIL', 20);
      expect(new Set(found).size).toBe(found.length);
      expect(found).toHaveLength(3);
    });

    it('honours the limit and finds nothing for text no name contains', () => {
      expect(index.search('NIFTY', 2)).toHaveLength(2);
      expect(index.search('NIFTY', 0)).toEqual([]);
      expect(index.search('ZZZ', 5)).toEqual([]);
      expect(index.search('   ', 5)).toEqual([]);
    });

    it('cannot match across the boundary between symbol and display name', () => {
      expect(index.search('RELIANCERELIANCE', 5)).toEqual([]);
      expect(index.search('E\u0002R', 5)).toEqual([]);
      expect(normaliseSearch('a\u0001b')).toBe('A B');
    });

    it('fills the page with contains matches after prefixes', () => {
      const found = index.search('OIL', 10);
      expect(found.map((i) => InstrumentIndex.rank(i, 'OIL'))).toEqual([
        SearchRank.CONTAINS,
        SearchRank.CONTAINS,
        SearchRank.CONTAINS,
      ]);
      expect(found[0].instrumentType).toBe('FUTCOM');
    });
  });

  it('matches a plain ranked scan on a master with thousands of prefix matches', () => {
    const many: Instrument[] = [NIFTY, BANKNIFTY, anInstrument()];
    let id = 50000;
    for (const expiry of ['2026-12-01', '2026-12-08', '2026-12-15', '2026-12-22']) {
      for (let strike = 20000; strike < 28000; strike += 25) {
        many.push(anOption('NIFTY', expiry, strike, 'CE', String(id++)));
        many.push(anOption('NIFTY', expiry, strike, 'PE', String(id++)));
      }
    }
    const big = new InstrumentIndex(many);
    const ordered = big.all();
    for (const query of ['NIFTY', 'nifty-12', 'NIFTY 2026-12-08 2', '24000', 'BANK', 'PUT']) {
      const reference = ordered
        .map((instrument, position) => ({
          instrument,
          position,
          rank: InstrumentIndex.rank(instrument, query),
        }))
        .filter((hit) => hit.rank !== undefined)
        .sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0) || a.position - b.position)
        .slice(0, 25)
        .map((hit) => hit.instrument);
      expect(big.search(query, 25)).toEqual(reference);
    }
  });
});
