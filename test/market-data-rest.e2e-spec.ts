import { ExchangeSegment, type Instrument } from '@app/dhan';
import type { DhanSimulator } from '@app/dhan-simulator';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { MarketDataService } from '../src/market-data/market-data.service';
import { RequestLimiter } from '../src/common/graphql/request-limiter';
import { until } from './dhan/helpers';
import { gql, login } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';
import { TicksClient, tierBCentred } from './market-data.helpers';

const QUOTE_ENDPOINT = 'POST /v2/marketfeed/quote';
const CHAIN_ENDPOINT = 'POST /v2/optionchain';
const QUOTE_FIELDS = 'segment securityId ltp prevClose stale source receivedAt';

interface QuoteView {
  segment: string;
  securityId: string;
  ltp: number | null;
  prevClose: number | null;
  stale: boolean;
  source: string | null;
  receivedAt: string | null;
}

describe('quotes and chains for instruments off the feed, from DhanHQ REST (e2e, embedded simulator)', () => {
  let t: TestApp;
  let token: string;
  let userId: string;
  let sim: DhanSimulator;
  let unstreamed: Instrument[];
  const clients: TicksClient[] = [];
  const count = (endpoint: string) => sim.rest.stats.byEndpoint[endpoint] ?? 0;

  beforeAll(async () => {
    // 50 concurrent asks from one user: room for them in the per-user in-flight limit.
    // An ask waits for its REST answer longer than the default 3 s: one test holds the request
    // until all 50 of its asks arrived, which a loaded machine may take seconds over.
    t = await createTestApp(
      { GRAPHQL_MAX_IN_FLIGHT: '100' },
      { configure: (c) => ({ ...c, marketData: { restWaitMs: 30_000 } }) as typeof c },
    );
    await t.app.get(InstrumentsService).ready();
    await tierBCentred(t.app);
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    const session = await login(t.graphqlUrl, t.admin.username, t.admin.password);
    token = session.accessToken;
    userId = session.user.id;
    const marketData = t.app.get(MarketDataService);
    unstreamed = t.app
      .get(InstrumentsService)
      .all()
      .filter(
        (i) =>
          i.segment === ExchangeSegment.NSE_EQ &&
          i.instrumentType === 'EQUITY' &&
          marketData.record(i.segment, i.securityId) === undefined,
      )
      .slice(0, 60);
    expect(unstreamed.length).toBe(60);
  });

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await t?.close();
  });

  it('quote for an unstreamed stock comes from REST, marked REST with its time', async () => {
    const stock = unstreamed[0];
    const before = count(QUOTE_ENDPOINT);
    const res = await gql<{ quote: QuoteView }>(
      t.graphqlUrl,
      `query Q($s: ExchangeSegment!, $id: String!) { quote(segment: $s, securityId: $id) { ${QUOTE_FIELDS} } }`,
      { s: stock.segment, id: stock.securityId },
      token,
    );
    expect(res.errors).toBeUndefined();
    const q = res.data!.quote;
    expect(q.source).toBe('REST');
    expect(q.stale).toBe(false);
    expect(q.receivedAt).not.toBeNull();
    // The simulator's own price of that stock (it moves slowly between the two reads).
    const simStock = sim.universe.get(stock.segment, stock.securityId)!;
    const simLtp = sim.market.mark(simStock).ltp;
    expect(q.ltp).toBeGreaterThan(0);
    expect(Math.abs(q.ltp! - simLtp) / simLtp).toBeLessThan(0.01);
    expect(q.prevClose).toBeGreaterThan(0);
    expect(count(QUOTE_ENDPOINT)).toBe(before + 1);
    // Counted on /metrics as well.
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    const sent = /^dhan_data_requests_total\{api="quote"\} (\d+)/m.exec(metrics);
    expect(Number(sent?.[1])).toBeGreaterThanOrEqual(1);
  });

  it('50 concurrent asks for 50 unstreamed stocks in one document go out as one request', async () => {
    const stocks = unstreamed.slice(1, 51);
    const before = count(QUOTE_ENDPOINT);
    const fields = stocks
      .map(
        (s, i) =>
          `q${i}: quote(segment: ${s.segment}, securityId: "${s.securityId}") { ltp source }`,
      )
      .join('\n');
    const res = await gql<Record<string, { ltp: number | null; source: string | null }>>(
      t.graphqlUrl,
      `{ ${fields} }`,
      {},
      token,
    );
    expect(res.errors).toBeUndefined();
    const answers = Object.values(res.data!);
    expect(answers).toHaveLength(50);
    for (const a of answers) {
      expect(a.source).toBe('REST');
      expect(a.ltp).toBeGreaterThan(0);
    }
    expect(count(QUOTE_ENDPOINT)).toBe(before + 1);
  });

  it('50 concurrent requests for one unstreamed stock share one REST request', async () => {
    const stock = unstreamed[51];
    // The simulator holds the quote request until the server is serving all 50 asks, however
    // slowly a loaded machine brings them in.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    sim.rest.delay({ pattern: QUOTE_ENDPOINT, until: held, count: 1 });
    const before = count(QUOTE_ENDPOINT);
    const query = `{ quote(segment: ${stock.segment}, securityId: "${stock.securityId}") { ltp source } }`;
    const pending = Promise.all(
      Array.from({ length: 50 }, () =>
        gql<{ quote: { ltp: number | null; source: string } }>(t.graphqlUrl, query, {}, token),
      ),
    );
    const limiter = t.app.get(RequestLimiter);
    await until(() => limiter.running(`user:${userId}`) === 50, 'all 50 asks being served');
    release();
    const answers = await pending;
    for (const a of answers) {
      expect(a.errors).toBeUndefined();
      expect(a.data!.quote.source).toBe('REST');
      expect(a.data!.quote.ltp).toBeGreaterThan(0);
    }
    expect(count(QUOTE_ENDPOINT)).toBe(before + 1);
  });

  it('the first ticks snapshot of an unstreamed stock has a price (asked of REST first), then the feed takes over', async () => {
    const stock = unstreamed[55];
    const before = count(QUOTE_ENDPOINT);
    const query = `subscription T($i: [InstrumentInput!]!) { ticks(instruments: $i) { ${QUOTE_FIELDS} } }`;
    const c = new TicksClient(
      t.graphqlUrl,
      token,
      query,
      { i: [{ segment: stock.segment, securityId: stock.securityId }] },
      'ticks',
    );
    clients.push(c);
    const first = (await c.batch(0)) as unknown as QuoteView[];
    expect(first).toHaveLength(1);
    // REST was asked before the subscription opened (once more if DhanHQ's limiter refused the
    // first: the delayed request above was counted late); the feed may have overtaken it since.
    expect(count(QUOTE_ENDPOINT)).toBeGreaterThan(before);
    expect(['REST', 'FEED']).toContain(first[0].source);
    expect(first[0].ltp).toBeGreaterThan(0);
    expect(first[0].stale).toBe(false);
    const fromFeed = (await c.batchWhere((b) =>
      (b as unknown as QuoteView[]).some((x) => x.source === 'FEED'),
    )) as unknown as QuoteView[];
    expect(fromFeed[0].ltp).toBeGreaterThan(0);
    expect(fromFeed[0].stale).toBe(false);
  });

  it('without a REST answer, a first snapshot is stale exactly when it has no price (no more ltp null, stale false)', async () => {
    const stock = unstreamed[57];
    sim.rest.failWith({ pattern: QUOTE_ENDPOINT, status: 500, count: 1 });
    const faults = sim.rest.stats.faultsApplied;
    const query = `subscription T($i: [InstrumentInput!]!) { ticks(instruments: $i) { ${QUOTE_FIELDS} } }`;
    const c = new TicksClient(
      t.graphqlUrl,
      token,
      query,
      { i: [{ segment: stock.segment, securityId: stock.securityId }] },
      'ticks',
    );
    clients.push(c);
    const first = ((await c.batch(0)) as unknown as QuoteView[])[0];
    // The REST ask was made and failed (a 500 is not retried).
    expect(sim.rest.stats.faultsApplied).toBe(faults + 1);
    expect(first.source).not.toBe('REST');
    expect(first.stale).toBe(first.ltp === null);
    // Whatever came first (previous close, or a trade), once the feed trades it: a price, fresh.
    const traded = (await c.batchWhere((b) =>
      (b as unknown as QuoteView[]).some((x) => x.ltp !== null),
    )) as unknown as QuoteView[];
    expect([traded[0].stale, traded[0].source]).toEqual([false, 'FEED']);
  });

  it('optionChain for an expiry outside Tier B is filled from DhanHQ option-chain REST, cached for 3 s', async () => {
    const expiry = t.app.get(InstrumentsService).expiries('NIFTY')[3]; // Tier B pins the nearest two
    const before = count(CHAIN_ENDPOINT);
    const query = `query C($e: Date) { optionChain(underlying: "NIFTY", expiry: $e, strikes: 3) {
      expiry spot atmStrike strikes { strike
        call { quote { ltp source stale } analytics { status iv } }
        put { quote { ltp source stale } analytics { status iv } } } } }`;
    type Side = {
      quote: { ltp: number | null; source: string | null; stale: boolean } | null;
      analytics: { status: string; iv: number | null };
    };
    const res = await gql<{
      optionChain: {
        expiry: string;
        spot: number | null;
        strikes: Array<{ strike: number; call: Side | null; put: Side | null }>;
      };
    }>(t.graphqlUrl, query, { e: expiry }, token);
    expect(res.errors).toBeUndefined();
    const chain = res.data!.optionChain;
    expect(chain.expiry).toBe(expiry);
    expect(chain.spot).toBeGreaterThan(0);
    expect(chain.strikes).toHaveLength(7);
    for (const s of chain.strikes) {
      for (const side of [s.call!, s.put!]) {
        expect(side.quote?.source).toBe('REST');
        expect(side.quote?.ltp).toBeGreaterThan(0);
        expect(side.quote?.stale).toBe(false);
      }
    }
    // With quotes come the analytics: the ATM pair is solved.
    expect(
      chain.strikes.some((s) => s.call!.analytics.status === 'OK' && s.put!.analytics.iv! > 1),
    ).toBe(true);
    expect(count(CHAIN_ENDPOINT)).toBe(before + 1);

    // Asked again at once: the fill is reused, DhanHQ is not asked again.
    const again = await gql(t.graphqlUrl, query, { e: expiry }, token);
    expect(again.errors).toBeUndefined();
    expect(count(CHAIN_ENDPOINT)).toBe(before + 1);
  });

  it('instruments search reads what traders type: underlying, strike, kind and expiry in any order', async () => {
    const search = async (text: string) => {
      const res = await gql<{
        instruments: Array<{
          underlying: string;
          strike: number | null;
          optionType: string | null;
          instrumentType: string;
          expiry: string;
        }>;
      }>(
        t.graphqlUrl,
        'query S($q: String!) { instruments(search: $q, limit: 5) { underlying strike optionType instrumentType expiry } }',
        { q: text },
        token,
      );
      expect(res.errors).toBeUndefined();
      return res.data!.instruments;
    };
    const calls = await search('banknifty 52000 ce');
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls)
      expect([c.underlying, c.strike, c.optionType]).toEqual(['BANKNIFTY', 52000, 'CE']);
    expect(calls.map((c) => c.expiry)).toEqual([...calls.map((c) => c.expiry)].sort());
    const [future] = await search('CRUDEOIL FUT');
    expect([future.underlying, future.instrumentType]).toEqual(['CRUDEOIL', 'FUTCOM']);
    const [put] = await search('PE 24500 nifty');
    expect([put.underlying, put.strike, put.optionType]).toEqual(['NIFTY', 24500, 'PE']);
    expect(put.expiry).toBe(t.app.get(InstrumentsService).expiries('NIFTY')[0]);
  });
});
