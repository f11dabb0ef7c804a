import { ExchangeSegment, type Instrument } from '@app/dhan';
import type { DhanSimulator } from '@app/dhan-simulator';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { FeedPool } from '../src/market-data/feed/feed-pool.service';
import { MarketDataService } from '../src/market-data/market-data.service';
import { ReferenceKind } from '../src/market-data/feed/subscription-registry';
import { until, type EventSource } from './dhan/helpers';
import { errorCodes, gql, login, subscribe } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';
import {
  ALL_TICK_FIELDS,
  FeedTap,
  TICKS,
  TicksClient,
  matchesFeed,
  simSubscribed,
  untilFeedRequest,
  type InstrumentRef,
  type TickView,
  tierBCentred,
} from './market-data.helpers';

const NIFTY: InstrumentRef = { segment: 'IDX_I', securityId: '13' };
const QUOTE = `query Q($segment: ExchangeSegment!, $securityId: String!) {
  quote(segment: $segment, securityId: $securityId) { ${ALL_TICK_FIELDS} }
}`;
const FEED_STATUS = `query {
  feedStatus {
    mode connected instruments capacity staleInstruments packetsReceived
    connections { index state instruments reconnects decodeErrors }
    byTier { name instruments references }
    byUnderlying { name instruments }
  }
}`;

const ref = (i: Instrument): InstrumentRef => ({ segment: i.segment, securityId: i.securityId });
const simKey = (r: InstrumentRef) => `${r.segment}:${r.securityId}`;

describe('market data (e2e, embedded simulator, graphql-ws over real sockets)', () => {
  let t: TestApp;
  let token: string;
  let sim: DhanSimulator;
  let tap: FeedTap;
  let marketData: MarketDataService;
  let far: InstrumentRef[];
  const clients: TicksClient[] = [];

  const open = (query: string, variables: Record<string, unknown>, field = 'ticks') => {
    const c = new TicksClient(t.graphqlUrl, token, query, variables, field);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await createTestApp(
      {},
      {
        configure: (config) => ({
          ...config,
          marketData: {
            fanout: { maxInstrumentsPerSubscription: 600, maxSubscriptionsPerClient: 3 },
            tierB: { spotWaitMs: 20_000 },
            // A subscription's first snapshot of an instrument off the feed comes from DhanHQ
            // REST. Waited for in full here: an answer later than the wait still reaches the
            // client, as an update no feed packet carried (when the feed has not priced the
            // instrument yet), and this suite compares updates with the feed's packets.
            restWaitMs: 30_000,
          },
        }),
      },
    );
    await t.app.get(InstrumentsService).ready();
    await tierBCentred(t.app);
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    tap = new FeedTap(t.app.get(FeedPool));
    marketData = t.app.get(MarketDataService);
    token = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    // Two NIFTY options of the nearest expiry far from the money: not in Tier B.
    const instruments = t.app.get(InstrumentsService);
    const expiry = instruments.expiries('NIFTY')[0];
    const chain = instruments.chain('NIFTY', expiry);
    far = [ref(chain[0]), ref(chain[chain.length - 1])];
  });

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await t?.close();
  });

  it('pins the Tier B set at boot (counts by underlying in feedStatus)', async () => {
    const response = await gql<{ feedStatus: Record<string, unknown> }>(
      t.adminUrl,
      FEED_STATUS,
      {},
      token,
    );
    expect(response.errors).toBeUndefined();
    const status = response.data!.feedStatus as {
      mode: string;
      byTier: Array<{ name: string; instruments: number }>;
      byUnderlying: Array<{ name: string; instruments: number }>;
      connections: unknown[];
      capacity: number;
    };
    expect(status.mode).toBe('simulator');
    expect(status.connections).toHaveLength(5);
    expect(status.capacity).toBe(25_000);
    const byUnderlying = Object.fromEntries(
      status.byUnderlying.map((u) => [u.name, u.instruments]),
    );
    // NIFTY: index + 2 expiries x 21 strikes x CE/PE; BANKNIFTY: index + 42.
    expect(byUnderlying.NIFTY).toBe(1 + 2 * 42);
    expect(byUnderlying.BANKNIFTY).toBe(1 + 42);
    const tierB = status.byTier.find((k) => k.name === ReferenceKind.TIER_B)!;
    expect(tierB.instruments).toBe(Object.values(byUnderlying).reduce((a, b) => a + b, 0));
    // The feed carries them.
    const onFeed = simSubscribed(sim);
    expect(onFeed.has(simKey(NIFTY))).toBe(true);
  });

  it('streams NIFTY and two options: a snapshot, then updates equal to what the simulator sent; on-demand feed subscription released when the client leaves', async () => {
    expect(far.some((f) => simSubscribed(sim).has(simKey(f)))).toBe(false);
    const wanted = [NIFTY, ...far];
    const client = open(TICKS, { instruments: wanted });

    const snapshot = (await client.batch(0)) as TickView[];
    expect(snapshot.map((x) => simKey(x))).toEqual(wanted.map(simKey));
    // Subscribed at the feed on demand.
    await untilFeedRequest(sim, () => far.every((f) => simSubscribed(sim).has(simKey(f))));

    // Updates: every instrument of a later batch carries values the simulator sent.
    const seen = new Set<string>();
    let from = 1;
    while (seen.size < wanted.length) {
      const batch = (await client.batch(from)) as TickView[];
      from++;
      for (const tick of batch) {
        if (tick.ltp === null) continue;
        expect(matchesFeed(tick, tap.statesOf(tick))).toBe(true);
        seen.add(simKey(tick));
      }
    }
    const option = client.batches
      .flat()
      .map((x) => x as TickView)
      .find((x) => x.segment === 'NSE_FNO' && x.depth !== null)!;
    expect(option.depth).toHaveLength(5);
    expect(option.oi).not.toBeNull();
    expect(option.volume).not.toBeNull();

    await client.dispose();
    await untilFeedRequest(sim, () => far.every((f) => !simSubscribed(sim).has(simKey(f))));
    expect(simSubscribed(sim).has(simKey(NIFTY))).toBe(true); // Tier B keeps it
    expect(marketData.feedStatus().byTier.find((k) => k.name === 'CLIENT')!.instruments).toBe(0);
  });

  it('serves the same JSON on the fast path as graphql-js does for the same selection', async () => {
    // A selection with an alias, a fragment, __typename and a partial depth.
    const query = `subscription S($instruments: [InstrumentInput!]!) {
      prices: ticks(instruments: $instruments) {
        __typename ...F price: ltp stale depth { askPrice bidQty __typename }
      }
    }
    fragment F on Tick { securityId segment volume lastTradeTime changePercent }`;
    const option = far[0];
    const client = open(query, { instruments: [option] }, 'prices');
    const first = (await client.batch(0)) as Array<Record<string, unknown>>;
    expect(Object.keys(first[0])).toEqual([
      '__typename',
      'securityId',
      'segment',
      'volume',
      'lastTradeTime',
      'changePercent',
      'price',
      'stale',
      'depth',
    ]);
    // Compare a later batch against graphql-js executing the same selection on the Quote type
    // (same fields and state) while the feed for it is held still.
    const later = (await client.batchWhere(
      (b) => b.length > 0 && (b[0] as TickView).depth !== null,
      1,
    )) as Array<Record<string, unknown>>;
    const connection = sim.feed
      .connectionInfo()
      .find((c) =>
        Object.values(sim.feed.subscriptions(c.id)).some((l) => l.includes(simKey(option))),
      )!;
    sim.feed.goSilent(connection.id, { answerPings: true });
    const quoteQuery = `query Q($segment: ExchangeSegment!, $securityId: String!) {
      prices: quote(segment: $segment, securityId: $securityId) {
        __typename ...F price: ltp stale depth { askPrice bidQty __typename }
      }
    }
    fragment F on Quote { securityId segment volume lastTradeTime changePercent }`;
    try {
      // Packets already in flight may still land: retry until none came between the reads.
      let compared = 0;
      for (let attempt = 0; attempt < 5 && compared === 0; attempt++) {
        const packetsBefore = tap.statesOf(option).length;
        const viaGraphql = await gql<{ prices: Record<string, unknown> }>(
          t.graphqlUrl,
          quoteQuery,
          option,
          token,
        );
        expect(viaGraphql.errors).toBeUndefined();
        // A fresh subscription's snapshot: the fast path on the state the query saw.
        const probe = open(query, { instruments: [option] }, 'prices');
        const snap = ((await probe.batch(0)) as Array<Record<string, unknown>>)[0];
        await probe.dispose();
        expect(Object.keys(snap)).toEqual(Object.keys(later[0]));
        expect((snap.depth as unknown[])[0]).toEqual({
          askPrice: expect.any(Number),
          bidQty: expect.any(Number),
          __typename: 'DepthLevel',
        });
        if (tap.statesOf(option).length !== packetsBefore) continue;
        const expected = { ...viaGraphql.data!.prices, __typename: 'Tick' };
        expect(JSON.stringify(snap)).toBe(JSON.stringify(expected));
        compared++;
      }
      expect(compared).toBe(1);
    } finally {
      sim.feed.resume(connection.id);
    }
    await client.dispose();
  });

  it('optionChain returns strikes ascending, the ATM strike and live quotes', async () => {
    const queryChain = () =>
      gql<{
        optionChain: {
          underlying: string;
          expiry: string;
          spot: number;
          atmStrike: number;
          strikes: Array<{
            strike: number;
            call: {
              instrument: { securityId: string };
              quote: {
                ltp: number | null;
                lastTradeTime: string | null;
                volume: number | null;
                oi: number | null;
              } | null;
            } | null;
            put: { instrument: { securityId: string } } | null;
          }>;
        };
      }>(
        t.graphqlUrl,
        `query { optionChain(underlying: "NIFTY") { underlying expiry spot atmStrike
        strikes { strike call { instrument { securityId } quote { ltp lastTradeTime volume oi } } put { instrument { securityId } } } } }`,
        {},
        token,
      );
    // The ATM call must have traded since the boot: wait for its first trade in the app's store
    // (F8 takes the first print as it comes), then ask again.
    const first = await queryChain();
    const firstChain = first.data!.optionChain;
    const atmCallId = firstChain.strikes.find((s) => s.strike === firstChain.atmStrike)!.call!
      .instrument.securityId;
    const marketData = t.app.get(MarketDataService);
    await until(
      () => (marketData.record(ExchangeSegment.NSE_FNO, atmCallId)?.ltp ?? 0) > 0,
      'the ATM call has a trade',
      t.app.get(FeedPool).connections.map((c): [EventSource, string] => [c, 'packet']),
    );
    const response = await queryChain();
    expect(response.errors).toBeUndefined();
    const chain = response.data!.optionChain;
    expect(chain.expiry).toBe(t.app.get(InstrumentsService).expiries('NIFTY')[0]);
    const strikes = chain.strikes.map((s) => s.strike);
    expect(strikes).toEqual([...strikes].sort((a, b) => a - b));
    const nearest = strikes.reduce((best, s) =>
      Math.abs(s - chain.spot) < Math.abs(best - chain.spot) ? s : best,
    );
    expect(Math.abs(chain.atmStrike - chain.spot)).toBe(Math.abs(nearest - chain.spot));
    const atm = chain.strikes.find((s) => s.strike === chain.atmStrike)!;
    const quote = atm.call!.quote!;
    expect(quote.ltp).not.toBeNull();
    const states = tap.statesOf({
      segment: 'NSE_FNO',
      securityId: atm.call!.instrument.securityId,
    });
    expect(
      states.some(
        (s) =>
          s.ltp === quote.ltp &&
          new Date(s.ltt * 1000).toISOString() === quote.lastTradeTime &&
          s.volume === quote.volume,
      ),
    ).toBe(true);

    const unknown = await gql(
      t.graphqlUrl,
      '{ optionChain(underlying: "NOPE") { expiry } }',
      {},
      token,
    );
    expect(errorCodes(unknown)).toEqual(['NOT_FOUND']);
    const badExpiry = await gql(
      t.graphqlUrl,
      '{ optionChain(underlying: "NIFTY", expiry: "2001-01-01") { expiry } }',
      {},
      token,
    );
    expect(errorCodes(badExpiry)).toEqual(['NOT_FOUND']);
  });

  it('feedHealth: pushed at once with the feed state (normal Mercurius path)', async () => {
    const probe = subscribe(
      t.graphqlUrl.replace(/^http/, 'ws'),
      'subscription { feedHealth { connected connections staleInstruments lastTickTime } }',
      { authorization: `Bearer ${token}` },
    );
    try {
      const first = (await probe.firstValue) as {
        data: {
          feedHealth: {
            connected: boolean;
            connections: number;
            staleInstruments: number;
            lastTickTime: string;
          };
        };
      };
      const health = first.data.feedHealth;
      expect(health.connected).toBe(true);
      expect(health.connections).toBe(5);
      expect(health.staleInstruments).toBeGreaterThanOrEqual(0);
      expect(Date.parse(health.lastTickTime)).toBeGreaterThan(Date.now() - 60_000);
    } finally {
      await probe.dispose();
    }
  });

  it('quote: live values, NOT_FOUND for an unknown instrument', async () => {
    const q = await gql<{ quote: TickView }>(t.graphqlUrl, QUOTE, NIFTY, token);
    expect(q.errors).toBeUndefined();
    expect(q.data!.quote.ltp).toBeGreaterThan(0);
    const unknown = await gql(
      t.graphqlUrl,
      QUOTE,
      { segment: 'NSE_EQ', securityId: '999999999' },
      token,
    );
    expect(errorCodes(unknown)).toEqual(['NOT_FOUND']);
  });

  it('refuses unknown instruments, too many instruments and too many subscriptions, leaking no reference', async () => {
    const before = marketData.feedStatus();
    const unknown = open(TICKS, {
      instruments: [NIFTY, { segment: 'NSE_EQ', securityId: '999999999' }],
    });
    const error = (await unknown.failed()) as Array<{ extensions?: { code?: string } }>;
    expect(error[0].extensions?.code).toBe('NOT_FOUND');

    const many = Array.from({ length: 601 }, (_, i) => ({
      segment: 'NSE_EQ',
      securityId: String(i + 1),
    }));
    const tooMany = open(TICKS, { instruments: many });
    const error2 = (await tooMany.failed()) as Array<{ extensions?: { code?: string } }>;
    expect(error2[0].extensions?.code).toBe('NOT_FOUND');

    const instruments = t.app.get(InstrumentsService).all().slice(0, 601).map(ref);
    const tooMany2 = open(TICKS, { instruments });
    const error3 = (await tooMany2.failed()) as Array<{ extensions?: { code?: string } }>;
    expect(error3[0].extensions?.code).toBe('BAD_USER_INPUT');

    // maxSubscriptionsPerClient is 3 here: the fourth on one socket is refused.
    const socket = open(TICKS, { instruments: [far[0]] });
    await socket.batch(0);
    expect((await socket.another(TICKS, { instruments: [far[0]] })).data).toBeDefined();
    expect((await socket.another(TICKS, { instruments: [far[0]] })).data).toBeDefined();
    const fourth = (await socket.another(TICKS, { instruments: [far[1]] })).error as Array<{
      extensions?: { code?: string };
    }>;
    expect(fourth[0].extensions?.code).toBe('BAD_USER_INPUT');
    await untilFeedRequest(sim, () => simSubscribed(sim).has(simKey(far[0])));
    expect(simSubscribed(sim).has(simKey(far[1]))).toBe(false);
    // Leaving releases the shared CLIENT reference: off the feed.
    await socket.dispose();
    await untilFeedRequest(sim, () => !simSubscribed(sim).has(simKey(far[0])));

    const after = marketData.feedStatus();
    expect(after.instruments).toBe(before.instruments);
    expect(after.byTier).toEqual(before.byTier);
  });
});
