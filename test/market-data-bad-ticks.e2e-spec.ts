import { SEGMENT_CODE, type ExchangeSegment } from '@app/dhan';
import { feedEncoder, type DhanSimulator } from '@app/dhan-simulator';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { TickStore, type TickStoreStats } from '../src/market-data/ticks/tick-store';
import { liquidEquities, until } from './dhan/helpers';
import { login } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';
import { TICKS, TicksClient, type InstrumentRef, type TickView } from './market-data.helpers';

/** The feed's LTT is IST wall clock written as an epoch (DhanHQ v2: as observed on the wire). */
const IST = 19_800;
const simKey = (r: InstrumentRef) => `${r.segment}:${r.securityId}`;
const freshOf = (b: unknown[], id: string) =>
  (b as TickView[]).find((x) => x.securityId === id && x.ltp !== null && !x.stale);

function simConnectionOf(sim: DhanSimulator, r: InstrumentRef): number {
  return sim.feed
    .connectionInfo()
    .find((c) => Object.values(sim.feed.subscriptions(c.id)).some((l) => l.includes(simKey(r))))!
    .id;
}

/** One binary frame of ticker packets for `r`, LTTs given in true UTC seconds. */
function tickers(r: InstrumentRef, packets: Array<{ ltp: number; ltt: number }>): Buffer {
  const frame = Buffer.alloc(feedEncoder.PACKET_SIZE.TICKER * packets.length);
  let offset = 0;
  for (const p of packets) {
    offset = feedEncoder.writeTicker(
      frame,
      offset,
      SEGMENT_CODE[r.segment as ExchangeSegment],
      Number(r.securityId),
      p.ltp,
      p.ltt === 0 ? 0 : p.ltt + IST,
    );
  }
  return frame;
}

describe('implausible ticks from the feed (e2e, RELIABILITY F8, simulator raw frames)', () => {
  let t: TestApp;
  let token: string;
  let sim: DhanSimulator;
  let store: TickStore;
  const clients: TicksClient[] = [];
  const stats = (): TickStoreStats => store.stats();

  beforeAll(async () => {
    t = await createTestApp(
      {},
      { configure: (config) => ({ ...config, marketData: { tierB: { enabled: false } } }) },
    );
    await t.app.get(InstrumentsService).ready();
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    store = t.app.get(TickStore);
    token = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    // Boot (the instrument master into the database) is slow on a loaded machine.
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await t?.close();
  });

  it('drops a future LTT, a garbage-old LTT and an unconfirmed jump; counts them by reason; clients never see them', async () => {
    const [a] = liquidEquities(sim, 1) as InstrumentRef[];
    const client = new TicksClient(t.graphqlUrl, token, TICKS, { instruments: [a] });
    clients.push(client);
    const first = freshOf(
      await client.batchWhere((b) => !!freshOf(b, a.securityId)),
      a.securityId,
    )!;
    const price = first.ltp!;
    const nowS = Math.floor(Date.now() / 1000);
    const before = stats();

    const jumped = Math.round(price * 1.5) + 0.5;
    sim.feed.sendRaw(
      simConnectionOf(sim, a),
      tickers(a, [
        { ltp: price, ltt: nowS + 3_600 },
        { ltp: price, ltt: nowS + IST }, // IST offset applied twice
        { ltp: price, ltt: -IST + 5 }, // a raw LTT of 5
        { ltp: jumped, ltt: 0 }, // no LTT: never out of order, whatever the simulator sent
      ]),
    );
    await until(
      () =>
        stats().lttInFuture >= before.lttInFuture + 2 &&
        stats().lttTooOld >= before.lttTooOld + 1 &&
        stats().priceJump >= before.priceJump + 1,
      'the bad packets are counted',
    );
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    for (const reason of ['ltt_in_future', 'ltt_too_old', 'price_jump']) {
      expect(metrics).toMatch(new RegExp(`feed_ticks_dropped_total\\{reason="${reason}"\\} [1-9]`));
    }

    // Streaming goes on; no delivered tick carries the bad values.
    const from = client.batches.length;
    for (let i = 0; i < 3; i++) {
      await client.batchWhere((b) => !!freshOf(b, a.securityId), from + i);
    }
    const delivered = client.batches.flat() as TickView[];
    const latest = (nowS + 60) * 1000;
    for (const x of delivered.filter((d) => d.lastTradeTime !== null)) {
      const at = Date.parse(x.lastTradeTime!);
      expect(at).toBeLessThan(latest);
      expect(at).toBeGreaterThan(Date.UTC(2000, 0, 1));
    }
    expect(delivered.map((x) => x.ltp)).not.toContain(jumped);
    expect(client.closeInfo).toBeUndefined();
  });

  it('applies a jump that a second packet confirms', async () => {
    const [, b] = liquidEquities(sim, 2) as InstrumentRef[];
    const client = new TicksClient(t.graphqlUrl, token, TICKS, { instruments: [b] });
    clients.push(client);
    const first = freshOf(
      await client.batchWhere((x) => !!freshOf(x, b.securityId)),
      b.securityId,
    )!;
    const price = first.ltp!;
    const confirmed = stats().jumpsConfirmed;
    const nowS = Math.floor(Date.now() / 1000);
    const jump = Math.round(price * 1.4) + 0.5;
    // One frame: nothing from the simulator can come between the two packets. Their LTT, 3 s
    // ahead (within the 5 s tolerance), keeps the simulator's next packets out of order for a
    // while, so the confirmed price is what clients see.
    sim.feed.sendRaw(
      simConnectionOf(sim, b),
      tickers(b, [
        { ltp: jump, ltt: nowS + 3 },
        { ltp: jump + 0.5, ltt: nowS + 3 },
      ]),
    );
    await client.batchWhere((x) => freshOf(x, b.securityId)?.ltp === jump + 0.5);
    expect(stats().jumpsConfirmed).toBeGreaterThanOrEqual(confirmed + 1);
    expect((client.batches.flat() as TickView[]).map((x) => x.ltp)).not.toContain(jump);
  });
});
