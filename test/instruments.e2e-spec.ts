import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Universe } from '@app/dhan-simulator';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { InstrumentIndex, SearchRank } from '../src/instruments/instrument-index';
import { InstrumentStore } from '../src/instruments/instrument.store';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { errorCodes, gql, login } from './utils/graphql-client';
import { MarketCalendar } from '../src/calendar/market-calendar';
import { Exchange } from '../src/calendar/market-calendar.types';
import { createTestApp, type TestApp } from './utils/test-app';

interface InstrumentView {
  segment: string;
  securityId: string;
  symbol: string;
  displayName: string;
  instrumentType: string;
  underlying: string | null;
  expiry: string | null;
  strike: number | null;
  optionType: string | null;
  lotSize: number;
  tickSize: number;
}

interface ReloadView {
  accepted: boolean;
  count: number;
  reason: string | null;
  version: number;
}

const FIELDS =
  'segment securityId symbol displayName instrumentType underlying expiry strike optionType lotSize tickSize';
const SEARCH = `query Search($search: String!, $limit: Int) {
  instruments(search: $search, limit: $limit) { ${FIELDS} }
}`;
const INSTRUMENT = `query One($segment: ExchangeSegment!, $securityId: String!) {
  instrument(segment: $segment, securityId: $securityId) { ${FIELDS} }
}`;
const EXPIRIES = 'query Expiries($underlying: String!) { expiries(underlying: $underlying) }';
const RELOAD = 'mutation { reloadInstruments { accepted count reason version } }';
const AUDIT = 'query { auditLog(limit: 5) { action payload } }';

const IST_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Kolkata',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

async function search(t: TestApp, token: string, text: string, limit?: number) {
  return gql<{ instruments: InstrumentView[] }>(
    t.graphqlUrl,
    SEARCH,
    { search: text, limit },
    token,
  );
}

async function reload(t: TestApp, token: string): Promise<ReloadView> {
  const response = await gql<{ reloadInstruments: ReloadView }>(t.adminUrl, RELOAD, {}, token);
  expect(response.errors).toBeUndefined();
  return response.data!.reloadInstruments;
}

describe('instruments (e2e, embedded simulator)', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.get(InstrumentsService).ready();
    token = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers UNAUTHENTICATED without a token', async () => {
    const response = await gql(t.graphqlUrl, SEARCH, { search: 'NIFTY' });
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('ranks the exact match first, then prefixes, then contains', async () => {
    const response = await search(t, token, 'nifty', 100);
    expect(response.errors).toBeUndefined();
    const found = response.data!.instruments;
    expect(found).toHaveLength(100);
    expect(found[0]).toMatchObject({ segment: 'IDX_I', securityId: '13', symbol: 'NIFTY' });
    const ranks = found.map((i) =>
      InstrumentIndex.rank({ ...i, exchange: 'NSE' } as never, 'nifty'),
    );
    expect(ranks[0]).toBe(SearchRank.EXACT);
    expect(ranks.every((rank) => rank !== undefined)).toBe(true);
    expect([...ranks].sort()).toEqual(ranks);
  });

  it('finds by display name, and by a fragment inside a name', async () => {
    const bank = (await search(t, token, 'Nifty Bank')).data!.instruments;
    expect(bank[0]).toMatchObject({ segment: 'IDX_I', symbol: 'BANKNIFTY' });
    const inside = (await search(t, token, 'OIL', 5)).data!.instruments;
    expect(inside.length).toBeGreaterThan(0);
    expect(inside.every((i) => `${i.symbol} ${i.displayName}`.toUpperCase().includes('OIL'))).toBe(
      true,
    );
  });

  it('returns 20 results by default and refuses a limit outside 1..100 or an empty search', async () => {
    expect((await search(t, token, 'NIFTY')).data!.instruments).toHaveLength(20);
    const explicitNull = await gql<{ instruments: InstrumentView[] }>(
      t.graphqlUrl,
      SEARCH,
      { search: 'NIFTY', limit: null },
      token,
    );
    expect(explicitNull.data!.instruments).toHaveLength(20);
    expect((await search(t, token, 'NIFTY', 100)).data!.instruments).toHaveLength(100);
    expect(errorCodes(await search(t, token, 'NIFTY', 101))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await search(t, token, 'NIFTY', 0))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await search(t, token, ''))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await search(t, token, '   '))).toEqual(['BAD_USER_INPUT']);
  });

  it('looks one instrument up, or answers null', async () => {
    const found = await gql<{ instrument: InstrumentView | null }>(
      t.graphqlUrl,
      INSTRUMENT,
      { segment: 'IDX_I', securityId: '13' },
      token,
    );
    expect(found.data!.instrument).toMatchObject({
      symbol: 'NIFTY',
      instrumentType: 'INDEX',
      lotSize: 1,
      tickSize: 0.05,
      expiry: null,
    });
    const missing = await gql<{ instrument: InstrumentView | null }>(
      t.graphqlUrl,
      INSTRUMENT,
      { segment: 'NSE_EQ', securityId: '999999999' },
      token,
    );
    expect(missing.errors).toBeUndefined();
    expect(missing.data!.instrument).toBeNull();
  });

  it('lists NIFTY option expiries ascending, Tuesdays (a Tuesday holiday moves it to the trading day before), none past', async () => {
    const response = await gql<{ expiries: string[] }>(
      t.graphqlUrl,
      EXPIRIES,
      { underlying: 'NIFTY' },
      token,
    );
    expect(response.errors).toBeUndefined();
    const expiries = response.data!.expiries;
    expect(expiries.length).toBeGreaterThan(3);
    expect([...expiries].sort()).toEqual(expiries);
    expect(new Set(expiries).size).toBe(expiries.length);
    const today = IST_DATE.format(new Date());
    const calendar = t.app.get(MarketCalendar);
    for (const expiry of expiries) {
      expect(expiry >= today).toBe(true);
      const weekday = new Date(`${expiry}T00:00:00Z`).getUTCDay();
      if (weekday !== 2) {
        // Moved back from a Tuesday holiday to the trading day before it.
        const tuesday = calendar.nextTradingDay(Exchange.NSE, expiry);
        const nominal = new Date(`${expiry}T00:00:00Z`);
        nominal.setUTCDate(nominal.getUTCDate() + ((2 - weekday + 7) % 7));
        const listedTuesday = nominal.toISOString().slice(0, 10);
        expect(calendar.holiday(Exchange.NSE, listedTuesday)).not.toBeNull();
        expect(tuesday > listedTuesday).toBe(true);
      }
      expect(calendar.isTradingDay(Exchange.NSE, expiry)).toBe(true);
    }
    // 26 Jan 2027 (Republic Day) is a Tuesday: listed on Monday the 25th instead.
    if (expiries.some((e) => e >= '2027-01-20' && e <= '2027-01-31')) {
      expect(expiries).not.toContain('2027-01-26');
      expect(expiries).toContain('2027-01-25');
    }
  });

  it('answers NOT_FOUND for an unknown underlying', async () => {
    const response = await gql(t.graphqlUrl, EXPIRIES, { underlying: 'NOSUCHNAME' }, token);
    expect(errorCodes(response)).toEqual(['NOT_FOUND']);
  });

  it('reloads a good file: the version bumps, and the reload is audit-logged', async () => {
    const service = t.app.get(InstrumentsService);
    const before = service.version;
    const report = await reload(t, token);
    expect(report).toMatchObject({ accepted: true, reason: null, version: before + 1 });
    expect(report.count).toBe(service.all().length);
    const audit = await gql<{ auditLog: { action: string; payload: string }[] }>(
      t.adminUrl,
      AUDIT,
      {},
      token,
    );
    expect(audit.data!.auditLog[0].action).toBe('reloadInstruments');
    expect(JSON.parse(audit.data!.auditLog[0].payload)).toMatchObject({ accepted: true });
  });

  it('keeps serving the old master when the download fails (simulator fault)', async () => {
    const service = t.app.get(InstrumentsService);
    const simulator = t.app.get<symbol, DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    const before = service.version;
    simulator.rest.failWith({ pattern: 'GET /api-data/', count: 1, status: 503 });
    const report = await reload(t, token);
    expect(report).toMatchObject({ accepted: false, count: 0, version: before });
    expect(report.reason).toMatch(/HTTP 503/);
    expect((await search(t, token, 'NIFTY', 1)).data!.instruments[0].symbol).toBe('NIFTY');
  });

  it('refuses reloadInstruments to a USER', async () => {
    const password = 'a sufficiently long password';
    await gql(
      t.adminUrl,
      'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
      { input: { username: 'dealer-instruments', password, role: 'USER' } },
      token,
    );
    const user = await login(t.graphqlUrl, 'dealer-instruments', password);
    const response = await gql(t.adminUrl, RELOAD, {}, user.accessToken);
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
  });
});

type ScripMode = 'good' | 'bad' | 'garbage' | 'fail';

/** A scrip-master server the test controls: the simulator's file, a broken one, or a 500. */
async function startScripServer(): Promise<{
  url: string;
  setMode(mode: ScripMode): void;
  close(): Promise<void>;
}> {
  const csv = new Universe({ seed: 42, today: IST_DATE.format(new Date()) }).toCsv();
  const truncated = csv.split('\n').slice(0, 51).join('\n');
  let mode: ScripMode = 'good';
  const server = http.createServer((_request, response) => {
    if (mode === 'fail') response.writeHead(500).end('down');
    else if (mode === 'garbage') response.writeHead(200).end('<html>maintenance</html>\n');
    else
      response.writeHead(200, { 'content-type': 'text/csv' }).end(mode === 'bad' ? truncated : csv);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api-scrip-master.csv`,
    setMode: (next) => (mode = next),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('instruments (e2e, bad files and restart)', () => {
  let scrip: Awaited<ReturnType<typeof startScripServer>>;
  let first: TestApp;
  let restarted: TestApp | undefined;
  let token: string;

  beforeAll(async () => {
    scrip = await startScripServer();
    first = await createTestApp({ DHAN_INSTRUMENTS_URL: scrip.url });
    await first.app.get(InstrumentsService).ready();
    token = (await login(first.graphqlUrl, first.admin.username, first.admin.password)).accessToken;
  });

  afterAll(async () => {
    await restarted?.close();
    await first?.close();
    await scrip?.close();
  });

  it('refuses a truncated file and a file that is not a scrip master, serving the old one', async () => {
    const service = first.app.get(InstrumentsService);
    const version = service.version;
    const count = service.all().length;

    scrip.setMode('bad');
    const truncated = await reload(first, token);
    expect(truncated).toMatchObject({ accepted: false, count: 50, version });
    expect(truncated.reason).toMatch(/only 50 instruments \(minimum 1000\)/);

    scrip.setMode('garbage');
    const garbage = await reload(first, token);
    expect(garbage).toMatchObject({ accepted: false, version });
    expect(garbage.reason).toMatch(/unrecognised header/);

    expect(service.all()).toHaveLength(count);
    expect((await search(first, token, 'BANKNIFTY', 1)).data!.instruments[0]).toMatchObject({
      segment: 'IDX_I',
    });
  });

  it('accepts the good file again: the version bumps, the stored copy is left as it is', async () => {
    const service = first.app.get(InstrumentsService);
    const version = service.version;
    scrip.setMode('good');
    expect(await reload(first, token)).toMatchObject({ accepted: true, version: version + 1 });
    const loads = await first.app.get(InstrumentStore).latestLoads(4);
    expect(loads.map((l) => l.outcome)).toEqual(['UNCHANGED', 'REJECTED', 'REJECTED', 'ACCEPTED']);
  });

  it('restarts with the download failing and serves the stored master', async () => {
    const count = first.app.get(InstrumentsService).all().length;
    await first.app.close();
    scrip.setMode('fail');
    restarted = await createTestApp({
      DATABASE_URL: first.config.database.url,
      ADMIN_USERNAME: first.admin.username,
      ADMIN_PASSWORD: first.admin.password,
      DHAN_INSTRUMENTS_URL: scrip.url,
    });
    const service = restarted.app.get(InstrumentsService);
    await service.ready();
    expect(service.version).toBe(1);
    expect(service.all()).toHaveLength(count);
    const loads = await restarted.app.get(InstrumentStore).latestLoads(2);
    expect(loads.map((l) => l.outcome)).toEqual(['RESTORED', 'FAILED']);

    const session = await login(restarted.graphqlUrl, first.admin.username, first.admin.password);
    const found = await search(restarted, session.accessToken, 'NIFTY', 1);
    expect(found.data!.instruments[0]).toMatchObject({ segment: 'IDX_I', securityId: '13' });
  });
});
