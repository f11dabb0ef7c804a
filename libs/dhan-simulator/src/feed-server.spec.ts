import { FeedResponseCode } from '@app/dhan/types';
import {
  FeedTestClient,
  connectFeed,
  fastOptions,
  nextEvent,
  untilEvent,
} from './__tests__/helpers';
import { DhanSimulator, SimulatorUrls } from './simulator';

const NIFTY_OPTION = (sim: DhanSimulator): string =>
  sim.universe.instruments.find((i) => i.instrumentType === 'OPTIDX' && i.underlying === 'NIFTY')!
    .securityId;

describe('feed server', () => {
  let sim: DhanSimulator;
  let urls: SimulatorUrls;
  const clients: FeedTestClient[] = [];

  async function open(credentials: { clientId?: string; token?: string } = {}) {
    const client = await connectFeed(sim, urls, credentials);
    clients.push(client);
    return client;
  }

  beforeEach(async () => {
    sim = new DhanSimulator(
      fastOptions({
        accounts: [{ clientId: '1000000002', accessToken: 'second-token' }],
        feed: { pingIntervalMs: 50, pongTimeoutMs: 300 },
      }),
    );
    urls = await sim.start();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await sim.stop();
  });

  it('refuses a bad token with a disconnect packet (809) and closes', async () => {
    const client = await open({ token: 'nope' });
    await client.closed;
    expect(client.packets).toHaveLength(1);
    const [p] = client.packets;
    expect(p.code).toBe(FeedResponseCode.DISCONNECT);
    expect(p.length).toBe(10);
    expect(p.bytes.readInt16LE(8)).toBe(809);
  });

  it('refuses an unknown client id with 808', async () => {
    const client = await open({ clientId: '999' });
    await client.closed;
    expect(client.packets[0].bytes.readInt16LE(8)).toBe(808);
  });

  it('sends prev close on subscribe, then ticker packets of 16 bytes with IST LTT', async () => {
    const client = await open();
    client.subscribe(15, [['NSE_EQ', 2885]]);
    await client.until(() => client.packets.some((p) => p.code === 2), 'a ticker packet');
    expect(client.packets[0].code).toBe(FeedResponseCode.PREV_CLOSE);
    expect(client.packets[0].length).toBe(16);
    expect(client.packets[0].bytes.readFloatLE(8)).toBeGreaterThan(500);
    const ticker = client.packets.find((p) => p.code === 2)!;
    expect(ticker.length).toBe(16);
    expect(ticker.segment).toBe(1);
    expect(ticker.securityId).toBe(2885);
    const ltt = ticker.bytes.readInt32LE(12);
    expect(ltt).toBe(Date.parse('2026-11-25T05:00:00Z') / 1000 + 19_800);
  });

  it('sends quote (50) + OI (12) for a derivative in QUOTE mode, quote only for equity', async () => {
    const client = await open();
    const option = NIFTY_OPTION(sim);
    client.subscribe(17, [
      ['NSE_FNO', option],
      ['NSE_EQ', 2885],
    ]);
    await client.until(
      () =>
        client.packets.filter((p) => p.code === 4).length >= 4 &&
        client.packets.some((p) => p.code === 5),
      'quote and OI packets',
    );
    const quotes = client.packets.filter((p) => p.code === 4);
    expect(quotes.every((p) => p.length === 50)).toBe(true);
    const oi = client.packets.filter((p) => p.code === 5);
    expect(oi.every((p) => p.length === 12 && p.securityId === Number(option))).toBe(true);
    const eqQuote = quotes.find((p) => p.securityId === 2885)!;
    const ltp = eqQuote.bytes.readFloatLE(8);
    expect(eqQuote.bytes.readFloatLE(42)).toBeGreaterThanOrEqual(ltp - 1e-3); // high
    expect(eqQuote.bytes.readFloatLE(46)).toBeLessThanOrEqual(ltp + 1e-3); // low
  });

  it('sends full packets (162) with 5 depth levels on the tick grid around LTP', async () => {
    const client = await open();
    client.subscribe(21, [['NSE_EQ', 2885]]);
    await client.until(() => client.packets.some((p) => p.code === 8), 'a full packet');
    const full = client.packets.find((p) => p.code === 8)!;
    expect(full.length).toBe(162);
    const ltp = full.bytes.readFloatLE(8);
    const bid1 = full.bytes.readFloatLE(62 + 12);
    const ask1 = full.bytes.readFloatLE(62 + 16);
    expect(bid1).toBeLessThan(ltp);
    expect(ask1).toBeGreaterThan(ltp);
    for (let k = 0; k < 5; k++) {
      const bid = full.bytes.readFloatLE(62 + k * 20 + 12);
      expect(Math.abs(Math.round(bid / 0.05) * 0.05 - bid)).toBeLessThan(1e-3);
      expect(full.bytes.readInt32LE(62 + k * 20)).toBeGreaterThan(0);
    }
  });

  it('answers index instruments with ticker packets in every mode', async () => {
    const client = await open();
    client.subscribe(21, [['IDX_I', 13]]);
    await client.until(() => client.packets.filter((p) => p.code === 2).length >= 2, 'tickers');
    expect(client.packets.some((p) => p.code === 8 || p.code === 4)).toBe(false);
    const level = client.packets.find((p) => p.code === 2)!.bytes.readFloatLE(8);
    expect(level).toBeGreaterThan(20_000);
    expect(level).toBeLessThan(28_000);
  });

  it('honours a configured LTT offset and index packets in the subscribed mode', async () => {
    const custom = new DhanSimulator(
      fastOptions({ lttOffsetSeconds: 0, feed: { indexAsTicker: false } }),
    );
    const customUrls = await custom.start();
    const client = await connectFeed(custom, customUrls);
    try {
      client.subscribe(17, [['IDX_I', 13]]);
      await client.until(() => client.packets.some((p) => p.code === 4), 'a quote for the index');
      const quote = client.packets.find((p) => p.code === 4)!;
      expect(quote.bytes.readInt32LE(14)).toBe(Date.parse('2026-11-25T05:00:00Z') / 1000);
      expect(client.packets.some((p) => p.code === 5)).toBe(false); // no OI for an index
    } finally {
      await client.close();
      await custom.stop();
    }
  });

  it('packs several packets into one frame', async () => {
    const client = await open();
    const ids = sim.universe.instruments.filter((i) => i.segment === 'NSE_EQ').slice(0, 50);
    client.subscribe(
      15,
      ids.map((i) => ['NSE_EQ', i.id]),
    );
    await client.until(() => client.frames.length >= 3, 'three frames');
    const tickFrame = client.frames.find((f) => f[0] === 2)!;
    expect(tickFrame.length).toBe(50 * 16);
    expect(client.frames[0].length).toBe(50 * 16); // the prev-close batch
  });

  it('drops the oldest connection with 805 when a sixth one opens', async () => {
    const five = [];
    for (let i = 0; i < 5; i++) five.push(await open());
    expect(sim.feed.connectionInfo(sim.credentials.clientId)).toHaveLength(5);
    const sixth = await open();
    const code = await five[0].closed;
    expect(code).toBe(1000);
    expect(five[0].packets.at(-1)!.bytes.readInt16LE(8)).toBe(805);
    expect(sixth.closedNow).toBe(false);
    expect(five.slice(1).every((c) => !c.closedNow)).toBe(true);
    expect(sim.feed.connectionInfo(sim.credentials.clientId)).toHaveLength(5);
    // another client id is counted on its own
    const other = await open({ clientId: '1000000002', token: 'second-token' });
    expect(other.closedNow).toBe(false);
    expect(sim.feed.connectionInfo('1000000002')).toHaveLength(1);
  });

  it('refuses more than 100 instruments in one message with 804', async () => {
    const client = await open();
    const ids = sim.universe.instruments.filter((i) => i.segment === 'NSE_FNO').slice(0, 101);
    client.subscribe(
      15,
      ids.map((i) => ['NSE_FNO', i.id]),
    );
    await client.closed;
    expect(client.packets.at(-1)!.code).toBe(50);
    expect(client.packets.at(-1)!.bytes.readInt16LE(8)).toBe(804);
  });

  it('accepts 5,000 instruments on one connection and refuses the 5,001st with 804', async () => {
    // a quiet market here: the point is the limit, not 5,000 ticks per interval
    const quiet = new DhanSimulator(fastOptions({ market: { tickRate: () => 0.01 } }));
    const quietUrls = await quiet.start();
    const client = await connectFeed(quiet, quietUrls);
    try {
      const ids = quiet.universe.instruments.filter((i) => i.segment === 'NSE_FNO').slice(0, 5001);
      for (let i = 0; i < 5000; i += 100) {
        client.subscribe(
          15,
          ids.slice(i, i + 100).map((x) => ['NSE_FNO', x.id]),
        );
      }
      await untilEvent(
        quiet.feed,
        'request',
        () => quiet.feed.connectionInfo()[0]?.subscriptions.total === 5000,
        '5,000 subscriptions',
      );
      expect(quiet.feed.connectionInfo()[0].subscriptions.TICKER).toBe(5000);
      client.subscribe(15, [['NSE_FNO', ids[5000].id]]);
      await client.closed;
      expect(client.packets.at(-1)!.bytes.readInt16LE(8)).toBe(804);
    } finally {
      await client.close();
      await quiet.stop();
    }
  });

  it('keeps subscriptions per mode, ignores unknown codes, unsubscribes, and counts messages', async () => {
    const client = await open();
    client.subscribe(15, [['NSE_EQ', 2885]]);
    client.subscribe(21, [
      ['NSE_EQ', 2885],
      ['NSE_EQ', 11536],
    ]);
    client.send({ RequestCode: 99 });
    client.subscribe(16, [['NSE_EQ', 2885]]);
    await nextEvent(sim.feed, 'request', (_id: number, code: number) => code === 16);
    const [info] = sim.feed.connectionInfo();
    expect(info.messagesReceived).toBe(4);
    expect(info.subscriptions).toEqual({ TICKER: 0, QUOTE: 0, FULL: 2, total: 2 });
    expect(sim.feed.subscriptions(info.id).FULL.sort()).toEqual(['NSE_EQ:11536', 'NSE_EQ:2885']);
    expect(sim.feed.stats.unknownRequests).toBe(1);
  });

  it('closes on RequestCode 12', async () => {
    const client = await open();
    client.send({ RequestCode: 12 });
    expect(await client.closed).toBe(1000);
    expect(sim.feed.connectionInfo()).toHaveLength(0);
  });

  it('terminates a client that stops answering pings', async () => {
    const client = await open();
    const [info] = sim.feed.connectionInfo();
    client.ws.pause();
    await nextEvent(sim.feed, 'closed', (id: number) => id === info.id);
    expect(sim.feed.stats.pongTimeouts).toBe(1);
  });

  describe('fault hooks', () => {
    it('dropConnection resets the TCP connection', async () => {
      const client = await open();
      const [info] = sim.feed.connectionInfo();
      sim.feed.dropConnection(info.id);
      const code = await client.closed;
      expect(code).toBe(1006);
      expect(sim.feed.connectionInfo()).toHaveLength(0);
    });

    it('goSilent stops data and pongs while the socket stays open', async () => {
      const silent = await open();
      const witness = await open();
      silent.subscribe(15, [['NSE_EQ', 2885]]);
      witness.subscribe(15, [['NSE_EQ', 2885]]);
      await silent.until(() => silent.packets.some((p) => p.code === 2), 'first tick');
      const [silentInfo] = sim.feed.connectionInfo();
      sim.feed.goSilent(silentInfo.id);
      const before = silent.packets.length;
      let pong = false;
      silent.ws.on('pong', () => (pong = true));
      silent.ws.ping();
      const seen = witness.frames.length;
      await witness.until(() => witness.frames.length >= seen + 5, 'witness ticks');
      expect(silent.packets.length).toBe(before);
      expect(pong).toBe(false);
      expect(silent.closedNow).toBe(false);
      expect(sim.feed.connectionInfo()[0].silent).toBe(true);
    });

    it.each(['truncated', 'bad-length', 'short-length', 'unknown-code', 'zero-length'] as const)(
      'sendMalformed %s',
      async (kind) => {
        const client = await open();
        const [info] = sim.feed.connectionInfo();
        sim.feed.sendMalformed(info.id, kind);
        await client.until(() => client.frames.length === 1, 'the malformed frame');
        const frame = client.frames[0];
        const expected = {
          truncated: () => frame.length === 10 && frame.readInt16LE(1) === 16,
          'bad-length': () => frame.length === 16 && frame.readInt16LE(1) > 16,
          'short-length': () => frame.readInt16LE(1) < 8,
          'unknown-code': () => frame[0] === 99,
          'zero-length': () => frame.length === 0,
        }[kind];
        expect(expected()).toBe(true);
      },
    );

    it('sendDisconnect sends the reason and closes', async () => {
      const client = await open();
      const [info] = sim.feed.connectionInfo();
      sim.feed.sendDisconnect(info.id, 800);
      await client.closed;
      expect(client.packets.at(-1)!.bytes.readInt16LE(8)).toBe(800);
    });

    it('expireToken: live sockets get 807, new connects get 807', async () => {
      const client = await open();
      sim.expireToken();
      await client.closed;
      expect(client.packets.at(-1)!.bytes.readInt16LE(8)).toBe(807);
      const again = await open();
      await again.closed;
      expect(again.packets[0].bytes.readInt16LE(8)).toBe(807);
    });

    it('data plan off: 806', async () => {
      const client = await open();
      sim.setDataPlan(false);
      await client.closed;
      expect(client.packets.at(-1)!.bytes.readInt16LE(8)).toBe(806);
      const again = await open();
      await again.closed;
      expect(again.packets[0].bytes.readInt16LE(8)).toBe(806);
    });
  });
});
