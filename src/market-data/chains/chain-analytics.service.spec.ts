import {
  ExchangeSegment,
  FeedResponseCode,
  SEGMENT_CODE,
  instrumentKey,
  type Instrument,
} from '@app/dhan/types';
import type { MarketCalendar } from '../../calendar/market-calendar';
import type { Clock } from '../../common/clock';
import { InstrumentIndex } from '../../instruments/instrument-index';
import type { InstrumentsService } from '../../instruments/instruments.service';
import * as black from '../analytics/black';
import { ForwardSource } from '../analytics/chain';
import { SubscriptionRegistry, type FeedPort } from '../feed/subscription-registry';
import { DEFAULT_MARKET_DATA_OPTIONS } from '../market-data.options';
import { TickStore } from '../ticks/tick-store';
import {
  ChainAnalyticsService,
  FULL_REFRESH_MS,
  type ChainUpdateView,
} from './chain-analytics.service';
import type { TierBService } from './tier-b.service';

// Every contract solve goes through analyseOption: wrapped, the spec counts what a refresh
// re-solves (what clients are sent only shows what changed, not what was recomputed).
jest.mock('../analytics/black', () => {
  const actual = jest.requireActual<typeof import('../analytics/black')>('../analytics/black');
  return { ...actual, analyseOption: jest.fn(actual.analyseOption) };
});
const solves = black.analyseOption as jest.MockedFunction<typeof black.analyseOption>;

const RATE = DEFAULT_MARKET_DATA_OPTIONS.optionAnalytics.riskFreeRate;
const NOW = Date.parse('2026-12-07T05:00:00Z');
const EXPIRY = '2026-12-17';
const EXPIRY_MS = Date.parse(`${EXPIRY}T10:00:00Z`);
const YEARS = (EXPIRY_MS - NOW) / black.YEAR_MS;
const SPOT = 24_000;
const STRIKES = [23_800, 23_900, 24_000, 24_100, 24_200];

const index: Instrument = {
  segment: ExchangeSegment.IDX_I,
  securityId: '13',
  exchange: 'NSE',
  instrumentType: 'INDEX',
  symbol: 'NIFTY',
  displayName: 'Nifty 50',
  lotSize: 1,
  tickSize: 0.05,
};

const option = (id: number, strike: number, optionType: 'CE' | 'PE'): Instrument => ({
  segment: ExchangeSegment.NSE_FNO,
  securityId: String(id),
  exchange: 'NSE',
  instrumentType: 'OPTIDX',
  symbol: `NIFTY-Dec2026-${strike}-${optionType}`,
  displayName: `NIFTY 17 DEC ${strike} ${optionType === 'CE' ? 'CALL' : 'PUT'}`,
  underlying: 'NIFTY',
  expiry: EXPIRY,
  strike,
  optionType,
  lotSize: 75,
  tickSize: 0.05,
});

const contracts = STRIKES.flatMap((strike, i) => [
  option(1000 + 2 * i, strike, 'CE'),
  option(1001 + 2 * i, strike, 'PE'),
]);

class InertPort implements FeedPort {
  subscribe(): void {}
  unsubscribe(): void {}
}

/** A price on the paise grid at 15 % volatility around a forward carried at the rate. */
function fair(i: Instrument, spot: number): number {
  const forward = spot * Math.exp(RATE * YEARS);
  const p = black.black76Price(i.optionType === 'CE', forward, i.strike!, YEARS, RATE, 0.15);
  return Math.round(p / 0.05) * 0.05;
}

/** The service on a real tick store and registry, over a real instrument index of `list`. */
function setup(list: readonly Instrument[] = [index, ...contracts], at = NOW) {
  const master = new InstrumentIndex(list);
  const today = new Date(at).toISOString().slice(0, 10);
  // What the service asks of InstrumentsService, answered by the index as InstrumentsService does.
  const instruments = {
    expiries: (u: string) => master.expiries(u, today),
    chain: (u: string, e: string) => master.chain(u, e),
    underlyingOf: (u: string) => master.underlyingOf(u, today),
    chainBase: (u: string, e: string) => master.chainBase(u, e, today),
  } as unknown as InstrumentsService;
  const store = new TickStore({ now: () => at });
  const registry = new SubscriptionRegistry(new InertPort(), {
    connections: 1,
    perConnection: 100,
    total: 100,
  });
  const calendar = {
    closeTime: (_segment: ExchangeSegment, date: string) => new Date(`${date}T10:00:00Z`),
  } as unknown as MarketCalendar;
  const clock = { now: () => new Date(at) } as Clock;
  const service = new ChainAnalyticsService(
    instruments,
    store,
    registry,
    calendar,
    clock,
    {} as TierBService, // Tier B is not exercised here
    DEFAULT_MARKET_DATA_OPTIONS,
  );
  let ltt = Math.floor(at / 1000) - 100;
  const tick = (i: Instrument, ltp: number) =>
    store.apply({
      type: FeedResponseCode.TICKER,
      segment: i.segment,
      securityId: Number(i.securityId),
      ltp,
      ltt: ++ltt,
    });
  return { service, registry, tick };
}

const strikesOf = (view: ChainUpdateView) => view.strikes.map((s) => s.strike);

describe('ChainAnalyticsService refresh', () => {
  beforeEach(() => solves.mockClear());

  it('re-solves only the strikes whose inputs changed, every strike when the underlying moves, none when nothing did', async () => {
    const { service, tick } = setup();
    tick(index, SPOT);
    for (const c of contracts) tick(c, fair(c, SPOT));
    const updates = service.subscribe('NIFTY', EXPIRY, 2);
    const snapshot = (await updates.next()).value as ChainUpdateView;
    // The first (full) refresh solved every contract of the chain.
    expect(snapshot.snapshot).toBe(true);
    expect(strikesOf(snapshot)).toEqual(STRIKES);
    expect(solves).toHaveBeenCalledTimes(contracts.length);
    for (const s of snapshot.strikes) {
      expect(s.call!.analytics.status).toBe(black.IvStatus.OK);
      expect(s.put!.analytics.status).toBe(black.IvStatus.OK);
    }
    const updatesBefore = service.stats.strikeUpdates;

    // (c) Nothing changed: nothing is solved, and nothing is queued for the subscriber (the
    // next message would carry it: a subscriber's pending strikes accumulate until read).
    solves.mockClear();
    service.refreshAll(NOW + 1_000);
    expect(solves).not.toHaveBeenCalled();
    expect(service.stats.strikeUpdates).toBe(updatesBefore);

    // (a) One contract away from the money (parity's forward is read at the ATM strike) is
    // quoted again with the index unchanged: its strike alone is re-solved and sent.
    const moved = contracts.find((c) => c.strike === 24_200 && c.optionType === 'CE')!;
    const ivBefore = snapshot.strikes.find((s) => s.strike === 24_200)!.call!.analytics.iv;
    tick(moved, fair(moved, SPOT) + 2);
    service.refreshAll(NOW + 2_000);
    expect(solves.mock.calls.map(([, input]) => input.strike)).toEqual([24_200, 24_200]);
    expect(service.stats.strikeUpdates - updatesBefore).toBe(1);
    const one = (await updates.next()).value as ChainUpdateView;
    expect(one.snapshot).toBe(false);
    expect(strikesOf(one)).toEqual([24_200]);
    expect(one.strikes[0].call!.analytics.iv).toBeGreaterThan(ivBefore);

    // (b) The index moves (the ATM strike, and so parity's forward, stay): greeks are taken
    // against the index, so every strike is re-solved and sent.
    solves.mockClear();
    tick(index, SPOT + 20);
    service.refreshAll(NOW + 3_000);
    expect(solves).toHaveBeenCalledTimes(contracts.length);
    const all = (await updates.next()).value as ChainUpdateView;
    expect(all.spot).toBe(SPOT + 20);
    expect(strikesOf(all)).toEqual(STRIKES);

    // Time to expiry is held between full refreshes (else each flush would move the parity
    // forward by a hair and re-solve everything); the full refresh re-solves the whole chain.
    solves.mockClear();
    service.refreshAll(NOW + FULL_REFRESH_MS - 1);
    expect(solves).not.toHaveBeenCalled();
    service.refreshAll(NOW + FULL_REFRESH_MS);
    expect(solves).toHaveBeenCalledTimes(contracts.length);
    expect(solves.mock.calls[0][1].years).toBeLessThan(YEARS);
    await updates.return!();
  });
});

describe('ChainAnalyticsService at the expiry instant', () => {
  it('reports the chain expired at the expiry instant, not at the next full refresh', async () => {
    const { service, tick } = setup(undefined, EXPIRY_MS - 10_000);
    tick(index, SPOT);
    for (const c of contracts) tick(c, 10);
    const updates = service.subscribe('NIFTY', EXPIRY, 2);
    const snapshot = (await updates.next()).value as ChainUpdateView;
    expect(snapshot.strikes[2].call!.analytics.status).not.toBe(black.IvStatus.EXPIRED);
    service.refreshAll(EXPIRY_MS - 1);
    const before = service.stats.strikeUpdates;
    service.refreshAll(EXPIRY_MS);
    // Checked before reading: a message that never comes would leave the read waiting.
    expect(service.stats.strikeUpdates - before).toBe(STRIKES.length);
    const expired = (await updates.next()).value as ChainUpdateView;
    expect(strikesOf(expired)).toEqual(STRIKES);
    expect(expired.yearsToExpiry).toBe(0);
    for (const s of expired.strikes) {
      expect(s.call!.analytics.status).toBe(black.IvStatus.EXPIRED);
      expect(s.put!.analytics.status).toBe(black.IvStatus.EXPIRED);
    }
    await updates.return!();
  });
});

describe('ChainAnalyticsService on MCX options', () => {
  const future = (id: string, expiry: string): Instrument => ({
    segment: ExchangeSegment.MCX_COMM,
    securityId: id,
    exchange: 'MCX',
    instrumentType: 'FUTCOM',
    symbol: `CRUDEOIL-${expiry}-FUT`,
    displayName: `CRUDEOIL ${expiry} FUT`,
    underlying: 'CRUDEOIL',
    expiry,
    lotSize: 100,
    tickSize: 1,
  });
  const mcxOption = (id: number, expiry: string, strike: number, optionType: 'CE' | 'PE') => ({
    ...option(id, strike, optionType),
    segment: ExchangeSegment.MCX_COMM,
    exchange: 'MCX' as const,
    instrumentType: 'OPTFUT',
    symbol: `CRUDEOIL-${expiry}-${strike}-${optionType}`,
    underlying: 'CRUDEOIL',
    expiry,
  });
  // Options expire a few days before their future: the December options are on the December
  // future, the January ones on the January future, whichever is the nearest.
  const DEC = future('420000', '2026-12-18');
  const JAN = future('420001', '2027-01-19');
  const list = [
    DEC,
    JAN,
    ...[6_000, 6_100].flatMap((k, i) => [
      mcxOption(5000 + 2 * i, '2026-12-16', k, 'CE'),
      mcxOption(5001 + 2 * i, '2026-12-16', k, 'PE'),
      mcxOption(6000 + 2 * i, '2027-01-18', k, 'CE'),
      mcxOption(6001 + 2 * i, '2027-01-18', k, 'PE'),
    ]),
  ];

  it('prices each expiry off the future it is written on, not the nearest one', () => {
    const { service, tick } = setup(list);
    tick(DEC, 6_000);
    tick(JAN, 6_080);
    const dec = service.chain('CRUDEOIL', '2026-12-16');
    expect(dec.spot).toBe(6_000);
    expect(dec.forward).toBe(6_000);
    const jan = service.chain('CRUDEOIL', '2027-01-18');
    expect(jan.spot).toBe(6_080);
    expect(jan.forward).toBe(6_080);
    expect(jan.forwardSource).toBe(ForwardSource.FUTURE);
  });

  it('keeps the future of a subscribed expiry on the feed with its window', async () => {
    const { service, registry } = setup(list);
    const key = (i: Instrument) => instrumentKey(SEGMENT_CODE[i.segment], Number(i.securityId));
    const updates = service.subscribe('CRUDEOIL', '2027-01-18', 1);
    expect(registry.has(key(JAN))).toBe(true);
    expect(registry.has(key(DEC))).toBe(false);
    await updates.return!();
    expect(registry.has(key(JAN))).toBe(false);
  });

  it('falls back to the nearest future when no future expires on or after the options', () => {
    const { service, tick } = setup(list.filter((i) => i !== JAN));
    tick(DEC, 6_000);
    expect(service.chain('CRUDEOIL', '2027-01-18').spot).toBe(6_000);
  });
});
