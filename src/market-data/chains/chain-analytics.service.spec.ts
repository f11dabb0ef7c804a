import { ExchangeSegment, FeedResponseCode, type Instrument } from '@app/dhan/types';
import type { MarketCalendar } from '../../calendar/market-calendar';
import type { Clock } from '../../common/clock';
import type { InstrumentsService } from '../../instruments/instruments.service';
import * as black from '../analytics/black';
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

/** What the service asks of the instrument master, for one index and one expiry. */
const instruments = {
  expiries: (u: string) => (u === 'NIFTY' ? [EXPIRY] : []),
  chain: (u: string, e: string) => (u === 'NIFTY' && e === EXPIRY ? contracts : []),
  underlyingOf: (u: string) => (u === 'NIFTY' ? index : undefined),
} as unknown as InstrumentsService;

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

function setup() {
  const store = new TickStore({ now: () => NOW });
  const registry = new SubscriptionRegistry(new InertPort(), {
    connections: 1,
    perConnection: 100,
    total: 100,
  });
  const calendar = { closeTime: () => new Date(EXPIRY_MS) } as unknown as MarketCalendar;
  const clock = { now: () => new Date(NOW) } as Clock;
  const service = new ChainAnalyticsService(
    instruments,
    store,
    registry,
    calendar,
    clock,
    {} as TierBService, // Tier B is not exercised here
    DEFAULT_MARKET_DATA_OPTIONS,
  );
  let ltt = Math.floor(NOW / 1000) - 100;
  const tick = (i: Instrument, ltp: number) =>
    store.apply({
      type: FeedResponseCode.TICKER,
      segment: i.segment,
      securityId: Number(i.securityId),
      ltp,
      ltt: ++ltt,
    });
  return { service, tick };
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
