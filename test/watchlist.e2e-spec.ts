import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExchangeSegment, type Instrument } from '@app/dhan';
import type { DhanSimulator } from '@app/dhan-simulator';
import type { ResolvedAppConfig } from '../src/config/app-config';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { FeedPool } from '../src/market-data/feed/feed-pool.service';
import { MarketDataService } from '../src/market-data/market-data.service';
import { ReferenceKind } from '../src/market-data/feed/subscription-registry';
import { TierBSource } from '../src/market-data/chains/tier-b';
import { TierBService } from '../src/market-data/chains/tier-b.service';
import { WatchlistReferences } from '../src/watchlist/watchlist-references.service';
import { WatchlistTierAListener } from '../src/watchlist/watchlist-tier-a.listener';
import { errorCodes, gql, login, type GraphqlResponse } from './utils/graphql-client';
import { createTestApp, databaseEngine, type TestApp } from './utils/test-app';
import {
  ALL_TICK_FIELDS,
  TICKS,
  TicksClient,
  simSubscribed,
  untilFeedRequest,
  type InstrumentRef,
  type TickView,
} from './market-data.helpers';

const WATCHLIST_FIELDS = `id name position items {
  instrument { segment securityId symbol }
  quote { ${ALL_TICK_FIELDS} }
  includeOptionChain
}`;
const WATCHLISTS = `query { watchlists { ${WATCHLIST_FIELDS} } }`;
const CREATE = `mutation C($name: String!) { createWatchlist(name: $name) { ${WATCHLIST_FIELDS} } }`;
const RENAME = `mutation R($id: ID!, $name: String!) { renameWatchlist(id: $id, name: $name) { id name } }`;
const DELETE = `mutation D($id: ID!) { deleteWatchlist(id: $id) }`;
const ADD = `mutation A($watchlistId: ID!, $instrument: InstrumentInput!, $chain: Boolean) {
  addWatchlistItem(watchlistId: $watchlistId, instrument: $instrument, includeOptionChain: $chain) {
    ${WATCHLIST_FIELDS}
  }
}`;
const REMOVE = `mutation X($watchlistId: ID!, $instrument: InstrumentInput!) {
  removeWatchlistItem(watchlistId: $watchlistId, instrument: $instrument) { ${WATCHLIST_FIELDS} }
}`;
const CREATE_USER = `mutation U($input: CreateUserInput!) { createUser(input: $input) { id } }`;
const PASSWORD = 'watchlist-e2e-Passw0rd!';

interface ItemView {
  instrument: InstrumentRef & { symbol: string };
  quote: TickView | null;
  includeOptionChain: boolean;
}
interface WatchlistView {
  id: string;
  name: string;
  position: number;
  items: ItemView[];
}

const ref = (i: Instrument): InstrumentRef => ({ segment: i.segment, securityId: i.securityId });
const simKey = (r: InstrumentRef) => `${r.segment}:${r.securityId}`;

/** How many feed connections of the simulator stream this instrument. */
function feedCount(sim: DhanSimulator, r: InstrumentRef): number {
  let n = 0;
  for (const info of sim.feed.connectionInfo()) {
    for (const list of Object.values(sim.feed.subscriptions(info.id))) {
      if (list.includes(simKey(r))) n++;
    }
  }
  return n;
}

/** Resolves on the next packet carrying a last price the app's feed receives for it. */
function nextPacket(pool: FeedPool, r: InstrumentRef): Promise<void> {
  return new Promise((resolve) => {
    const listeners: Array<() => void> = [];
    for (const c of pool.connections) {
      const on = (p: { segment: string; securityId: number }) => {
        if (p.segment !== r.segment || String(p.securityId) !== r.securityId) return;
        if (!('ltp' in p)) return;
        for (const off of listeners) off();
        resolve();
      };
      c.on('packet', on);
      listeners.push(() => c.off('packet', on));
    }
  });
}

class Session {
  constructor(
    private readonly t: TestApp,
    readonly token: string,
  ) {}

  async call<T>(query: string, variables: Record<string, unknown> = {}) {
    return gql<T>(this.t.graphqlUrl, query, variables, this.token);
  }

  async ok<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const r = await this.call<T>(query, variables);
    expect(r.errors).toBeUndefined();
    return r.data!;
  }

  async lists(): Promise<WatchlistView[]> {
    return (await this.ok<{ watchlists: WatchlistView[] }>(WATCHLISTS)).watchlists;
  }

  async create(name: string): Promise<WatchlistView> {
    return (await this.ok<{ createWatchlist: WatchlistView }>(CREATE, { name })).createWatchlist;
  }

  add(watchlistId: string, instrument: InstrumentRef, chain?: boolean) {
    return this.call<{ addWatchlistItem: WatchlistView }>(ADD, { watchlistId, instrument, chain });
  }

  remove(watchlistId: string, instrument: InstrumentRef) {
    return this.call<{ removeWatchlistItem: WatchlistView }>(REMOVE, { watchlistId, instrument });
  }
}

async function newUser(t: TestApp, adminToken: string, username: string): Promise<Session> {
  const created = await gql(
    t.adminUrl,
    CREATE_USER,
    { input: { username, password: PASSWORD, role: 'USER' } },
    adminToken,
  );
  expect(created.errors).toBeUndefined();
  return new Session(t, (await login(t.graphqlUrl, username, PASSWORD)).accessToken);
}

function watchlistRefs(marketData: MarketDataService): { instruments: number; references: number } {
  const row = marketData.feedStatus().byTier.find((k) => k.name === ReferenceKind.WATCHLIST);
  return { instruments: row?.instruments ?? 0, references: row?.references ?? 0 };
}

function codes(r: GraphqlResponse<unknown>) {
  return errorCodes(r);
}

describe('watchlists drive Tier A (e2e, embedded simulator, graphql-ws over real sockets)', () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let pool: FeedPool;
  let marketData: MarketDataService;
  let alice: Session;
  let bob: Session;
  let equities: InstrumentRef[];
  let option: InstrumentRef;
  const clients: TicksClient[] = [];

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
    const instruments = t.app.get(InstrumentsService);
    await instruments.ready();
    await t.app.get(TierBService).whenPinned();
    await t.app.get(WatchlistTierAListener).whenRestored();
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    pool = t.app.get(FeedPool);
    marketData = t.app.get(MarketDataService);
    const adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    alice = await newUser(t, adminToken, 'alice');
    bob = await newUser(t, adminToken, 'bob');
    equities = instruments
      .all()
      .filter((i) => i.segment === ExchangeSegment.NSE_EQ)
      .slice(0, 3)
      .map(ref);
    expect(equities).toHaveLength(3);
    const expiry = instruments.expiries('NIFTY')[0];
    option = ref(instruments.chain('NIFTY', expiry)[0]);
  });

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await t?.close();
  });

  it('validates names: trimmed 1-40 characters, unique per user', async () => {
    expect(codes(await alice.call(CREATE, { name: '   ' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await alice.call(CREATE, { name: 'x'.repeat(41) }))).toEqual(['BAD_USER_INPUT']);
    const list = await alice.create('  Validation  ');
    expect(list).toMatchObject({ name: 'Validation', items: [] });
    expect(codes(await alice.call(CREATE, { name: 'Validation' }))).toEqual(['CONFLICT']);
    // Names are per user: bob may use the same one.
    const bobs = await bob.create('Validation');
    const renamed = await alice.ok<{ renameWatchlist: { name: string } }>(RENAME, {
      id: list.id,
      name: ' Renamed ',
    });
    expect(renamed.renameWatchlist.name).toBe('Renamed');
    expect(codes(await alice.call(RENAME, { id: list.id, name: '' }))).toEqual(['BAD_USER_INPUT']);
    expect(await alice.ok(DELETE, { id: list.id })).toEqual({ deleteWatchlist: true });
    expect(await bob.ok(DELETE, { id: bobs.id })).toEqual({ deleteWatchlist: true });
    expect(await alice.lists()).toEqual([]);
  });

  it('validates items: unknown instrument NOT_FOUND, option chain only for an underlying', async () => {
    const list = await alice.create('Items');
    const unknown = { segment: 'NSE_EQ', securityId: '999999999' };
    expect(codes(await alice.add(list.id, unknown))).toEqual(['NOT_FOUND']);
    expect(codes(await alice.add(list.id, option, true))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await alice.add(list.id, { segment: 'NSE_EQ', securityId: 'abc' }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codes(await alice.remove(list.id, equities[0]))).toEqual(['NOT_FOUND']);
    expect((await alice.lists()).find((l) => l.id === list.id)!.items).toEqual([]);
    expect(watchlistRefs(marketData).references).toBe(0);
    await alice.ok(DELETE, { id: list.id });
  });

  it("treats another user's watchlist as missing (NOT_FOUND) and never shows it", async () => {
    const list = await alice.create('Private');
    expect(codes(await bob.call(RENAME, { id: list.id, name: 'Mine' }))).toEqual(['NOT_FOUND']);
    expect(codes(await bob.call(DELETE, { id: list.id }))).toEqual(['NOT_FOUND']);
    expect(codes(await bob.add(list.id, equities[0]))).toEqual(['NOT_FOUND']);
    expect(codes(await bob.remove(list.id, equities[0]))).toEqual(['NOT_FOUND']);
    expect(codes(await bob.call(DELETE, { id: 'not-a-uuid' }))).toEqual(['NOT_FOUND']);
    expect(await bob.lists()).toEqual([]);
    expect((await alice.lists()).map((l) => l.name)).toEqual(['Private']);
    expect(watchlistRefs(marketData).references).toBe(0);
    await alice.ok(DELETE, { id: list.id });
  });

  it('an added item is subscribed at the feed at once, its quote is live and ticks reach the user', async () => {
    const target = equities[0];
    expect(simSubscribed(sim).has(simKey(target))).toBe(false);
    const list = await alice.create('Live');
    const firstPacket = nextPacket(pool, target);
    const added = await alice.add(list.id, target);
    expect(added.errors).toBeUndefined();
    expect(added.data!.addWatchlistItem.items.map((i) => i.instrument.securityId)).toEqual([
      target.securityId,
    ]);
    await untilFeedRequest(sim, () => simSubscribed(sim).has(simKey(target)));
    expect(watchlistRefs(marketData)).toEqual({ instruments: 1, references: 1 });

    await firstPacket;
    const item = (await alice.lists())[0].items[0];
    expect(item.quote).not.toBeNull();
    expect(item.quote!.ltp).toEqual(expect.any(Number));

    const client = new TicksClient(t.graphqlUrl, alice.token, TICKS, { instruments: [target] });
    clients.push(client);
    const moving = await client.batchWhere(
      (b) =>
        (b as TickView[]).some(
          (tick) => tick.securityId === target.securityId && tick.ltp !== null,
        ),
      1,
    );
    expect(moving.length).toBeGreaterThan(0);
  });

  it('two users, one instrument: one feed subscription; it stays until both have removed it', async () => {
    const target = equities[1];
    const aliceList = await alice.create('Shared A');
    const bobList = await bob.create('Shared B');
    const before = watchlistRefs(marketData);
    expect((await alice.add(aliceList.id, target)).errors).toBeUndefined();
    expect((await bob.add(bobList.id, target)).errors).toBeUndefined();
    await untilFeedRequest(sim, () => simSubscribed(sim).has(simKey(target)));
    expect(feedCount(sim, target)).toBe(1);
    expect(watchlistRefs(marketData)).toEqual({
      instruments: before.instruments + 1,
      references: before.references + 2,
    });

    const removed = await alice.remove(aliceList.id, target);
    expect(removed.errors).toBeUndefined();
    expect(removed.data!.removeWatchlistItem.items).toEqual([]);
    expect(watchlistRefs(marketData).references).toBe(before.references + 1);
    // Still streamed for bob: a packet arrives after alice's removal.
    await nextPacket(pool, target);
    expect(feedCount(sim, target)).toBe(1);

    expect((await bob.remove(bobList.id, target)).errors).toBeUndefined();
    await untilFeedRequest(sim, () => !simSubscribed(sim).has(simKey(target)));
    expect(watchlistRefs(marketData)).toEqual(before);
    await alice.ok(DELETE, { id: aliceList.id });
    await bob.ok(DELETE, { id: bobList.id });
  });

  it('includeOptionChain on NIFTY references the index and 3 expiries x 21 strikes x CE/PE', async () => {
    const nifty = { segment: 'IDX_I', securityId: '13' };
    const list = await bob.create('Chain');
    const before = watchlistRefs(marketData);
    const added = await bob.add(list.id, nifty, true);
    expect(added.errors).toBeUndefined();
    expect(added.data!.addWatchlistItem.items[0]).toMatchObject({ includeOptionChain: true });
    expect(watchlistRefs(marketData).references - before.references).toBe(1 + 126);
    const refs = t.app
      .get(WatchlistReferences)
      .referencesFor(
        'probe',
        t.app.get(InstrumentsService).get(ExchangeSegment.IDX_I, '13')!,
        true,
      );
    const expiries = new Set(
      refs.slice(1).map((r) => t.app.get(InstrumentsService).get(r.segment, r.securityId)!.expiry),
    );
    expect(expiries.size).toBe(3);

    // Dropping the chain keeps the index, releases the 126 contracts.
    expect((await bob.add(list.id, nifty, false)).errors).toBeUndefined();
    expect(watchlistRefs(marketData).references - before.references).toBe(1);
    expect((await bob.add(list.id, nifty, true)).errors).toBeUndefined();
    expect(watchlistRefs(marketData).references - before.references).toBe(127);

    // Deleting the list releases everything it held.
    expect(await bob.ok(DELETE, { id: list.id })).toEqual({ deleteWatchlist: true });
    expect(watchlistRefs(marketData)).toEqual(before);
  });
});

describe('watchlists at capacity and limits (e2e, lowered limits through config)', () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let marketData: MarketDataService;
  let alice: Session;
  let equities: InstrumentRef[];

  beforeAll(async () => {
    t = await createTestApp(
      {},
      {
        configure: (config) => ({
          ...config,
          marketData: {
            registry: { connections: 1, perConnection: 4, total: 4 },
            tierB: { enabled: false },
          },
          watchlist: { maxLists: 2, maxItems: 3 },
        }),
      },
    );
    await t.app.get(InstrumentsService).ready();
    await t.app.get(WatchlistTierAListener).whenRestored();
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    marketData = t.app.get(MarketDataService);
    const adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    alice = await newUser(t, adminToken, 'alice');
    equities = t.app
      .get(InstrumentsService)
      .all()
      .filter((i) => i.segment === ExchangeSegment.NSE_EQ)
      .slice(0, 6)
      .map(ref);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('refuses past the per-user limits with clear errors', async () => {
    const a = await alice.create('A');
    await alice.create('B');
    const third = await alice.call(CREATE, { name: 'C' });
    expect(codes(third)).toEqual(['BAD_USER_INPUT']);
    expect(third.errors![0].message).toMatch(/at most 2 watchlists/);
    for (const e of equities.slice(0, 3)) expect((await alice.add(a.id, e)).errors).toBeUndefined();
    const fourth = await alice.add(a.id, equities[3]);
    expect(codes(fourth)).toEqual(['BAD_USER_INPUT']);
    expect(fourth.errors![0].message).toMatch(/at most 3 instruments/);
    expect(watchlistRefs(marketData)).toEqual({ instruments: 3, references: 3 });
  });

  it('a full feed fails the mutation with CAPACITY_EXCEEDED and changes nothing', async () => {
    const b = (await alice.lists()).find((l) => l.name === 'B')!;
    expect((await alice.add(b.id, equities[3])).errors).toBeUndefined();
    await untilFeedRequest(sim, () => simSubscribed(sim).has(simKey(equities[3])));
    expect(watchlistRefs(marketData)).toEqual({ instruments: 4, references: 4 });

    const refused = await alice.add(b.id, equities[4]);
    expect(codes(refused)).toEqual(['CAPACITY_EXCEEDED']);
    const after = (await alice.lists()).find((l) => l.name === 'B')!;
    expect(after.items.map((i) => i.instrument.securityId)).toEqual([equities[3].securityId]);
    expect(watchlistRefs(marketData)).toEqual({ instruments: 4, references: 4 });
    expect(simSubscribed(sim).has(simKey(equities[4]))).toBe(false);

    // A chain that cannot fit leaves the existing item as it was.
    const nifty = { segment: 'IDX_I', securityId: '13' };
    const a = (await alice.lists()).find((l) => l.name === 'A')!;
    await alice.remove(a.id, equities[2]);
    const chain = await alice.add(a.id, nifty, true);
    expect(codes(chain)).toEqual(['CAPACITY_EXCEEDED']);
    expect((await alice.lists()).find((l) => l.name === 'A')!.items).toHaveLength(2);
    expect(watchlistRefs(marketData)).toEqual({ instruments: 3, references: 3 });
  });

  it('end of day releases by segment (idempotent); restoreAll brings saved items back', async () => {
    const refs = t.app.get(WatchlistReferences);
    expect(watchlistRefs(marketData).references).toBe(3);
    expect(refs.releaseSegments([ExchangeSegment.IDX_I, ExchangeSegment.BSE_EQ])).toBe(0);
    expect(refs.releaseSegments([ExchangeSegment.NSE_EQ])).toBe(3);
    expect(refs.releaseSegments([ExchangeSegment.NSE_EQ])).toBe(0);
    expect(watchlistRefs(marketData)).toEqual({ instruments: 0, references: 0 });
    await untilFeedRequest(sim, () => simSubscribed(sim).size === 0);

    const report = await refs.restoreAll();
    expect(report).toEqual({ items: 3, references: 3, failed: 0 });
    expect(watchlistRefs(marketData)).toEqual({ instruments: 3, references: 3 });
    // A second restore is a no-op for the registry.
    await refs.restoreAll();
    expect(watchlistRefs(marketData)).toEqual({ instruments: 3, references: 3 });
    await untilFeedRequest(sim, () => simSubscribed(sim).has(simKey(equities[3])));
  });
});

describe('watchlists restored at boot (e2e, same database across two boots)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'watchlist-restore-'));
  const env = {
    DATABASE_URL: `sqlite:${path.join(dir, 'data', 'restore.sqlite')}`,
    JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    ADMIN_USERNAME: 'restore-admin',
    ADMIN_PASSWORD: crypto.randomBytes(12).toString('hex'),
  };
  const configure = (config: ResolvedAppConfig) => ({
    ...config,
    marketData: { tierB: { enabled: false } },
  });
  const opened: TestApp[] = [];

  afterAll(async () => {
    for (const app of opened) await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // Engine-independent code; the two boots share a file, which the SQLite run gives cheaply.
  (databaseEngine() === 'sqlite' ? it : it.skip)(
    'a server booting with saved watchlists streams their instruments again',
    async () => {
      const first = await createTestApp(env, { configure });
      opened.push(first);
      await first.app.get(InstrumentsService).ready();
      const token = (await login(first.graphqlUrl, env.ADMIN_USERNAME, env.ADMIN_PASSWORD))
        .accessToken;
      const admin = new Session(first, token);
      const list = await admin.create('Kept');
      const target = ref(
        first.app
          .get(InstrumentsService)
          .all()
          .find((i) => i.segment === ExchangeSegment.NSE_EQ)!,
      );
      expect((await admin.add(list.id, target)).errors).toBeUndefined();
      opened.splice(opened.indexOf(first), 1);
      await first.close();

      const second = await createTestApp(env, { configure });
      opened.push(second);
      await second.app.get(WatchlistTierAListener).whenRestored();
      expect(watchlistRefs(second.app.get(MarketDataService))).toEqual({
        instruments: 1,
        references: 1,
      });
      const sim2 = second.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
      await untilFeedRequest(sim2, () => simSubscribed(sim2).has(simKey(target)));
    },
  );
});
