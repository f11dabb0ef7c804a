import { InstrumentsService } from '../src/instruments/instruments.service';
import { MarketDataService } from '../src/market-data/market-data.service';
import { ReferenceKind } from '../src/market-data/feed/subscription-registry';
import { gql, login, createUser } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

const QUOTA = 150;
const NIFTY = { segment: 'IDX_I', securityId: '13' };
const BANKNIFTY = { segment: 'IDX_I', securityId: '25' };
const CREATE = `mutation C($name: String!) { createWatchlist(name: $name) { id } }`;
const DELETE = `mutation D($id: ID!) { deleteWatchlist(id: $id) }`;
const ADD = `mutation A($watchlistId: ID!, $instrument: InstrumentInput!, $chain: Boolean) {
  addWatchlistItem(watchlistId: $watchlistId, instrument: $instrument, includeOptionChain: $chain) {
    id items { includeOptionChain }
  }
}`;
const PASSWORD = 'watchlist-quota-Passw0rd!';

type Errors = Array<{ message: string; extensions?: Record<string, unknown> }> | undefined;

/**
 * Issue 17, the same abuse through watchlists: 20 lists x 200 items, each with an option chain
 * (1 + 126 contracts), would let one user fill the feed with WATCHLIST references, and a
 * WATCHLIST reference cannot evict another, so every other user's watchlist would be refused.
 * MAX_WATCHLIST_INSTRUMENTS_PER_USER (lowered here to 150) caps what one user's lists stream.
 */
describe('watchlist quota per user (e2e)', () => {
  let t: TestApp;
  let marketData: MarketDataService;
  const users: Record<string, { id: string; token: string }> = {};

  const call = (user: string, query: string, variables: Record<string, unknown>) =>
    gql<Record<string, { id: string }>>(t.graphqlUrl, query, variables, users[user].token);
  const createList = async (user: string, name: string) => {
    const r = await call(user, CREATE, { name });
    expect(r.errors).toBeUndefined();
    return r.data!.createWatchlist.id;
  };
  const usage = (user: string) => marketData.ownerUsage(ReferenceKind.WATCHLIST, users[user].id);

  beforeAll(async () => {
    t = await createTestApp({
      MAX_WATCHLIST_INSTRUMENTS_PER_USER: String(QUOTA),
      TIER_B_ENABLED: 'false',
    });
    await t.app.get(InstrumentsService).ready();
    marketData = t.app.get(MarketDataService);
    const admin = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    for (const username of ['lister', 'other']) {
      users[username] = await createUser(t, admin, username, PASSWORD);
    }
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('refuses a second option chain past the quota with CAPACITY_EXCEEDED naming it, serves another user, and frees the quota when the list goes', async () => {
    const watched = () =>
      marketData.feedStatus().byTier.find((k) => k.name === ReferenceKind.WATCHLIST)!;
    const first = await createList('lister', 'Index');
    expect(
      (await call('lister', ADD, { watchlistId: first, instrument: NIFTY, chain: true })).errors,
    ).toBeUndefined();
    expect(usage('lister')).toBe(127);

    const second = await createList('lister', 'Banks');
    const refused = await call('lister', ADD, {
      watchlistId: second,
      instrument: BANKNIFTY,
      chain: true,
    });
    const errors = refused.errors as Errors;
    expect(errors?.[0].extensions?.code).toBe('CAPACITY_EXCEEDED');
    expect(errors?.[0].message).toMatch(
      /MAX_WATCHLIST_INSTRUMENTS_PER_USER.*at most 150 .*you hold 127 and this change adds \d+ more/,
    );
    // Nothing changed: no item, no reference.
    expect(usage('lister')).toBe(127);
    expect(watched().instruments).toBe(127);

    // Another user has a quota of their own.
    const theirs = await createList('other', 'Banks');
    expect(
      (await call('other', ADD, { watchlistId: theirs, instrument: BANKNIFTY, chain: true }))
        .errors,
    ).toBeUndefined();
    const bank = usage('other');
    expect(bank).toBeGreaterThan(QUOTA - 127);

    // The first list goes: its instruments leave the quota, and the refused chain now fits.
    expect((await call('lister', DELETE, { id: first })).errors).toBeUndefined();
    expect(usage('lister')).toBe(0);
    expect(
      (await call('lister', ADD, { watchlistId: second, instrument: BANKNIFTY, chain: true }))
        .errors,
    ).toBeUndefined();
    expect(usage('lister')).toBe(bank);
  }, 120_000);
});
