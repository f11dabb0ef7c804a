import { MarketStatusService } from '../src/calendar/market-status';
import { Exchange } from '../src/calendar/market-calendar.types';
import { errorCodes, gql, login, subscribe } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

interface StatusView {
  exchange: string;
  status: string;
  tradingDate: string | null;
  closesAt: string | null;
  nextOpen: string | null;
}

const FIELDS = 'exchange status tradingDate closesAt nextOpen';

describe('marketStatus (e2e)', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp();
    token = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
  });

  afterAll(async () => {
    await t?.close();
  });

  /** The calendar's answer for an exchange just before and just after the request. */
  function expected(exchange: Exchange, at: Date): StatusView {
    const s = t.app.get(MarketStatusService).status(exchange, at);
    return {
      exchange: s.exchange,
      status: s.status,
      tradingDate: s.tradingDate,
      closesAt: s.closesAt?.toISOString() ?? null,
      nextOpen: s.nextOpen?.toISOString() ?? null,
    };
  }

  it('answers every exchange (NSE, BSE, MCX) from the market calendar, or one when asked', async () => {
    const before = new Date();
    const all = await gql<{ marketStatus: StatusView[] }>(
      t.graphqlUrl,
      `{ marketStatus { ${FIELDS} } }`,
      {},
      token,
    );
    const after = new Date();
    expect(all.errors).toBeUndefined();
    const rows = all.data!.marketStatus;
    expect(rows.map((r) => r.exchange)).toEqual(['NSE', 'BSE', 'MCX']);
    for (const row of rows) {
      const exchange = row.exchange as Exchange;
      expect([expected(exchange, before), expected(exchange, after)]).toContainEqual(row);
      expect(['OPEN', 'PRE_OPEN', 'CLOSED']).toContain(row.status);
      // CLOSED always names the next open; OPEN names its close.
      if (row.status === 'CLOSED') expect(row.nextOpen).not.toBeNull();
      if (row.status === 'OPEN') expect(row.closesAt).not.toBeNull();
    }

    const one = await gql<{ marketStatus: StatusView[] }>(
      t.graphqlUrl,
      `{ marketStatus(exchange: MCX) { ${FIELDS} } }`,
      {},
      token,
    );
    expect(one.data!.marketStatus.map((r) => r.exchange)).toEqual(['MCX']);

    const bad = await gql(t.graphqlUrl, `{ marketStatus(exchange: LSE) { status } }`, {}, token);
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);

    const anonymous = await gql(t.graphqlUrl, `{ marketStatus { status } }`);
    expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);
  });

  it('the subscription answers at once with the current status', async () => {
    const before = new Date();
    const probe = subscribe(
      t.graphqlUrl.replace(/^http/, 'ws'),
      `subscription { marketStatus(exchange: NSE) { ${FIELDS} } }`,
      { authorization: `Bearer ${token}` },
    );
    try {
      const first = (await probe.firstValue) as { data: { marketStatus: StatusView } };
      const after = new Date();
      expect([expected(Exchange.NSE, before), expected(Exchange.NSE, after)]).toContainEqual(
        first.data.marketStatus,
      );
    } finally {
      await probe.dispose();
    }
  });
});
