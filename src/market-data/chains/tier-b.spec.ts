import { ExchangeSegment, FeedMode, Instrument, OptionType } from '@app/dhan/types';
import { FeedPort, ReferenceKind, SubscriptionRegistry } from '../feed/subscription-registry';
import {
  DEFAULT_TIER_B_CONFIG,
  TierBMissingReason,
  TierBSource,
  atmIndex,
  listedStrikes,
  needsRecentre,
  selectTierB,
  spotOf,
  tierBReferences,
  underlyingsToRecentre,
} from './tier-b';

let nextId = 100_000;

function anIndex(symbol: string, securityId: string): Instrument {
  return {
    segment: ExchangeSegment.IDX_I,
    securityId,
    exchange: 'NSE',
    instrumentType: 'INDEX',
    symbol,
    displayName: symbol,
    lotSize: 1,
    tickSize: 0.05,
  };
}

function anOption(
  underlying: string,
  expiry: string,
  strike: number,
  optionType: OptionType,
  o: Partial<Instrument> = {},
): Instrument {
  return {
    segment: ExchangeSegment.NSE_FNO,
    securityId: String(nextId++),
    exchange: 'NSE',
    instrumentType: 'OPTIDX',
    symbol: `${underlying}-${expiry}-${strike}-${optionType}`,
    displayName: `${underlying} ${expiry} ${strike} ${optionType}`,
    underlying,
    expiry,
    strike,
    optionType,
    lotSize: 65,
    tickSize: 0.05,
    ...o,
  };
}

function aChain(
  underlying: string,
  expiry: string,
  from: number,
  to: number,
  step: number,
  o: Partial<Instrument> = {},
): Instrument[] {
  const out: Instrument[] = [];
  for (let s = from; s <= to; s += step) {
    out.push(anOption(underlying, expiry, s, 'CE', o), anOption(underlying, expiry, s, 'PE', o));
  }
  return out;
}

function aFuture(name: string, expiry: string, securityId: string): Instrument {
  return {
    segment: ExchangeSegment.MCX_COMM,
    securityId,
    exchange: 'MCX',
    instrumentType: 'FUTCOM',
    symbol: `${name}-${expiry}-FUT`,
    displayName: `${name} ${expiry} FUT`,
    underlying: name,
    expiry,
    lotSize: 100,
    tickSize: 1,
  };
}

const TODAY = '2026-11-25';
const MCX = {
  segment: ExchangeSegment.MCX_COMM,
  exchange: 'MCX',
  instrumentType: 'OPTFUT',
} as const;

/** A fixed small master: NIFTY weekly (one already expired), BANKNIFTY monthly, CRUDEOIL on futures. */
const MASTER: Instrument[] = [
  anIndex('NIFTY', '13'),
  anIndex('BANKNIFTY', '25'),
  { ...anIndex('SENSEX', '51'), exchange: 'BSE' },
  ...aChain('NIFTY', '2026-11-24', 23_000, 25_000, 50),
  ...aChain('NIFTY', '2026-12-01', 23_000, 25_000, 50),
  ...aChain('NIFTY', '2026-12-08', 23_000, 25_000, 50),
  ...aChain('NIFTY', '2026-12-15', 23_000, 25_000, 50),
  ...aChain('BANKNIFTY', '2026-12-29', 50_000, 54_000, 100),
  aFuture('CRUDEOIL', '2027-01-19', '900002'),
  aFuture('CRUDEOIL', '2026-12-18', '900001'),
  aFuture('CRUDEOIL', '2026-10-19', '900000'),
  ...aChain('CRUDEOIL', '2026-12-16', 5_000, 6_000, 50, MCX),
];

const SPOTS = { NIFTY: 24_013.4, BANKNIFTY: 51_960, CRUDEOIL: 5_512, SENSEX: 80_000 };

const strikesOf = (name: string, expiry: string) => listedStrikes(MASTER, name, expiry);
const range = (from: number, to: number, step: number) =>
  Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);

describe('Tier B selection', () => {
  const selection = selectTierB({ instruments: MASTER, spots: SPOTS, today: TODAY });
  const nifty = selection.underlyings.find((u) => u.name === 'NIFTY')!;

  it('pins NIFTY spot plus 21 strikes x CE/PE = 42 contracts for each of its 2 nearest live expiries', () => {
    expect(nifty.underlying.securityId).toBe('13');
    expect(nifty.chains.map((c) => c.expiry)).toEqual(['2026-12-01', '2026-12-08']);
    for (const chain of nifty.chains) {
      expect(chain.atmStrike).toBe(24_000);
      expect(chain.strikes).toEqual(range(23_500, 24_500, 50));
      expect(chain.contracts).toHaveLength(42);
      expect(chain.contracts.slice(0, 2).map((c) => [c.strike, c.optionType])).toEqual([
        [23_500, 'CE'],
        [23_500, 'PE'],
      ]);
    }
    expect(selection.counts.NIFTY).toBe(1 + 2 * 42);
  });

  it('start of day rolls an expired expiry out and the next one in (the expiry day itself still trades)', () => {
    const onExpiryDay = selectTierB({ instruments: MASTER, spots: SPOTS, today: '2026-12-01' });
    const nextDay = selectTierB({ instruments: MASTER, spots: SPOTS, today: '2026-12-02' });
    const expiriesOf = (s: typeof selection) =>
      s.underlyings.find((u) => u.name === 'NIFTY')!.chains.map((c) => c.expiry);
    expect(expiriesOf(onExpiryDay)).toEqual(['2026-12-01', '2026-12-08']);
    expect(expiriesOf(nextDay)).toEqual(['2026-12-08', '2026-12-15']);

    const pinned = (s: typeof selection) =>
      new Set(tierBReferences(s).map((r) => `${r.segment}:${r.securityId}`));
    const before = pinned(onExpiryDay);
    const after = pinned(nextDay);
    const rolledOut = [...before].filter((k) => !after.has(k));
    const rolledIn = [...after].filter((k) => !before.has(k));
    expect(rolledOut).toHaveLength(42);
    expect(rolledIn).toHaveLength(42);
    const expiryOfKey = new Map(MASTER.map((i) => [`${i.segment}:${i.securityId}`, i.expiry]));
    expect(new Set(rolledOut.map((k) => expiryOfKey.get(k)))).toEqual(new Set(['2026-12-01']));
    expect(new Set(rolledIn.map((k) => expiryOfKey.get(k)))).toEqual(new Set(['2026-12-15']));
  });

  it('pins one monthly expiry for BANKNIFTY around the nearest listed strike', () => {
    const bank = selection.underlyings.find((u) => u.name === 'BANKNIFTY')!;
    expect(bank.chains).toHaveLength(1);
    expect(bank.chains[0].atmStrike).toBe(52_000);
    expect(bank.chains[0].strikes).toEqual(range(51_000, 53_000, 100));
    expect(selection.counts.BANKNIFTY).toBe(43);
  });

  it('takes the near-month live FUTCOM as the MCX underlying, not an expired or far one', () => {
    const crude = selection.underlyings.find((u) => u.name === 'CRUDEOIL')!;
    expect(crude.underlying.securityId).toBe('900001');
    expect(crude.chains[0].atmStrike).toBe(5_500);
    expect(crude.chains[0].contracts.every((c) => c.segment === ExchangeSegment.MCX_COMM)).toBe(
      true,
    );
    expect(selection.counts.CRUDEOIL).toBe(43);
  });

  it('pins the future the nearest MCX options are written on when it is not the near future', () => {
    const master = [...MASTER, ...aChain('CRUDEOIL', '2027-01-18', 5_000, 6_000, 50, MCX)];
    const futures = (s: typeof selection) =>
      s.instruments
        .filter((i) => i.tag === 'CRUDEOIL' && i.instrument.instrumentType === 'FUTCOM')
        .map((i) => i.instrument.securityId);
    // December's options are on the near (December) future: nothing more is pinned.
    const before = selectTierB({ instruments: master, spots: SPOTS, today: TODAY });
    expect(before.underlyings.find((u) => u.name === 'CRUDEOIL')!.chains[0].expiry).toBe(
      '2026-12-16',
    );
    expect(futures(before)).toEqual(['900001']);
    expect(before.counts.CRUDEOIL).toBe(43);
    // After they expire the December future still trades, but January's options are on
    // January's future: both futures are pinned.
    const after = selectTierB({ instruments: master, spots: SPOTS, today: '2026-12-17' });
    const crude = after.underlyings.find((u) => u.name === 'CRUDEOIL')!;
    expect(crude.underlying.securityId).toBe('900001');
    expect(crude.chains.map((c) => c.expiry)).toEqual(['2027-01-18']);
    expect(futures(after)).toEqual(['900001', '900002']);
    expect(after.counts.CRUDEOIL).toBe(44);
  });

  it('reports underlyings missing from the master, and an index without options', () => {
    expect(selection.missing).toEqual([
      { name: 'FINNIFTY', reason: TierBMissingReason.UNDERLYING_NOT_FOUND },
      { name: 'MIDCPNIFTY', reason: TierBMissingReason.UNDERLYING_NOT_FOUND },
      { name: 'SENSEX', reason: TierBMissingReason.NO_OPTIONS },
      { name: 'BANKEX', reason: TierBMissingReason.UNDERLYING_NOT_FOUND },
      { name: 'NATURALGAS', reason: TierBMissingReason.UNDERLYING_NOT_FOUND },
    ]);
    expect(selection.counts.SENSEX).toBe(1);
    expect(selection.instruments).toHaveLength(85 + 43 + 43 + 1);
  });

  it('without a spot pins only the underlying and says so', () => {
    const s = selectTierB({ instruments: MASTER, spots: { NIFTY: 24_000 }, today: TODAY });
    expect(s.counts.BANKNIFTY).toBe(1);
    expect(s.missing).toContainEqual({ name: 'BANKNIFTY', reason: TierBMissingReason.NO_SPOT });
    expect(s.underlyings.find((u) => u.name === 'BANKNIFTY')!.chains).toEqual([]);
  });

  it('clips the strike window at the edge of the listed strikes', () => {
    const s = selectTierB({ instruments: MASTER, spots: { NIFTY: 23_020 }, today: TODAY });
    const chain = s.underlyings.find((u) => u.name === 'NIFTY')!.chains[0];
    expect(chain.atmStrike).toBe(23_000);
    expect(chain.strikes).toEqual(range(23_000, 23_500, 50));
    expect(chain.contracts).toHaveLength(22);
  });

  it('breaks an exact tie between two strikes towards the lower one', () => {
    expect(atmIndex([100, 150, 200], 125)).toBe(0);
    expect(atmIndex([100, 150, 200], 126)).toBe(1);
    expect(atmIndex([100, 150, 200], 10)).toBe(0);
    expect(atmIndex([100, 150, 200], 1_000)).toBe(2);
    expect(atmIndex([], 1)).toBe(-1);
  });

  it('deduplicates repeated master rows and an underlying configured twice', () => {
    const master = [...MASTER, ...MASTER.filter((i) => i.underlying === 'NIFTY').slice(0, 400)];
    const s = selectTierB({
      instruments: master,
      spots: SPOTS,
      today: TODAY,
      config: {
        underlyings: [
          { name: 'NIFTY', source: TierBSource.INDEX, expiries: 2 },
          { name: 'NIFTY', source: TierBSource.INDEX, expiries: 3 },
        ],
      },
    });
    const keys = s.instruments.map((i) => `${i.instrument.segment}:${i.instrument.securityId}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(s.counts.NIFTY).toBe(1 + 3 * 42);
  });

  it('honours a per-underlying strike count', () => {
    const s = selectTierB({
      instruments: MASTER,
      spots: SPOTS,
      today: TODAY,
      config: {
        underlyings: [
          { name: 'NIFTY', source: TierBSource.INDEX, expiries: 1, strikesEachSide: 2 },
        ],
      },
    });
    expect(s.underlyings[0].chains[0].strikes).toEqual([23_900, 23_950, 24_000, 24_050, 24_100]);
    expect(s.counts.NIFTY).toBe(11);
  });

  it('is pure: same input, same output, input untouched', () => {
    const copy = structuredClone(MASTER);
    const again = selectTierB({ instruments: MASTER, spots: SPOTS, today: TODAY });
    expect(again).toEqual(selection);
    expect(MASTER).toEqual(copy);
  });

  it('turns a selection into TIER_B references that fit the registry, counted by underlying', () => {
    const refs = tierBReferences(selection);
    expect(refs[0]).toEqual({
      segment: ExchangeSegment.IDX_I,
      securityId: '13',
      kind: ReferenceKind.TIER_B,
      holderId: 'NIFTY',
      mode: FeedMode.FULL,
      tag: 'NIFTY',
    });
    const port: FeedPort = { subscribe: () => undefined, unsubscribe: () => undefined };
    const registry = new SubscriptionRegistry(port);
    registry.acquire(refs);
    expect(registry.stats().byTag).toEqual(selection.counts);
    expect(registry.stats().byKind.TIER_B.instruments).toBe(selection.instruments.length);
  });

  describe('re-centring', () => {
    const strikes = strikesOf('NIFTY', '2026-12-01');

    it('re-centres only when the ATM moved more than the configured number of strikes', () => {
      expect(needsRecentre(strikes, 24_000, 24_090, 2)).toBe(false);
      expect(needsRecentre(strikes, 24_000, 24_140, 2)).toBe(true);
      expect(needsRecentre(strikes, 24_000, 23_860, 2)).toBe(true);
      expect(needsRecentre(strikes, 24_000, 24_140, 3)).toBe(false);
    });

    it('names the underlyings whose pinned chains drifted', () => {
      const spots = { ...SPOTS, NIFTY: 24_300, BANKNIFTY: 52_040 };
      expect(
        underlyingsToRecentre(
          selection,
          spots,
          strikesOf,
          DEFAULT_TIER_B_CONFIG.recentreAfterStrikes,
        ),
      ).toEqual(['NIFTY']);
    });

    it('a chain held back for want of a spot is built once a spot arrives', () => {
      const s = selectTierB({ instruments: MASTER, spots: {}, today: TODAY });
      expect(underlyingsToRecentre(s, { BANKNIFTY: 52_000 }, strikesOf)).toEqual(['BANKNIFTY']);
    });
  });

  describe('spotOf', () => {
    it('uses the LTP once traded and the previous close before the open', () => {
      expect(spotOf({ ltp: 24_010, prevClose: 23_950 })).toBe(24_010);
      expect(spotOf({ ltp: NaN, prevClose: 23_950 })).toBe(23_950);
      expect(spotOf({ ltp: NaN, prevClose: NaN })).toBeUndefined();
      expect(spotOf(undefined)).toBeUndefined();
    });
  });
});
