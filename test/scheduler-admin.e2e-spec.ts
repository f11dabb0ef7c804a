import { ExchangeSegment } from '@app/dhan';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { MarketDataService } from '../src/market-data/market-data.service';
import { ReferenceKind } from '../src/market-data/feed/subscription-registry';
import { DayCycleService } from '../src/scheduler/day-cycle.service';
import { WatchlistTierAListener } from '../src/watchlist/watchlist-tier-a.listener';
import { errorCodes, gql, login } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

const REPORT = `id kind group tradingDate outcome reason released durationMs
  before { kind references } after { kind references }
  instruments { accepted count reason } restored { items references failed }`;
const EOD = `mutation E($group: ExchangeGroup!, $force: Boolean) {
  runEndOfDay(group: $group, force: $force) { ${REPORT} }
}`;
const SOD = `mutation S($force: Boolean) { runStartOfDay(force: $force) { ${REPORT} } }`;
const AUDIT = `query { auditLog(limit: 20) { actorUsername action target payload } }`;
const PASSWORD = 'scheduler-admin-Passw0rd!';

interface Report {
  id: string;
  kind: string;
  group: string;
  tradingDate: string;
  outcome: string;
  reason: string | null;
  released: number;
  before: Array<{ kind: string; references: number }>;
  after: Array<{ kind: string; references: number }>;
  instruments: { accepted: boolean; count: number; reason: string | null } | null;
  restored: { items: number; references: number; failed: number } | null;
}

const refsOf = (list: Report['before'], kind: string) =>
  list.find((c) => c.kind === kind)?.references ?? 0;

describe('admin runEndOfDay / runStartOfDay (e2e)', () => {
  let t: TestApp;
  let adminToken: string;
  let userToken: string;
  let marketData: MarketDataService;
  const watchlistRefs = () =>
    marketData.feedStatus().byTier.find((k) => k.name === ReferenceKind.WATCHLIST)?.references ?? 0;

  beforeAll(async () => {
    t = await createTestApp(
      {},
      { configure: (config) => ({ ...config, marketData: { tierB: { enabled: false } } }) },
    );
    const instruments = t.app.get(InstrumentsService);
    await instruments.ready();
    await t.app.get(WatchlistTierAListener).whenRestored();
    marketData = t.app.get(MarketDataService);
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    const created = await gql(
      t.adminUrl,
      `mutation U($input: CreateUserInput!) { createUser(input: $input) { id } }`,
      { input: { username: 'trader', password: PASSWORD, role: 'USER' } },
      adminToken,
    );
    expect(created.errors).toBeUndefined();
    userToken = (await login(t.graphqlUrl, 'trader', PASSWORD)).accessToken;
    // One NSE watchlist item: a WATCHLIST reference that end of day releases.
    const list = await gql<{ createWatchlist: { id: string } }>(
      t.graphqlUrl,
      `mutation C($name: String!) { createWatchlist(name: $name) { id } }`,
      { name: 'Day' },
      userToken,
    );
    const equity = instruments.all().find((i) => i.segment === ExchangeSegment.NSE_EQ)!;
    const added = await gql(
      t.graphqlUrl,
      `mutation A($watchlistId: ID!, $instrument: InstrumentInput!) {
        addWatchlistItem(watchlistId: $watchlistId, instrument: $instrument) { id }
      }`,
      {
        watchlistId: list.data!.createWatchlist.id,
        instrument: { segment: equity.segment, securityId: equity.securityId },
      },
      userToken,
    );
    expect(added.errors).toBeUndefined();
    expect(watchlistRefs()).toBe(1);
    // Boot (the instrument master into the database) is slow on a loaded machine.
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('refuses a USER token with FORBIDDEN and an unknown group with BAD_USER_INPUT, running nothing', async () => {
    const forbidden = await gql(t.adminUrl, EOD, { group: 'NSE_BSE', force: true }, userToken);
    expect(errorCodes(forbidden)).toEqual(['FORBIDDEN']);
    const bad = await gql(
      t.adminUrl,
      'mutation { runEndOfDay(group: NYSE) { id } }',
      {},
      adminToken,
    );
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(watchlistRefs()).toBe(1);
    expect(await t.app.get(DayCycleService).history()).toEqual([]);
  });

  it('end of day releases the NSE watchlist reference, start of day restores it; both are audited', async () => {
    const eod = await gql<{ runEndOfDay: Report }>(
      t.adminUrl,
      EOD,
      { group: 'NSE_BSE', force: true },
      adminToken,
    );
    expect(eod.errors).toBeUndefined();
    const report = eod.data!.runEndOfDay;
    expect(report).toMatchObject({
      kind: 'EOD',
      group: 'NSE_BSE',
      outcome: 'DONE',
      released: 1,
      instruments: null,
      restored: null,
    });
    expect(refsOf(report.before, 'WATCHLIST')).toBe(1);
    expect(refsOf(report.after, 'WATCHLIST')).toBe(0);
    expect(watchlistRefs()).toBe(0);

    // Not forced, the same trading date again: a no-op (or skipped on a non-trading day).
    const dayCycle = t.app.get(DayCycleService);
    const again = await gql<{ runEndOfDay: Report }>(
      t.adminUrl,
      EOD,
      { group: 'NSE_BSE' },
      adminToken,
    );
    const trading = dayCycle.isTradingDay('NSE_BSE', report.tradingDate);
    expect(again.data!.runEndOfDay).toMatchObject({
      outcome: trading ? 'NOOP' : 'SKIPPED',
      released: 0,
    });

    const sod = await gql<{ runStartOfDay: Report }>(t.adminUrl, SOD, { force: true }, adminToken);
    expect(sod.errors).toBeUndefined();
    expect(sod.data!.runStartOfDay).toMatchObject({
      kind: 'SOD',
      group: 'ALL',
      outcome: 'DONE',
      restored: { items: 1, references: 1, failed: 0 },
    });
    expect(sod.data!.runStartOfDay.instruments!.count).toBeGreaterThan(0);
    expect(watchlistRefs()).toBe(1);

    const rows = await dayCycle.history();
    expect(rows.map((r) => r.id)).toEqual(
      expect.arrayContaining([report.id, sod.data!.runStartOfDay.id]),
    );
    const audit = await gql<{
      auditLog: Array<{
        actorUsername: string;
        action: string;
        target: string | null;
        payload: string;
      }>;
    }>(t.adminUrl, AUDIT, {}, adminToken);
    const mine = audit.data!.auditLog.filter((e) => e.action.startsWith('run'));
    const entries = mine.map((e) => ({
      ...e,
      payload: JSON.parse(e.payload) as Record<string, unknown>,
    }));
    expect(entries.map((e) => [e.action, e.target, e.actorUsername]).sort()).toEqual([
      ['runEndOfDay', 'NSE_BSE', t.admin.username],
      ['runEndOfDay', 'NSE_BSE', t.admin.username],
      ['runStartOfDay', null, t.admin.username],
    ]);
    expect(entries.map((e) => e.payload)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ force: true, outcome: 'DONE', released: 1 }),
        expect.objectContaining({ force: false, outcome: trading ? 'NOOP' : 'SKIPPED' }),
        expect.objectContaining({ force: true, outcome: 'DONE', restoredItems: 1 }),
      ]),
    );
  });
});
