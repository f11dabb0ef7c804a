import { ExchangeSegment, FeedMode, type Instrument } from '@app/dhan';
import type { DhanSimulator } from '@app/dhan-simulator';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { MarketDataError, MarketDataErrorCode } from '../src/market-data/market-data.errors';
import {
  MARKET_DATA_EVICTED,
  MarketDataService,
  type MarketDataEvictedEvent,
} from '../src/market-data/market-data.service';
import {
  ReferenceKind,
  type SubscriptionReference,
} from '../src/market-data/feed/subscription-registry';
import { TierBSource } from '../src/market-data/chains/tier-b';
import { createTestApp, type TestApp } from './utils/test-app';
import { simSubscribed, tierBCentred, untilFeedRequest } from './market-data.helpers';

const LIMITS = { connections: 5, perConnection: 40, total: 200 };

function refOf(i: Instrument, kind: ReferenceKind, holderId: string): SubscriptionReference {
  return { segment: i.segment, securityId: i.securityId, kind, holderId, mode: FeedMode.QUOTE };
}

function expectCapacityExceeded(fn: () => unknown): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(MarketDataError);
  expect((error as MarketDataError).code).toBe(MarketDataErrorCode.CAPACITY_EXCEEDED);
}

describe('market data capacity (e2e, limits lowered through config, real feed)', () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let marketData: MarketDataService;

  beforeAll(async () => {
    t = await createTestApp(
      {},
      {
        configure: (config) => ({
          ...config,
          marketData: {
            registry: LIMITS,
            tierB: {
              spotWaitMs: 20_000,
              config: {
                strikesEachSide: 2,
                underlyings: [{ name: 'NIFTY', source: TierBSource.INDEX, expiries: 1 }],
              },
            },
          },
        }),
      },
    );
    await t.app.get(InstrumentsService).ready();
    await tierBCentred(t.app);
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    marketData = t.app.get(MarketDataService);
    // Boot (the instrument master into the database) is slow on a loaded machine.
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('fills to capacity with balanced placement, evicts by priority, then refuses; Tier B is never evicted', async () => {
    const tierB = () => marketData.feedStatus().byTier.find((k) => k.name === 'TIER_B')!;
    const pinned = tierB().instruments;
    expect(pinned).toBe(1 + 5 * 2);

    const pool = t.app
      .get(InstrumentsService)
      .all()
      .filter((i) => i.segment !== ExchangeSegment.IDX_I && i.underlying !== 'NIFTY')
      .slice(0, 401);
    expect(pool).toHaveLength(401);
    const watch = pool.slice(0, 100);
    const clientFill = pool.slice(100, 100 + (LIMITS.total - 100 - pinned));
    marketData.acquire(watch.map((i) => refOf(i, ReferenceKind.WATCHLIST, 'w1')));
    marketData.acquire(clientFill.map((i) => refOf(i, ReferenceKind.CLIENT, 'c1')));

    const status = marketData.feedStatus();
    expect(status.instruments).toBe(LIMITS.total);
    const counts = status.connections.map((c) => c.instruments);
    // Balanced: every connection within one of the others (spread reported in docs).
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(LIMITS.total);
    await untilFeedRequest(sim, () => simSubscribed(sim).size === LIMITS.total);

    // Full: a CLIENT request evicts the least recently used WATCHLIST instrument (recency
    // includes ticks, so which one depends on the simulator: market-data.service.spec.ts
    // shows the order).
    const evicted: MarketDataEvictedEvent[] = [];
    t.app
      .get(EventEmitter2)
      .on(MARKET_DATA_EVICTED, (e: MarketDataEvictedEvent) => evicted.push(e));
    const extra = pool.slice(300, 301);
    const result = marketData.acquire(extra.map((i) => refOf(i, ReferenceKind.CLIENT, 'c2')));
    expect(result.evicted).toHaveLength(1);
    const out = result.evicted[0].instrument;
    const victim = watch.find((i) => i.segment === out.segment && i.securityId === out.securityId)!;
    expect(victim).toBeDefined();
    expect(result.evicted[0].holders.map((h) => h.kind)).toEqual([ReferenceKind.WATCHLIST]);
    expect(evicted.map((e) => e.instrument.securityId)).toEqual([victim.securityId]);
    await untilFeedRequest(
      sim,
      () =>
        !simSubscribed(sim).has(`${victim.segment}:${victim.securityId}`) &&
        simSubscribed(sim).has(`${extra[0].segment}:${extra[0].securityId}`),
    );

    // Evict every remaining WATCHLIST instrument; then nothing lower than CLIENT is left.
    marketData.acquire(pool.slice(301, 400).map((i) => refOf(i, ReferenceKind.CLIENT, 'c3')));
    expect(marketData.feedStatus().byTier.find((k) => k.name === 'WATCHLIST')!.instruments).toBe(0);
    const before = marketData.feedStatus();
    const more = pool.slice(400, 401);
    expectCapacityExceeded(() =>
      marketData.acquire(more.map((i) => refOf(i, ReferenceKind.WATCHLIST, 'w2'))),
    );
    expectCapacityExceeded(() =>
      marketData.acquire(more.map((i) => refOf(i, ReferenceKind.CLIENT, 'c4'))),
    );
    // A refusal changes nothing, and Tier B kept every instrument.
    expect(marketData.feedStatus().byTier).toEqual(before.byTier);
    expect(tierB().instruments).toBe(pinned);
  });
});
