import type { Instrument } from '@app/dhan';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { MarketDataService } from '../src/market-data/market-data.service';
import { ReferenceKind } from '../src/market-data/feed/subscription-registry';
import { until } from './dhan/helpers';
import { TICKS, TicksClient, type InstrumentRef } from './market-data.helpers';
import { gql, login, createUser } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

const QUOTA = 300;
const FEED_STATUS = 'query { feedStatus { instruments byTier { name instruments references } } }';

type GqlErrors = Array<{ message: string; extensions?: Record<string, unknown> }>;

const ref = (i: Instrument): InstrumentRef => ({ segment: i.segment, securityId: i.securityId });

/**
 * Issue 17: one user held 24,712 of the firm's 25,000 feed slots through 3 sockets x 20 `ticks`
 * x 500 instruments. The quota of distinct instruments per user (lowered here to 300 through
 * MAX_TICK_INSTRUMENTS_PER_USER) counts across all of a user's sockets and subscriptions.
 */
describe('ticks quota per user (e2e, real graphql-ws sockets)', () => {
  let t: TestApp;
  let marketData: MarketDataService;
  let pool: InstrumentRef[];
  let adminToken: string;
  const users: Record<string, { id: string; token: string }> = {};
  const clients: TicksClient[] = [];

  const open = (user: string, instruments: InstrumentRef[]) => {
    const c = new TicksClient(t.graphqlUrl, users[user].token, TICKS, { instruments });
    clients.push(c);
    return c;
  };
  const clientRefs = async () => {
    const r = await gql<{
      feedStatus: { byTier: Array<{ name: string; instruments: number; references: number }> };
    }>(t.adminUrl, FEED_STATUS, {}, adminToken);
    expect(r.errors).toBeUndefined();
    return r.data!.feedStatus.byTier.find((k) => k.name === ReferenceKind.CLIENT)!.instruments;
  };

  beforeAll(async () => {
    t = await createTestApp({
      MAX_TICK_INSTRUMENTS_PER_USER: String(QUOTA),
      TIER_B_ENABLED: 'false',
    });
    await t.app.get(InstrumentsService).ready();
    marketData = t.app.get(MarketDataService);
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    const password = 'quota-user-password-1';
    for (const username of ['hog', 'other']) {
      users[username] = await createUser(t, adminToken, username, password);
    }
    pool = t.app.get(InstrumentsService).all().slice(0, 400).map(ref);
    expect(pool).toHaveLength(400);
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await t?.close();
  });

  it('refuses the hog past the quota across sockets with CAPACITY_EXCEEDED naming it, serves another user, and frees the quota when the hog disconnects', async () => {
    // Socket 1: two subscriptions of 100 distinct instruments each.
    const s1 = open('hog', pool.slice(0, 100));
    expect(await s1.batch(0)).toHaveLength(100);
    const second = await s1.another(TICKS, { instruments: pool.slice(100, 200) });
    expect(second.error).toBeUndefined();
    // Socket 2: 100 instruments, half of them already streamed by socket 1 (counted once).
    const s2 = open('hog', pool.slice(150, 250));
    expect(await s2.batch(0)).toHaveLength(100);
    expect(marketData.tickQuotaOf(users.hog.id)).toEqual({ used: 250, limit: QUOTA });
    expect(await clientRefs()).toBe(250);

    // Socket 3: 100 more would make 350 > 300.
    const s3 = open('hog', pool.slice(250, 350));
    const refused = (await s3.failed()) as GqlErrors;
    expect(refused[0].extensions).toMatchObject({
      code: 'CAPACITY_EXCEEDED',
      quota: 'MAX_TICK_INSTRUMENTS_PER_USER',
      limit: QUOTA,
      used: 250,
      requested: 100,
    });
    expect(refused[0].message).toMatch(/MAX_TICK_INSTRUMENTS_PER_USER/);
    expect(refused[0].message).toMatch(/at most 300 .* you stream 250 .* adds 100 more/);
    // The refusal held nothing.
    expect(marketData.tickQuotaOf(users.hog.id).used).toBe(250);
    expect(await clientRefs()).toBe(250);

    // Up to the quota is fine, on the same socket as the refusal; one more is not.
    expect((await s3.another(TICKS, { instruments: pool.slice(250, 300) })).error).toBeUndefined();
    const over = (await s3.another(TICKS, { instruments: pool.slice(300, 301) }))
      .error as GqlErrors;
    expect(over[0].extensions).toMatchObject({ code: 'CAPACITY_EXCEEDED', used: 300 });
    // Instruments the hog already streams cost nothing more.
    expect((await s2.another(TICKS, { instruments: pool.slice(0, 300) })).error).toBeUndefined();
    expect(marketData.tickQuotaOf(users.hog.id).used).toBe(QUOTA);
    expect(await clientRefs()).toBe(QUOTA);

    // Another user has a quota of their own (20 of these instruments are shared).
    const other = open('other', pool.slice(280, 380));
    expect(await other.batch(0)).toHaveLength(100);
    expect(marketData.tickQuotaOf(users.other.id).used).toBe(100);
    expect(await clientRefs()).toBe(380);

    // The hog leaves: its references and quota go, the other user's stay.
    for (const c of [s1, s2, s3]) await c.dispose();
    await until(
      () => marketData.tickQuotaOf(users.hog.id).used === 0,
      "the hog's quota is freed",
      [],
      30_000,
    );
    expect(await clientRefs()).toBe(100);
    expect(marketData.tickQuotaOf(users.other.id).used).toBe(100);

    // And may take its whole quota again.
    const back = open('hog', pool.slice(0, QUOTA));
    expect(await back.batch(0)).toHaveLength(QUOTA);
    expect(marketData.tickQuotaOf(users.hog.id).used).toBe(QUOTA);
    expect(other.closeInfo).toBeUndefined();
  }, 120_000);
});
