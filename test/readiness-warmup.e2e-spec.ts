import { gql, login, errorCodes } from './utils/graphql-client';
import { ready } from './utils/readiness';
import { createTestApp, type TestApp } from './utils/test-app';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { TICKS, TicksClient } from './market-data.helpers';

describe('readiness during warm-up (e2e)', () => {
  let t: TestApp;
  let ticks: TicksClient | undefined;

  beforeAll(async () => {
    // The scrip master answers 6 s late: the server is up and answering before it is loaded.
    t = await createTestApp(
      {},
      {
        simulatorOptions: { rest: { scripMasterDelayMs: 6_000 } },
        // Parsing the master on a loaded machine can take long: wait generously, never fail.
        configure: (config) => ({ ...config, marketData: { warmupWaitMs: 100_000 } }),
      },
    );
  });

  afterAll(async () => {
    await ticks?.dispose();
    await t?.close();
  });

  it('/ready is 503 naming the instrument master until it is loaded; quote is UNAVAILABLE, a ticks subscription waits and gets NIFTY', async () => {
    const instruments = t.app.get(InstrumentsService);
    const first = await ready(t);
    // The server's first answer: still warming up.
    expect(instruments.loaded).toBe(false);
    expect(first.status).toBe(503);
    expect(first.body.status).toBe('unavailable');
    expect(first.body.checks.instruments).toBe('down');
    expect(first.body.details.instruments.reason).toBe('instrument master loading');
    expect(first.body.details.instruments.since).not.toBeNull();

    const token = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    // Opened during warm-up: it waits for the master instead of failing with NOT_FOUND.
    ticks = new TicksClient(t.graphqlUrl, token, TICKS, {
      instruments: [{ segment: 'IDX_I', securityId: '13' }],
    });
    const quote = await gql(
      t.graphqlUrl,
      `{ quote(segment: IDX_I, securityId: "13") { ltp } }`,
      {},
      token,
    );
    expect(errorCodes(quote)).toEqual(['UNAVAILABLE']);
    expect(quote.errors?.[0].extensions).toMatchObject({ retryable: true });

    const snapshot = (await Promise.race([ticks.batch(0), ticks.failed()])) as Array<{
      segment: string;
      securityId: string;
    }>;
    expect(ticks.error).toBeUndefined();
    expect(snapshot.map((s) => `${s.segment}:${s.securityId}`)).toEqual(['IDX_I:13']);
    expect(instruments.loaded).toBe(true);

    const deadline = Date.now() + 30_000;
    let now = await ready(t);
    while (now.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      now = await ready(t);
    }
    expect(now.status).toBe(200);
    expect(now.body.checks).toMatchObject({
      instruments: 'up',
      feed: 'up',
      'order-updates': 'up',
      'broker-token': 'up',
    });
    expect(now.body.details).toEqual({});
  });
});
