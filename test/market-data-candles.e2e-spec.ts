import { ExchangeSegment, type Instrument } from '@app/dhan';
import type { DhanSimulator } from '@app/dhan-simulator';
import { DataSource } from 'typeorm';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { CandleEntity } from '../src/market-data/candles/entities/candle.entity';
import { errorCodes, gql, login } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';
import { TicksClient } from './market-data.helpers';

const INTRADAY = 'POST /v2/charts/intraday';
const DAILY = 'POST /v2/charts/historical';
const CANDLES = `query C($i: InstrumentInput!, $interval: CandleInterval!, $from: DateTime!, $to: DateTime!) {
  candles(instrument: $i, interval: $interval, from: $from, to: $to) { time open high low close volume oi complete }
}`;

interface CandleView {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  oi: number | null;
  complete: boolean;
}

const IST_MS = 19_800_000;
/** IST midnight starting the IST date `days` from today's, as a Date. */
function istMidnight(days: number): Date {
  const today = new Date(Date.now() + IST_MS).toISOString().slice(0, 10);
  return new Date(Date.parse(`${today}T00:00:00Z`) - IST_MS + days * 86_400_000);
}
const istClock = (iso: string) => new Date(Date.parse(iso) + IST_MS).toISOString().slice(11, 16);

describe('candles (e2e, embedded simulator, both engines)', () => {
  let t: TestApp;
  let token: string;
  let sim: DhanSimulator;
  let stock: Instrument;
  const clients: TicksClient[] = [];
  const count = (endpoint: string) => sim.rest.stats.byEndpoint[endpoint] ?? 0;
  const candles = async (variables: Record<string, unknown>) => {
    const res = await gql<{ candles: CandleView[] }>(t.graphqlUrl, CANDLES, variables, token);
    expect(res.errors).toBeUndefined();
    return res.data!.candles;
  };

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.get(InstrumentsService).ready();
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    token = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    stock = t.app
      .get(InstrumentsService)
      .all()
      .find((i) => i.segment === ExchangeSegment.NSE_EQ && i.instrumentType === 'EQUITY')!;
  });

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await t?.close();
  });

  it('past 5-minute candles come from DhanHQ once, then from the database cache', async () => {
    const variables = {
      i: { segment: stock.segment, securityId: stock.securityId },
      interval: 'M5',
      from: istMidnight(-7).toISOString(),
      to: istMidnight(0).toISOString(),
    };
    const before = count(INTRADAY);
    const first = await candles(variables);
    expect(count(INTRADAY)).toBe(before + 1);
    // A week holds trading days: 75 five-minute bars each, 09:15 to 15:25 IST.
    expect(first.length).toBeGreaterThanOrEqual(75 * 3);
    expect(first.length % 75).toBe(0);
    expect(istClock(first[0].time)).toBe('09:15');
    expect(istClock(first[74].time)).toBe('15:25');
    for (const c of first) {
      expect(c.complete).toBe(true);
      expect(c.high).toBeGreaterThanOrEqual(Math.max(c.open, c.close));
      expect(c.low).toBeLessThanOrEqual(Math.min(c.open, c.close));
    }
    const stored = await t.app
      .get(DataSource)
      .getRepository(CandleEntity)
      .count({ where: { securityId: stock.securityId, interval: 'M5' } });
    expect(stored).toBe(first.length);

    // Asked again (and for a part of it): the same bars, DhanHQ not asked again.
    expect(await candles(variables)).toEqual(first);
    const part = await candles({ ...variables, from: first[10].time, to: first[20].time });
    expect(part).toEqual(first.slice(10, 20));
    expect(count(INTRADAY)).toBe(before + 1);
  });

  it("daily candles agree with the simulator's prices: the last past close is today's previous close", async () => {
    const before = count(DAILY);
    const days = await candles({
      i: { segment: stock.segment, securityId: stock.securityId },
      interval: 'D1',
      from: istMidnight(-30).toISOString(),
      to: istMidnight(0).toISOString(),
    });
    expect(count(DAILY)).toBe(before + 1);
    expect(days.length).toBeGreaterThanOrEqual(15);
    for (const d of days) expect(istClock(d.time)).toBe('00:00');
    const quote = await gql<{ quote: { prevClose: number } }>(
      t.graphqlUrl,
      `{ quote(segment: ${stock.segment}, securityId: "${stock.securityId}") { prevClose } }`,
      {},
      token,
    );
    const prevClose = quote.data!.quote.prevClose;
    expect(Math.abs(days[days.length - 1].close - prevClose)).toBeLessThanOrEqual(stock.tickSize);
  });

  it("candleUpdates streams the forming minute, and today's candles include it", async () => {
    const c = new TicksClient(
      t.graphqlUrl,
      token,
      `subscription U($i: InstrumentInput!) { candleUpdates(instrument: $i, interval: M1) { time open high low close volume complete } }`,
      { i: { segment: stock.segment, securityId: stock.securityId } },
      'candleUpdates',
    );
    clients.push(c);
    const first = (await c.batch(0)) as unknown as CandleView;
    expect(first.complete).toBe(false);
    expect(first.close).toBeGreaterThan(0);
    expect(new Date(first.time).getUTCSeconds()).toBe(0);
    // The simulator trades it: the bar moves (or a new minute starts).
    const moved = (await c.batchWhere((b) => {
      const bar = b as unknown as CandleView;
      return bar.time !== first.time || bar.close !== first.close || bar.volume !== first.volume;
    })) as unknown as CandleView;
    expect(moved.close).toBeGreaterThan(0);
    const today = await candles({
      i: { segment: stock.segment, securityId: stock.securityId },
      interval: 'M1',
      from: istMidnight(0).toISOString(),
      to: istMidnight(1).toISOString(),
    });
    const last = today[today.length - 1];
    expect(last.complete).toBe(false);
    expect(Date.parse(last.time)).toBeGreaterThanOrEqual(Date.parse(moved.time));
  });

  it('refuses a bad range with BAD_USER_INPUT and an unknown instrument with NOT_FOUND', async () => {
    const i = { segment: stock.segment, securityId: stock.securityId };
    const backwards = await gql(
      t.graphqlUrl,
      CANDLES,
      { i, interval: 'M5', from: istMidnight(0).toISOString(), to: istMidnight(-1).toISOString() },
      token,
    );
    expect(errorCodes(backwards)).toEqual(['BAD_USER_INPUT']);
    const tooLong = await gql(
      t.graphqlUrl,
      CANDLES,
      {
        i,
        interval: 'M1',
        from: istMidnight(-200).toISOString(),
        to: istMidnight(0).toISOString(),
      },
      token,
    );
    expect(errorCodes(tooLong)).toEqual(['BAD_USER_INPUT']);
    const unknown = await gql(
      t.graphqlUrl,
      CANDLES,
      {
        i: { segment: 'NSE_EQ', securityId: '999999999' },
        interval: 'D1',
        from: istMidnight(-3).toISOString(),
        to: istMidnight(0).toISOString(),
      },
      token,
    );
    expect(errorCodes(unknown)).toEqual(['NOT_FOUND']);
  });
});
