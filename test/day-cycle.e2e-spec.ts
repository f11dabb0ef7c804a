import { ExchangeSegment, FeedMode, type Instrument } from '@app/dhan';
import { getRepositoryToken } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { MarketDataService } from '../src/market-data/market-data.service';
import { ReferenceKind } from '../src/market-data/feed/subscription-registry';
import { TierBSource } from '../src/market-data/chains/tier-b';
import { TierBService } from '../src/market-data/chains/tier-b.service';
import { DayCycleService } from '../src/scheduler/day-cycle.service';
import { DayCycleRunEntity } from '../src/scheduler/entities/day-cycle-run.entity';
import { WatchlistTierAListener } from '../src/watchlist/watchlist-tier-a.listener';
import { gql, login } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';
import { ist } from '../src/calendar/__tests__/calendar.factory';

const CREATE_USER = `mutation U($input: CreateUserInput!) { createUser(input: $input) { id } }`;
const CREATE = `mutation C($name: String!) { createWatchlist(name: $name) { id } }`;
const ADD = `mutation A($watchlistId: ID!, $instrument: InstrumentInput!) {
  addWatchlistItem(watchlistId: $watchlistId, instrument: $instrument) { id }
}`;
const PASSWORD = 'day-cycle-e2e-Passw0rd!';

const ref = (i: Instrument) => ({ segment: i.segment, securityId: i.securityId });

describe('day cycle: end of day and start of day (e2e, embedded simulator)', () => {
  let t: TestApp;
  let marketData: MarketDataService;
  let dayCycle: DayCycleService;
  let runs: Repository<DayCycleRunEntity>;

  const refs = (kind: ReferenceKind) =>
    marketData.feedStatus().byTier.find((k) => k.name === kind)?.references ?? 0;

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
    marketData = t.app.get(MarketDataService);
    dayCycle = t.app.get(DayCycleService);
    runs = t.app.get(getRepositoryToken(DayCycleRunEntity));

    const adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    const created = await gql(
      t.adminUrl,
      CREATE_USER,
      { input: { username: 'trader', password: PASSWORD, role: 'USER' } },
      adminToken,
    );
    expect(created.errors).toBeUndefined();
    const token = (await login(t.graphqlUrl, 'trader', PASSWORD)).accessToken;
    const list = await gql<{ createWatchlist: { id: string } }>(
      t.graphqlUrl,
      CREATE,
      { name: 'Day' },
      token,
    );
    expect(list.errors).toBeUndefined();
    const equity = instruments.all().find((i) => i.segment === ExchangeSegment.NSE_EQ)!;
    const commodity = instruments.all().find((i) => i.segment === ExchangeSegment.MCX_COMM)!;
    expect(equity).toBeDefined();
    expect(commodity).toBeDefined();
    for (const instrument of [equity, commodity]) {
      const added = await gql(
        t.graphqlUrl,
        ADD,
        { watchlistId: list.data!.createWatchlist.id, instrument: ref(instrument) },
        token,
      );
      expect(added.errors).toBeUndefined();
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  it('is skipped on an NSE holiday (2026-01-26) and on a weekend, and releases nothing', async () => {
    const before = refs(ReferenceKind.WATCHLIST);
    expect(before).toBe(2);
    const holiday = await dayCycle.runEndOfDay('NSE_BSE', { at: ist('2026-01-26T15:30') });
    expect(holiday).toMatchObject({ outcome: 'SKIPPED', tradingDate: '2026-01-26', released: 0 });
    for (const group of ['NSE_BSE', 'MCX'] as const) {
      const weekend = await dayCycle.runEndOfDay(group, { at: ist('2026-01-24T15:30') });
      expect(weekend).toMatchObject({ outcome: 'SKIPPED', tradingDate: '2026-01-24' });
    }
    expect(refs(ReferenceKind.WATCHLIST)).toBe(before);
    const skipped = await runs.findBy({ outcome: 'SKIPPED' });
    expect(skipped).toHaveLength(3);
    expect(skipped.every((r) => r.doneKey === null)).toBe(true);
  });

  it('NSE/BSE end of day releases the NSE item only, keeps MCX, Tier B and positions, and writes its report', async () => {
    const tierB = refs(ReferenceKind.TIER_B);
    expect(tierB).toBeGreaterThan(0);
    // An open position on an NSE instrument holds a POSITION reference: end of day keeps it.
    const held = t.app
      .get(InstrumentsService)
      .all()
      .filter((i) => i.segment === ExchangeSegment.NSE_EQ)[1];
    const position = {
      segment: held.segment,
      securityId: held.securityId,
      kind: ReferenceKind.POSITION,
      holderId: 'position:day-cycle-test',
      mode: FeedMode.QUOTE,
    };
    marketData.acquire([position]);
    expect(refs(ReferenceKind.POSITION)).toBe(1);
    const report = await dayCycle.runEndOfDay('NSE_BSE', { at: ist('2026-01-27T15:30') });
    expect(refs(ReferenceKind.POSITION)).toBe(1);
    marketData.release([position]);
    expect(report).toMatchObject({ outcome: 'DONE', tradingDate: '2026-01-27', released: 1 });
    expect(refs(ReferenceKind.WATCHLIST)).toBe(1);
    expect(refs(ReferenceKind.TIER_B)).toBe(tierB);
    expect(report.before[ReferenceKind.WATCHLIST]).toBe(2);
    expect(report.after[ReferenceKind.WATCHLIST]).toBe(1);

    const row = await runs.findOneByOrFail({ id: report.id });
    expect(row).toMatchObject({
      kind: 'EOD',
      group: 'NSE_BSE',
      tradingDate: '2026-01-27',
      outcome: 'DONE',
      doneKey: 'EOD:NSE_BSE:2026-01-27',
    });
    expect(row.durationMs).toBeGreaterThanOrEqual(0);
    expect(JSON.parse(row.countsBefore)).toMatchObject({ WATCHLIST: 2, TIER_B: tierB });
    expect(JSON.parse(row.countsAfter)).toMatchObject({ WATCHLIST: 1, TIER_B: tierB });
  });

  it('a second run for the same trading date and group changes nothing and says so', async () => {
    const before = marketData.feedStatus().byTier;
    const again = await dayCycle.runEndOfDay('NSE_BSE', { at: ist('2026-01-27T15:31') });
    expect(again).toMatchObject({ outcome: 'NOOP', released: 0 });
    expect(marketData.feedStatus().byTier).toEqual(before);
    expect(await runs.countBy({ kind: 'EOD', group: 'NSE_BSE', outcome: 'DONE' })).toBe(1);
  });

  it('MCX end of day then releases the MCX item, Tier B still unchanged', async () => {
    const tierB = refs(ReferenceKind.TIER_B);
    const report = await dayCycle.runEndOfDay('MCX', { at: ist('2026-01-27T23:55') });
    expect(report).toMatchObject({ outcome: 'DONE', released: 1 });
    expect(refs(ReferenceKind.WATCHLIST)).toBe(0);
    expect(refs(ReferenceKind.TIER_B)).toBe(tierB);
  });

  it('start of day refreshes the master and restores the watchlists released at end of day', async () => {
    const tierB = refs(ReferenceKind.TIER_B);
    const report = await dayCycle.runStartOfDay({ at: ist('2026-01-28T08:45') });
    expect(report).toMatchObject({ kind: 'SOD', outcome: 'DONE', tradingDate: '2026-01-28' });
    expect(report.instruments.count).toBeGreaterThan(0);
    expect(report.restored).toEqual({ items: 2, references: 2, failed: 0 });
    expect(refs(ReferenceKind.WATCHLIST)).toBe(2);
    expect(refs(ReferenceKind.TIER_B)).toBe(tierB);
    const row = await runs.findOneByOrFail({ id: report.id });
    expect(JSON.parse(row.countsAfter)).toMatchObject({ WATCHLIST: 2 });

    const again = await dayCycle.runStartOfDay({ at: ist('2026-01-28T08:46') });
    expect(again.outcome).toBe('NOOP');
  });

  it('two end-of-day runs started together: one acts, the other is a no-op', async () => {
    const at = ist('2026-01-28T15:30');
    const [a, b] = await Promise.all([
      dayCycle.runEndOfDay('NSE_BSE', { at }),
      dayCycle.runEndOfDay('NSE_BSE', { at }),
    ]);
    expect([a.outcome, b.outcome].sort()).toEqual(['DONE', 'NOOP']);
    expect(a.released + b.released).toBe(1);
    expect(refs(ReferenceKind.WATCHLIST)).toBe(1);
  });

  it('force reruns a done date (no second DONE key) and runs on a holiday', async () => {
    const forced = await dayCycle.runEndOfDay('NSE_BSE', {
      at: ist('2026-01-28T15:45'),
      force: true,
    });
    expect(forced.outcome).toBe('DONE');
    const row = await runs.findOneByOrFail({ id: forced.id });
    expect(row.doneKey).toBeNull();
    const holiday = await dayCycle.runEndOfDay('MCX', {
      at: ist('2026-01-26T08:00'),
      force: true,
    });
    expect(holiday).toMatchObject({ outcome: 'DONE', released: 1 });
    expect(refs(ReferenceKind.WATCHLIST)).toBe(0);
  });
});
