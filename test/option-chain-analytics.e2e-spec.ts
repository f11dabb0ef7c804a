import { ExchangeSegment, FeedMode } from '@app/dhan';
import type { DhanSimulator } from '@app/dhan-simulator';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { ReferenceKind } from '../src/market-data/feed/subscription-registry';
import { MarketDataService } from '../src/market-data/market-data.service';
import { ChainAnalyticsService } from '../src/market-data/chains/chain-analytics.service';
import { until } from './dhan/helpers';
import { errorCodes, gql, login } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';
import { TicksClient, tierBCentred } from './market-data.helpers';

const ANALYTICS = 'status iv delta gamma theta vega rho';
const CONTRACT = `instrument { securityId } quote { ltp } analytics { ${ANALYTICS} } priceSource oiChange`;
const CHAIN_FIELDS = `underlying expiry expiresAt yearsToExpiry spot forward forwardSource atmStrike atmIv
  pcrOi pcrVolume maxPain ivSkew totalCallOi totalPutOi
  strikes { strike call { ${CONTRACT} } put { ${CONTRACT} } }`;
const UPDATES = `subscription U($underlying: String!, $expiry: Date, $strikes: Int) {
  optionChainUpdates(underlying: $underlying, expiry: $expiry, strikes: $strikes) { snapshot ${CHAIN_FIELDS} }
}`;

interface Analytics {
  status: string;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  rho: number | null;
}
interface Contract {
  instrument: { securityId: string };
  quote: { ltp: number | null } | null;
  analytics: Analytics;
  priceSource: string | null;
  oiChange: number | null;
}
interface Strike {
  strike: number;
  call: Contract | null;
  put: Contract | null;
}
interface ChainUpdate {
  snapshot: boolean;
  underlying: string;
  expiry: string;
  spot: number | null;
  forward: number | null;
  forwardSource: string | null;
  atmStrike: number | null;
  atmIv: number | null;
  pcrOi: number | null;
  maxPain: number | null;
  yearsToExpiry: number;
  strikes: Strike[];
}

const solved = (c: Contract | null | undefined) => c?.analytics.status === 'OK';

describe('option chain analytics (e2e, embedded simulator, graphql-ws over real sockets)', () => {
  let t: TestApp;
  let token: string;
  let sim: DhanSimulator;
  const clients: TicksClient[] = [];

  const open = (variables: Record<string, unknown>) => {
    const c = new TicksClient(t.graphqlUrl, token, UPDATES, variables, 'optionChainUpdates');
    clients.push(c);
    return c;
  };
  const updates = (c: TicksClient) => c.batches as unknown as ChainUpdate[];
  const update = async (c: TicksClient, where: (u: ChainUpdate) => boolean, from = 0) =>
    (await c.batchWhere((b) => where(b as unknown as ChainUpdate), from)) as unknown as ChainUpdate;

  beforeAll(async () => {
    t = await createTestApp(
      {},
      {
        configure: (config) => ({
          ...config,
          // Room for Tier B (about 430 instruments) and the small windows below; the capacity
          // test fills the rest first.
          marketData: { registry: { total: 1_000 }, tierB: { spotWaitMs: 20_000 } },
        }),
      },
    );
    await t.app.get(InstrumentsService).ready();
    // Windows are centred on the spot: wait until Tier B saw the prices.
    await tierBCentred(t.app);
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    token = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
  });

  afterEach(() => {
    // A test that froze the simulator's walks (below) leaves them moving again.
    sim?.market.setVolatilityScale(1);
  });

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await t?.close();
  });

  it('optionChainUpdates for NIFTY: the chain with IV and greeks, then changed strikes as the simulator moves', async () => {
    const c = open({ underlying: 'NIFTY', strikes: 5 });
    const first = (await c.batch(0)) as unknown as ChainUpdate;
    expect(first.snapshot).toBe(true);
    expect(first.underlying).toBe('NIFTY');
    expect(first.expiry).toBe(t.app.get(InstrumentsService).expiries('NIFTY')[0]);
    expect(first.strikes).toHaveLength(11);
    const window = first.strikes.map((s) => s.strike);
    expect(window).toEqual([...window].sort((a, b) => a - b));
    expect(first.yearsToExpiry).toBeGreaterThan(0);

    // Wait for a message in which the ATM call and put are solved (their prices came).
    const isSolved = (u: ChainUpdate) =>
      u.atmStrike !== null &&
      u.strikes.some((s) => s.strike === u.atmStrike && solved(s.call) && solved(s.put));
    const live = await update(c, isSolved);
    expect(live.forwardSource).toBe('PARITY');
    expect(Math.abs(live.forward! - live.spot!) / live.spot!).toBeLessThan(0.02);
    const atm = live.strikes.find((s) => s.strike === live.atmStrike)!;
    const call = atm.call!.analytics;
    const put = atm.put!.analytics;
    // The simulator's model volatility at this strike (its Black-76 smile), in percent.
    const simOption = sim.universe.get('NSE_FNO', atm.call!.instrument.securityId)!;
    const modelVol = sim.market.greeks(simOption)!.vol * 100;
    for (const a of [call, put]) {
      expect(a.iv).toBeGreaterThan(1);
      // Prices are on the 0.05 grid and the walk moves between trades: within 1.5 vol points.
      expect(Math.abs(a.iv! - modelVol)).toBeLessThan(1.5);
      expect(a.gamma).toBeGreaterThan(0);
      expect(a.vega).toBeGreaterThan(0);
      expect(a.theta).toBeLessThan(0);
    }
    expect(call.delta).toBeGreaterThan(0.2);
    expect(call.delta).toBeLessThan(0.8);
    expect(put.delta).toBeLessThan(-0.2);
    expect(put.delta).toBeGreaterThan(-0.8);
    // Put-call parity: call delta - put delta ~ e^{-qT} ~ 1.
    expect(Math.abs(call.delta! - put.delta! - 1)).toBeLessThan(0.02);
    expect(live.atmIv).toBeGreaterThan(1);

    // Then only changed strikes, all inside the window, as the simulator keeps trading.
    const index = updates(c).indexOf(live);
    const later = await update(c, (u) => !u.snapshot && u.strikes.length > 0, index + 1);
    expect(later.strikes.length).toBeLessThanOrEqual(11);
    for (const s of later.strikes) expect(window).toContain(s.strike);
    // Never a NaN or an infinity: JSON would have turned it into null; solved means numbers.
    for (const s of later.strikes) {
      for (const side of [s.call, s.put]) {
        if (side && solved(side)) {
          for (const v of Object.values(side.analytics).slice(1))
            expect(Number.isFinite(v)).toBe(true);
        }
      }
    }
    const marketData = t.app.get(MarketDataService);
    const changed = later.strikes.find((s) => s.call?.quote?.ltp != null)!;
    expect(changed).toBeDefined();
    const rec = marketData.record(ExchangeSegment.NSE_FNO, changed.call!.instrument.securityId);
    expect(rec?.hasData).toBe(true);
  });

  it('optionChain takes a window and returns the analytics and chain figures', async () => {
    const response = await gql<{ optionChain: ChainUpdate }>(
      t.graphqlUrl,
      `query { optionChain(underlying: "NIFTY", strikes: 3) { ${CHAIN_FIELDS} } }`,
      {},
      token,
    );
    expect(response.errors).toBeUndefined();
    const chain = response.data!.optionChain;
    expect(chain.strikes).toHaveLength(7);
    expect(chain.strikes.map((s) => s.strike)).toContain(chain.atmStrike);
    expect(chain.pcrOi).toBeGreaterThan(0);
    expect(chain.maxPain).toBeGreaterThan(0);
    expect(chain.strikes.some((s) => solved(s.call) && solved(s.put))).toBe(true);

    const tooWide = await gql(
      t.graphqlUrl,
      '{ optionChain(underlying: "NIFTY", strikes: 51) { expiry } }',
      {},
      token,
    );
    expect(errorCodes(tooWide)).toEqual(['BAD_USER_INPUT']);
    const unknown = await gql(
      t.graphqlUrl,
      '{ optionChain(underlying: "NOPE") { expiry } }',
      {},
      token,
    );
    expect(errorCodes(unknown)).toEqual(['NOT_FOUND']);
  });

  it('an expiry off the feed: subscribing puts its window on the feed and it gets quotes and IV; ending releases it', async () => {
    const marketData = t.app.get(MarketDataService);
    const expiries = t.app.get(InstrumentsService).expiries('NIFTY');
    const expiry = expiries[3]; // Tier B pins NIFTY's nearest two
    const holders = () =>
      marketData
        .subscriptions({ kind: ReferenceKind.CLIENT }, 5_000)
        .items.filter((i) => i.instrument?.expiry === expiry).length;
    expect(holders()).toBe(0);
    const c = open({ underlying: 'NIFTY', expiry, strikes: 2 });
    const first = (await c.batch(0)) as unknown as ChainUpdate;
    expect(first.expiry).toBe(expiry);
    expect(first.strikes).toHaveLength(5);
    expect(holders()).toBe(10);
    const live = await update(c, (u) =>
      u.strikes.some(
        (s) => s.strike === u.atmStrike && solved(s.call) && s.call!.quote?.ltp != null,
      ),
    );
    expect(live.expiry).toBe(expiry);
    await c.dispose();
    await c.closed();
    // Released when the subscription ends (the socket closed).
    await until(() => holders() === 0, 'the window is released');
    expect(holders()).toBe(0);
  });

  it('a later MCX expiry is analysed against the future it is written on, held on the feed with its window', async () => {
    const instruments = t.app.get(InstrumentsService);
    const marketData = t.app.get(MarketDataService);
    const expiry = instruments.expiries('CRUDEOIL')[1]; // Tier B pins the nearest one
    const future = instruments.futureFor('CRUDEOIL', expiry)!;
    expect(future.expiry! >= expiry).toBe(true);
    expect(future.securityId).not.toBe(instruments.underlyingOf('CRUDEOIL')!.securityId);
    // Walks frozen: every price marked from now on is at one level, so an option's price and its
    // future's are consistent whichever ticks came last (moving, a pair a few ticks apart
    // solves a few tenths of a point off the model under load).
    sim.market.setVolatilityScale(0);
    const c = open({ underlying: 'CRUDEOIL', expiry, strikes: 2 });
    const first = (await c.batch(0)) as unknown as ChainUpdate;
    expect(first.expiry).toBe(expiry);
    // The window's contracts and the future, as CLIENT references of the subscription.
    const held = () =>
      marketData
        .subscriptions({ kind: ReferenceKind.CLIENT }, 5_000)
        .items.filter(
          (i) =>
            i.instrument?.expiry === expiry ||
            (i.segment === future.segment && i.securityId === future.securityId),
        ).length;
    expect(held()).toBe(2 * 5 + 1);
    const simFuture = sim.universe.get('MCX_COMM', future.securityId)!;
    /** Within a tick of the frozen model's price now (a quote marked before the freeze is not). */
    const atModel = (securityId: string, price: number | null | undefined) => {
      const inst = sim.universe.get('MCX_COMM', securityId)!;
      return price != null && Math.abs(price - sim.market.mark(inst).ltp) <= inst.tickSize + 1e-9;
    };
    const live = await update(c, (u) =>
      u.strikes.some(
        (s) =>
          s.strike === u.atmStrike &&
          solved(s.call) &&
          solved(s.put) &&
          atModel(s.call!.instrument.securityId, s.call!.quote?.ltp) &&
          atModel(s.put!.instrument.securityId, s.put!.quote?.ltp) &&
          atModel(simFuture.securityId, u.forward),
      ),
    );
    expect(live.forwardSource).toBe('FUTURE');
    expect(live.forward).toBe(live.spot);
    // The simulator prices these options on their own future: the IV solved against it is the
    // model's volatility (within a few hundredths of a point here; against the near future,
    // about 2 points off).
    const atm = live.strikes.find((s) => s.strike === live.atmStrike)!;
    const simOption = sim.universe.get('MCX_COMM', atm.call!.instrument.securityId)!;
    const modelVol = sim.market.greeks(simOption)!.vol * 100;
    for (const a of [atm.call!.analytics, atm.put!.analytics]) {
      expect(Math.abs(a.iv! - modelVol)).toBeLessThan(0.5);
    }
    await c.dispose();
    await c.closed();
    await until(() => held() === 0, 'the window and its future are released');
  });

  it('a window the feed has no room for: CAPACITY_EXCEEDED, nothing held', async () => {
    const marketData = t.app.get(MarketDataService);
    // Fill the feed with CLIENT references (same priority: nothing to evict) on instruments not
    // on it and not NIFTY's, until fewer than a 50-strike window (203 instruments) fit.
    const FILLER = 'option-chain-e2e-filler';
    const status = marketData.feedStatus();
    const onFeed = new Set(
      marketData.subscriptions({}, 5_000).items.map((i) => `${i.segment}:${i.securityId}`),
    );
    const fillers = t.app
      .get(InstrumentsService)
      .all()
      .filter(
        (i) =>
          i.segment !== ExchangeSegment.IDX_I &&
          i.underlying !== 'NIFTY' &&
          !onFeed.has(`${i.segment}:${i.securityId}`),
      )
      .slice(0, status.capacity - status.instruments - 20);
    marketData.acquire(
      fillers.map((i) => ({
        segment: i.segment,
        securityId: i.securityId,
        kind: ReferenceKind.CLIENT,
        holderId: FILLER,
        mode: FeedMode.TICKER,
      })),
    );
    try {
      const before = marketData.feedStatus();
      expect(before.capacity - before.instruments).toBeLessThan(203);
      const expiry = t.app.get(InstrumentsService).expiries('NIFTY')[4];
      const c = open({ underlying: 'NIFTY', expiry, strikes: 50 });
      const error = (await c.failed()) as Array<{ extensions?: { code?: string } }>;
      expect(error[0].extensions?.code).toBe('CAPACITY_EXCEEDED');
      expect(marketData.feedStatus().instruments).toBe(before.instruments);
    } finally {
      marketData.releaseHolder(ReferenceKind.CLIENT, FILLER);
    }
    const bad = open({ underlying: 'NIFTY', strikes: -1 });
    const refused = (await bad.failed()) as Array<{ extensions?: { code?: string } }>;
    expect(refused[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('updates are rendered once per flush for subscribers of the same window and selection (pre-serialised)', async () => {
    const chains = t.app.get(ChainAnalyticsService);
    // Only this test's subscribers: the earlier tests' windows would render on their own.
    for (const c of clients.splice(0)) await c.dispose();
    const a = open({ underlying: 'BANKNIFTY', strikes: 4 });
    const b = open({ underlying: 'BANKNIFTY', strikes: 4 });
    await Promise.all([a.batch(0), b.batch(0)]);
    const before = { rendered: chains.renderings, frames: chains.stats.frames };
    const fromA = a.batches.length;
    const fromB = b.batches.length;
    // Both in steady state: several updates each.
    await Promise.all([a.batch(fromA + 3), b.batch(fromB + 3)]);
    const rendered = chains.renderings - before.rendered;
    const frames = chains.stats.frames - before.frames;
    // Every message came pre-serialised (graphql-js would write frames the service never sees)
    // and the two share one rendering per flush: about half as many renderings as frames.
    expect(frames).toBeGreaterThanOrEqual(6);
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThanOrEqual(Math.ceil(frames / 2) + 1);
    // And what they got is the graphql-js shape: updates with changed strikes only.
    const last = updates(a)[a.batches.length - 1];
    expect(last.snapshot).toBe(false);
    expect(last.underlying).toBe('BANKNIFTY');
    expect(last.strikes.length).toBeGreaterThan(0);
    expect(last.strikes.length).toBeLessThanOrEqual(9);
  });
});
