import {
  FeedConnection,
  FeedConnectionError,
  FeedConnectionOptions,
  FeedDecodeError,
  FeedDisconnectCode,
  FeedDisconnectInfo,
  FeedFatalInfo,
  FeedInstrument,
  FeedMode,
  parseScripMaster,
} from '@app/dhan';
import { DhanSimulator, MalformedKind, SimulatorUrls } from '@app/dhan-simulator';
import {
  decodeErrorCount,
  keysOf,
  liquidEquities,
  simSubscriptionSets,
  simSubscriptionsReach,
  startPaired,
  startSimulator,
  testBackoff,
  TickCounter,
  until,
  waitFor,
} from './helpers';

const MODES = [FeedMode.TICKER, FeedMode.QUOTE, FeedMode.FULL];

describe('FeedConnection against the simulator over real sockets', () => {
  let sim: DhanSimulator;
  let urls: SimulatorUrls;
  let token: string;
  const conns: FeedConnection[] = [];

  function connection(name: string, extra: Partial<FeedConnectionOptions> = {}): FeedConnection {
    const conn = new FeedConnection({
      url: urls.feedUrl,
      clientId: sim.credentials.clientId,
      token: () => token,
      name,
      backoff: testBackoff(50),
      pingIntervalMs: 0,
      dataStallMs: 0,
      ...extra,
    });
    // errors are asserted through stats; an unhandled 'error' would be dropped anyway
    conn.on('error', () => undefined);
    conns.push(conn);
    return conn;
  }

  /** Subscribes `list` spread over the three modes; returns the expected per-mode key sets. */
  function subscribeMixed(
    conn: FeedConnection,
    list: readonly FeedInstrument[],
  ): Record<FeedMode, string[]> {
    const byMode: Record<FeedMode, FeedInstrument[]> = {
      [FeedMode.TICKER]: [],
      [FeedMode.QUOTE]: [],
      [FeedMode.FULL]: [],
    };
    list.forEach((inst, i) => byMode[MODES[i % 3]].push(inst));
    for (const mode of MODES) conn.subscribe(byMode[mode], mode);
    return {
      [FeedMode.TICKER]: keysOf(byMode[FeedMode.TICKER]),
      [FeedMode.QUOTE]: keysOf(byMode[FeedMode.QUOTE]),
      [FeedMode.FULL]: keysOf(byMode[FeedMode.FULL]),
    };
  }

  /** Ticks per second of every instrument, read when it is subscribed. */
  let tickRate = 10;

  beforeEach(async () => {
    tickRate = 10;
    ({ sim, urls } = await startSimulator({ market: { tickRate: () => tickRate } }));
    token = sim.credentials.accessToken;
  });

  afterEach(async () => {
    await Promise.all(conns.splice(0).map((c) => c.stop()));
    await sim.stop();
  });

  it('spreads 12,000 scrip-master instruments over 3 connections: every subscription lands, ticks flow on each', async () => {
    tickRate = 0.5;
    const csv = await (await fetch(urls.instrumentsUrl)).text();
    const master = await parseScripMaster(csv);
    expect(master.instruments.length).toBeGreaterThanOrEqual(12_000);
    const chosen = master.instruments.slice(0, 12_000);
    const perConn = 4_000;
    const expected: Array<Record<FeedMode, string[]>> = [];
    const ids: number[] = [];
    const counters: TickCounter[] = [];
    for (let c = 0; c < 3; c++) {
      const conn = connection(`feed-${c}`);
      counters.push(new TickCounter(conn));
      ids.push(await startPaired(sim, conn));
      const slice = chosen.slice(c * perConn, (c + 1) * perConn);
      expected.push(subscribeMixed(conn, slice));
      expect(conn.subscriptionCount).toBe(perConn);
    }
    for (const id of ids) await simSubscriptionsReach(sim, id, perConn);
    for (let c = 0; c < 3; c++) {
      expect(simSubscriptionSets(sim, ids[c])).toEqual(expected[c]);
    }
    await until(
      () => counters.every((k) => k.total >= 200),
      'every connection delivered 200 ticks',
      conns.map((c) => [c, 'packet'] as [FeedConnection, string]),
    );
    const infos = sim.feed.connectionInfo(sim.credentials.clientId);
    expect(infos.map((i) => i.id).sort()).toEqual([...ids].sort());
    for (let c = 0; c < 3; c++) {
      const stats = conns[c].getStats();
      expect(decodeErrorCount(conns[c])).toBe(0);
      expect(stats.reconnects).toBe(0);
      // ticks of several instruments, not one chatty symbol
      expect(counters[c].byInstrument.size).toBeGreaterThan(50);
      const info = infos.find((i) => i.id === ids[c]);
      expect(info?.subscriptions.total).toBe(perConn);
      expect(info?.packetsSent).toBeGreaterThan(0);
      expect(stats.packets).toBeGreaterThan(0);
    }
    expect(sim.feed.stats.unknownInstruments).toBe(0);
    expect(sim.feed.stats.invalidMessages).toBe(0);
    expect(sim.feed.stats.disconnectsSent).toEqual({});
  });

  describe('with three small connections', () => {
    const ids: number[] = [];
    const counters: TickCounter[] = [];
    const expected: Array<Record<FeedMode, string[]>> = [];

    /** `first` applies to the first connection only, so a fault there cannot spill over. */
    async function openThree(first: Partial<FeedConnectionOptions> = {}): Promise<void> {
      ids.length = 0;
      counters.length = 0;
      expected.length = 0;
      const pool = liquidEquities(sim, 90);
      for (let c = 0; c < 3; c++) {
        const conn = connection(`feed-${c}`, c === 0 ? first : {});
        counters.push(new TickCounter(conn));
        ids.push(await startPaired(sim, conn));
        expected.push(subscribeMixed(conn, pool.slice(c * 30, (c + 1) * 30)));
      }
      for (const id of ids) await simSubscriptionsReach(sim, id, 30);
      await Promise.all(counters.map((k) => k.more(5, 'before the fault')));
    }

    it('reconnects a dropped connection, resubscribes the same set, and leaves the others alone', async () => {
      await openThree();
      const before = simSubscriptionSets(sim, ids[1]);
      expect(before).toEqual(expected[1]);
      const disconnected = waitFor<[FeedDisconnectInfo]>(conns[1], 'disconnected');
      const reaccepted = waitFor<[{ id: number }]>(sim.feed, 'connection');
      const reconnected = waitFor(conns[1], 'connected');

      sim.feed.dropConnection(ids[1]);

      const [info] = await disconnected;
      // a reset: no close frame, so an abnormal closure (ws does not surface ECONNRESET itself)
      expect(info.code).toBe(1006);
      expect(['closed', 'socket-error']).toContain(info.cause);
      const [[newConn]] = await Promise.all([reaccepted, reconnected]);
      expect(newConn.id).not.toBe(ids[1]);
      await simSubscriptionsReach(sim, newConn.id, 30);
      expect(simSubscriptionSets(sim, newConn.id)).toEqual(before);
      await counters[1].more(20, 'after the reconnect');

      expect(conns[1].getStats().reconnects).toBe(1);
      expect(conns[0].getStats().reconnects).toBe(0);
      expect(conns[2].getStats().reconnects).toBe(0);
      const live = sim.feed.connectionInfo().map((c) => c.id);
      expect(live.sort()).toEqual([ids[0], ids[2], newConn.id].sort());
      for (const conn of conns) expect(decodeErrorCount(conn)).toBe(0);
    });

    it('forces a reconnect through the data-stall watchdog when the socket goes half-open', async () => {
      await openThree({ dataStallMs: 400, isMarketOpen: () => true });
      const stalled = waitFor<[FeedDisconnectInfo]>(conns[0], 'disconnected');
      const reaccepted = waitFor<[{ id: number }]>(sim.feed, 'connection');

      sim.feed.goSilent(ids[0]);
      const silentSent = sim.feed.connectionInfo().find((c) => c.id === ids[0])?.packetsSent;

      const [info] = await stalled;
      expect(info.cause).toBe('data-stall');
      expect(conns[0].getStats().errors.DATA_STALL).toBe(1);
      const [newConn] = await reaccepted;
      await waitFor(conns[0], 'connected');
      await simSubscriptionsReach(sim, newConn.id, 30);
      expect(simSubscriptionSets(sim, newConn.id)).toEqual(expected[0]);
      await counters[0].more(20, 'after the stall');
      expect(conns[0].getStats().reconnects).toBe(1);
      expect(conns[1].getStats().reconnects).toBe(0);
      expect(conns[2].getStats().reconnects).toBe(0);
      // the simulator sent nothing on the silent socket (it may still list it: it never saw the close)
      const old = sim.feed.connectionInfo().find((c) => c.id === ids[0]);
      if (old) expect([old.silent, old.packetsSent]).toEqual([true, silentSent]);
      expect(silentSent).toBeGreaterThan(0);
    });

    it('counts each malformed frame kind and keeps the connection and its ticks', async () => {
      await openThree();
      const conn = conns[2];
      const kinds: MalformedKind[] = [
        'truncated',
        'bad-length',
        'short-length',
        'unknown-code',
        'zero-length',
      ];
      for (const kind of kinds) {
        const before = decodeErrorCount(conn);
        sim.feed.sendMalformed(ids[2], kind);
        await until(
          () => decodeErrorCount(conn) > before,
          `the client counted the '${kind}' frame`,
          [[conn, 'packet']],
        );
      }
      const errors = conn.getStats().errors;
      expect(decodeErrorCount(conn)).toBe(kinds.length);
      expect(errors[FeedDecodeError.EMPTY_FRAME]).toBe(1);
      expect(errors[FeedDecodeError.UNKNOWN_CODE]).toBe(1);
      expect(errors[FeedDecodeError.LENGTH_UNDER_HEADER]).toBe(1);
      expect(
        errors[FeedDecodeError.LENGTH_BEYOND_FRAME] + errors[FeedDecodeError.TRUNCATED_HEADER],
      ).toBe(2);
      await counters[2].more(20, 'after the malformed frames');
      expect(conn.state).toBe('open');
      expect(conn.getStats().reconnects).toBe(0);
      expect(sim.feed.connectionInfo().some((c) => c.id === ids[2])).toBe(true);
      for (const other of [conns[0], conns[1]]) expect(decodeErrorCount(other)).toBe(0);
    });
  });

  it('a sixth connection evicts the oldest with 805; the client reports it and backs off', async () => {
    const base = 150;
    const pool = liquidEquities(sim, 60);
    const ids: number[] = [];
    for (let c = 0; c < 6; c++) {
      const conn = connection(`feed-${c}`, { backoff: testBackoff(base, base * 8) });
      conn.subscribe(pool.slice(c * 10, (c + 1) * 10), FeedMode.TICKER);
      if (c < 5) ids.push(await startPaired(sim, conn));
    }
    const kicks: Array<{ id: number; at: number }> = [];
    sim.feed.on('disconnectSent', (id, reason) => {
      if (reason === FeedDisconnectCode.TOO_MANY_CONNECTIONS) kicks.push({ id, at: Date.now() });
    });
    const reported = waitFor<[FeedConnectionError]>(conns[0], 'error');
    const dropped = waitFor<[FeedDisconnectInfo]>(conns[0], 'disconnected');

    await startPaired(sim, conns[5]);

    const [err] = await reported;
    expect(err.kind).toBe('TOO_MANY_CONNECTIONS');
    expect(err.feedCode).toBe(805);
    const [info] = await dropped;
    expect(info.feedCode).toBe(805);
    expect(kicks[0].id).toBe(ids[0]);

    // Each reconnect evicts the then-oldest socket: a ring of six over five slots. With
    // backoff every hop waits at least `base`; without it this would spin thousands of times.
    await until(() => kicks.length >= 8, 'eight evictions', [[sim.feed, 'disconnectSent']], 15_000);
    for (let k = 1; k < kicks.length; k++) {
      expect(kicks[k].at - kicks[k - 1].at).toBeGreaterThanOrEqual(base - 5);
    }
    const stats = conns.map((c) => c.getStats());
    const evictions = stats.reduce((n, s) => n + s.errors.TOO_MANY_CONNECTIONS, 0);
    const attempts = stats.reduce((n, s) => n + s.connects, 0);
    // every connect beyond the first six follows an eviction
    expect(attempts - 6).toBeLessThanOrEqual(evictions);
    expect(stats[0].errors.TOO_MANY_CONNECTIONS).toBeGreaterThanOrEqual(1);
    expect(stats[0].connects).toBeLessThanOrEqual(stats[0].errors.TOO_MANY_CONNECTIONS + 1);
    expect(sim.feed.connectionInfo(sim.credentials.clientId).length).toBeLessThanOrEqual(5);
    expect(sim.feed.stats.disconnectsSent[805]).toBe(kicks.length);
  });

  it('stops on an expired token (807) and reconnects after renew + resume', async () => {
    const conn = connection('feed-token');
    const counter = new TickCounter(conn);
    const pool = liquidEquities(sim, 20);
    conn.subscribe(pool, FeedMode.QUOTE);
    const firstId = await startPaired(sim, conn);
    await simSubscriptionsReach(sim, firstId, 20);
    await counter.more(5, 'before expiry');
    const fatal = waitFor<[FeedFatalInfo]>(conn, 'fatal');
    const accepted = sim.feed.stats.accepted;

    sim.expireToken();

    const [info] = await fatal;
    expect(info.feedCode).toBe(807);
    expect(conn.state).toBe('fatal');
    expect(sim.feed.stats.disconnectsSent[807]).toBe(1);
    // a window of two matching cycles (>= 100 ms, twice the 50 ms backoff base): no retry
    await waitFor(sim.orders, 'matchCycle');
    await waitFor(sim.orders, 'matchCycle');
    expect(conn.state).toBe('fatal');
    expect(sim.feed.stats.accepted).toBe(accepted);
    expect(sim.feed.stats.authFailures).toBe(0);

    token = 'renewed-token-1';
    sim.accounts.renewToken(sim.credentials.clientId, token);
    const reaccepted = waitFor<[{ id: number }]>(sim.feed, 'connection');
    const connected = waitFor(conn, 'connected');
    conn.resume();
    const [[newConn]] = await Promise.all([reaccepted, connected]);
    await simSubscriptionsReach(sim, newConn.id, 20);
    expect(simSubscriptionSets(sim, newConn.id)[FeedMode.QUOTE]).toEqual(keysOf(pool));
    await counter.more(20, 'after renew');
    expect(conn.state).toBe('open');
    expect(sim.feed.stats.authFailures).toBe(0);
    expect(sim.feed.stats.accepted).toBe(accepted + 1);
  });
});
