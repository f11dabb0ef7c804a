import { FeedMode } from '@app/dhan';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { MarketDataService } from '../src/market-data/market-data.service';
import {
  ReferenceKind,
  SubscriptionRegistry,
  type SubscriptionReference,
} from '../src/market-data/feed/subscription-registry';
import { TierBSource } from '../src/market-data/chains/tier-b';
import { tierBCentred } from './market-data.helpers';
import { errorCodes, gql, login } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

const SUBSCRIPTIONS = `query Subs($filter: SubscriptionFilter, $limit: Int) {
  subscriptions(filter: $filter, limit: $limit) {
    total
    items {
      segment securityId mode connection priority
      instrument { symbol underlying optionType }
      references { kind count holders }
    }
  }
}`;

interface Item {
  segment: string;
  securityId: string;
  mode: string;
  connection: number;
  priority: string;
  instrument: { symbol: string; underlying: string | null; optionType: string | null } | null;
  references: Array<{ kind: string; count: number; holders: string[] }>;
}
type Subs = { subscriptions: { total: number; items: Item[] } };

describe('admin subscriptions(filter:) (e2e)', () => {
  let t: TestApp;
  let adminToken: string;
  let marketData: MarketDataService;
  const query = (variables: Record<string, unknown>, token = adminToken) =>
    gql<Subs>(t.adminUrl, SUBSCRIPTIONS, variables, token);

  beforeAll(async () => {
    t = await createTestApp(
      {},
      {
        configure: (config) => ({
          ...config,
          marketData: {
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
    marketData = t.app.get(MarketDataService);
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    // Boot (the instrument master into the database) is slow on a loaded machine.
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('lists the registry by kind and underlying, with mode, connection and references by kind', async () => {
    const equity = t.app
      .get(InstrumentsService)
      .all()
      .find((i) => i.segment === 'NSE_EQ')!;
    const refs: SubscriptionReference[] = [
      { ...equity, kind: ReferenceKind.WATCHLIST, holderId: 'wl-1', mode: FeedMode.QUOTE },
      { ...equity, kind: ReferenceKind.WATCHLIST, holderId: 'wl-2', mode: FeedMode.TICKER },
      { ...equity, kind: ReferenceKind.ORDER, holderId: 'order-9', mode: FeedMode.FULL },
    ].map(({ segment, securityId, kind, holderId, mode }) => ({
      segment,
      securityId,
      kind,
      holderId,
      mode,
    }));
    marketData.acquire(refs);

    const all = await query({});
    expect(all.errors).toBeUndefined();
    expect(all.data!.subscriptions.total).toBe(marketData.feedStatus().instruments);

    const watch = await query({ filter: { kind: 'WATCHLIST' } });
    expect(watch.errors).toBeUndefined();
    expect(watch.data!.subscriptions).toEqual({
      total: 1,
      items: [
        {
          segment: 'NSE_EQ',
          securityId: equity.securityId,
          mode: 'FULL',
          connection: t.app
            .get(SubscriptionRegistry)
            .placement(marketData.instrumentKeyOf(equity.segment, equity.securityId))!.connIndex,
          priority: 'ORDER',
          instrument: { symbol: equity.symbol, underlying: null, optionType: null },
          references: [
            { kind: 'WATCHLIST', count: 2, holders: ['wl-1', 'wl-2'] },
            { kind: 'ORDER', count: 1, holders: ['order-9'] },
          ],
        },
      ],
    });

    // Tier B for NIFTY: the index and 2 x (2 + 1 + 2) contracts of one expiry.
    const nifty = await query({ filter: { kind: 'TIER_B', underlying: 'NIFTY' } });
    expect(nifty.errors).toBeUndefined();
    const items = nifty.data!.subscriptions.items;
    expect(nifty.data!.subscriptions.total).toBe(1 + 2 * 5);
    expect(items.filter((i) => i.instrument?.optionType === 'CE')).toHaveLength(5);
    expect(items.filter((i) => i.instrument?.optionType === 'PE')).toHaveLength(5);
    expect(items.find((i) => i.segment === 'IDX_I')!.instrument!.symbol).toBe('NIFTY');
    for (const i of items) {
      expect(i.priority).toBe('TIER_B');
      expect(i.references).toEqual([{ kind: 'TIER_B', count: 1, holders: ['NIFTY'] }]);
    }
    // Ordered by connection, and the limit cuts the list but not the total.
    const connections = items.map((i) => i.connection);
    expect(connections).toEqual([...connections].sort((a, b) => a - b));
    const first3 = await query({ filter: { underlying: 'NIFTY' }, limit: 3 });
    expect(first3.data!.subscriptions.items).toHaveLength(3);
    expect(first3.data!.subscriptions.total).toBe(11);

    const none = await query({ filter: { kind: 'POSITION' } });
    expect(none.data!.subscriptions).toEqual({ total: 0, items: [] });
    marketData.release(refs);
  });

  it('refuses a bad limit or filter with BAD_USER_INPUT and a USER token with FORBIDDEN', async () => {
    expect(errorCodes(await query({ limit: 0 }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await query({ limit: 5_001 }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await query({ filter: { underlying: '' } }))).toEqual(['BAD_USER_INPUT']);
    const password = 'a sufficiently long password';
    await gql(
      t.adminUrl,
      `mutation C($input: CreateUserInput!) { createUser(input: $input) { id } }`,
      { input: { username: 'viewer-1', password } },
      adminToken,
    );
    const user = await login(t.graphqlUrl, 'viewer-1', password);
    expect(errorCodes(await query({}, user.accessToken))).toEqual(['FORBIDDEN']);
  });
});
