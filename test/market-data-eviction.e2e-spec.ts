import { FeedMode } from '@app/dhan';
import type { DhanSimulator } from '@app/dhan-simulator';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { MarketDataService } from '../src/market-data/market-data.service';
import {
  ReferenceKind,
  type SubscriptionReference,
} from '../src/market-data/feed/subscription-registry';
import { liquidEquities } from './dhan/helpers';
import { login } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';
import {
  TICKS,
  TicksClient,
  simSubscribed,
  untilFeedRequest,
  type InstrumentRef,
  type TickView,
} from './market-data.helpers';

const CAPACITY = 3;
const simKey = (r: InstrumentRef) => `${r.segment}:${r.securityId}`;
const fresh = (b: unknown[], id: string) =>
  (b as TickView[]).some((x) => x.securityId === id && x.ltp !== null && !x.stale);

function position(r: InstrumentRef): SubscriptionReference {
  return {
    segment: r.segment as SubscriptionReference['segment'],
    securityId: r.securityId,
    kind: ReferenceKind.POSITION,
    holderId: 'position-1',
    mode: FeedMode.QUOTE,
  };
}

describe('market data eviction of a ticks instrument (e2e, real graphql-ws client, capacity 3)', () => {
  let t: TestApp;
  let token: string;
  let sim: DhanSimulator;
  let marketData: MarketDataService;
  const clients: TicksClient[] = [];
  const open = (instruments: InstrumentRef[]) => {
    const c = new TicksClient(t.graphqlUrl, token, TICKS, { instruments });
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
            registry: { connections: 5, perConnection: CAPACITY, total: CAPACITY },
            tierB: { enabled: false },
          },
        }),
      },
    );
    await t.app.get(InstrumentsService).ready();
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    marketData = t.app.get(MarketDataService);
    token = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    // Boot (the instrument master into the database) is slow on a loaded machine.
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await t?.close();
  });

  it('sends the client one last update with stale: true, nothing after it, and a new subscriber brings the instrument back', async () => {
    const [a, b, p1, p2] = liquidEquities(sim, 4) as InstrumentRef[];
    const first = open([a, b]);
    await first.batchWhere((batch) => fresh(batch, a.securityId));
    await first.batchWhere((batch) => fresh(batch, b.securityId));
    expect(marketData.feedStatus().instruments).toBe(2);

    // Two positions need one slot more than is free: the least recently used CLIENT
    // instrument (a or b, whichever ticked least recently) is evicted.
    const from = first.batches.length;
    const result = marketData.acquire([position(p1), position(p2)]);
    expect(result.evicted).toHaveLength(1);
    const victimId = result.evicted[0].instrument.securityId;
    const victim = [a, b].find((r) => r.securityId === victimId)!;
    const survivor = [a, b].find((r) => r.securityId !== victimId)!;
    expect(result.evicted[0].holders.map((h) => [h.kind, h.holderId])).toEqual([
      [ReferenceKind.CLIENT, 'ticks'],
    ]);

    const staleBatch = await first.batchWhere(
      (batch) => (batch as TickView[]).some((x) => x.securityId === victimId && x.stale),
      from,
    );
    const staleTick = (staleBatch as TickView[]).find((x) => x.securityId === victimId)!;
    // The last known values come with it.
    expect(staleTick.ltp).not.toBeNull();
    const staleAt = first.batches.indexOf(staleBatch);
    await untilFeedRequest(sim, () => !simSubscribed(sim).has(simKey(victim)));

    // The survivor keeps streaming; the victim is not sent again.
    let seen = staleAt;
    for (let i = 0; i < 3; i++) {
      const next = await first.batchWhere((batch) => fresh(batch, survivor.securityId), seen + 1);
      seen = first.batches.indexOf(next);
    }
    const after = (first.batches.slice(staleAt + 1).flat() as TickView[]).filter(
      (x) => x.securityId === victimId,
    );
    expect(after).toEqual([]);
    expect(first.closeInfo).toBeUndefined();
    expect(first.error).toBeUndefined();

    // A slot frees up; a second subscriber to the victim puts it back on the feed (its CLIENT
    // reference was evicted although the first subscription still wants it), and both see it.
    marketData.release([position(p2)]);
    const second = open([victim]);
    await second.batchWhere((batch) => fresh(batch, victimId));
    await first.batchWhere((batch) => fresh(batch, victimId), seen + 1);
    expect(simSubscribed(sim).has(simKey(victim))).toBe(true);

    // Both leave: every CLIENT reference is released, only the remaining position is held.
    await second.dispose();
    await first.dispose();
    await untilFeedRequest(sim, () => simSubscribed(sim).size === 1);
    expect(marketData.feedStatus().byTier.find((k) => k.name === 'CLIENT')!.instruments).toBe(0);
    expect([...simSubscribed(sim)]).toEqual([simKey(p1)]);
  });
});
