import { IncomingMessage } from 'node:http';
import { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { ExchangeSegment, FeedMode } from '../types';
import { ManualClock } from '../util/clock';
import { FeedConnection, FeedConnectionOptions, FeedDisconnectInfo } from './feed-connection';
import { FeedDecodeError, FeedPacket } from './feed-packets';
import { FeedSubscriptionRequest } from './feed-requests';
import {
  encodeDisconnect as encodeDisconnectPacket,
  encodeTicker,
} from './__tests__/feed-test-encoder';

interface ServerConn {
  socket: WebSocket;
  url: URL;
  messages: FeedSubscriptionRequest[];
}

/** A tiny feed stand-in: records every connection and JSON message. */
class TinyFeedServer {
  readonly conns: ServerConn[] = [];
  private waiters: Array<(c: ServerConn) => void> = [];
  private msgWaiters: Array<{ conn: ServerConn; count: number; resolve: () => void }> = [];
  constructor(readonly wss: WebSocketServer) {
    wss.on('connection', (socket: WebSocket, req: IncomingMessage) => {
      const conn: ServerConn = {
        socket,
        url: new URL(req.url ?? '/', 'ws://127.0.0.1'),
        messages: [],
      };
      this.conns.push(conn);
      socket.on('message', (data) => {
        conn.messages.push(JSON.parse(String(data)) as FeedSubscriptionRequest);
        this.msgWaiters = this.msgWaiters.filter((w) => {
          if (w.conn === conn && conn.messages.length >= w.count) {
            w.resolve();
            return false;
          }
          return true;
        });
      });
      const w = this.waiters.shift();
      if (w) w(conn);
    });
  }

  static async start(
    options: Partial<ConstructorParameters<typeof WebSocketServer>[0]> = {},
  ): Promise<TinyFeedServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    return new TinyFeedServer(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  nextConnection(): Promise<ServerConn> {
    const already = this.conns.length > this.taken ? this.conns[this.taken] : undefined;
    this.taken++;
    if (already) return Promise.resolve(already);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  private taken = 0;

  messages(conn: ServerConn, count: number): Promise<void> {
    if (conn.messages.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.msgWaiters.push({ conn, count, resolve }));
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function once<T extends unknown[]>(
  conn: FeedConnection,
  event: 'connected' | 'disconnected' | 'fatal' | 'error' | 'packet',
): Promise<T> {
  return new Promise((resolve) => conn.once(event, (...args: unknown[]) => resolve(args as T)));
}

function instruments(
  n: number,
  segment = ExchangeSegment.NSE_FNO,
  from = 1,
): Array<{ segment: ExchangeSegment; securityId: string }> {
  return Array.from({ length: n }, (_, i) => ({ segment, securityId: String(from + i) }));
}

describe('FeedConnection against a tiny ws server', () => {
  let server: TinyFeedServer;
  let conn: FeedConnection | undefined;
  let clock: ManualClock;
  let tokens: number;

  function make(extra: Partial<FeedConnectionOptions> = {}): FeedConnection {
    conn = new FeedConnection({
      url: server.url,
      clientId: '1000000001',
      token: () => `token-${++tokens}`,
      clock,
      pingIntervalMs: 0,
      backoff: { random: () => 0.5 },
      ...extra,
    });
    conn.on('error', () => undefined);
    return conn;
  }

  beforeEach(async () => {
    server = await TinyFeedServer.start();
    clock = new ManualClock(1_000_000);
    tokens = 0;
  });

  afterEach(async () => {
    await conn?.stop();
    conn = undefined;
    await server.close();
  });

  it('connects with version, token, clientId and authType, and replays the set in batches of 100 after a reconnect', async () => {
    const c = make();
    c.subscribe(instruments(250), FeedMode.TICKER);
    c.subscribe(instruments(30, ExchangeSegment.NSE_EQ), FeedMode.FULL);
    c.start();
    const first = await server.nextConnection();
    expect(Object.fromEntries(first.url.searchParams)).toEqual({
      version: '2',
      token: 'token-1',
      clientId: '1000000001',
      authType: '2',
    });
    await server.messages(first, 4);
    const summary = (m: FeedSubscriptionRequest[]): Array<[number, number]> =>
      m.map((x) => [x.RequestCode, x.InstrumentCount]);
    expect(summary(first.messages)).toEqual([
      [15, 100],
      [15, 100],
      [15, 50],
      [21, 30],
    ]);

    const disconnected = once<[FeedDisconnectInfo]>(c, 'disconnected');
    first.socket.terminate();
    const [info] = await disconnected;
    expect(info.cause).toBe('closed');
    expect(c.state).toBe('backoff');
    expect(clock.pending()).toEqual([500]);

    clock.advance(500);
    const second = await server.nextConnection();
    expect(second.url.searchParams.get('token')).toBe('token-2');
    await server.messages(second, 4);
    expect(summary(second.messages)).toEqual(summary(first.messages));
    const ids = (m: FeedSubscriptionRequest[]): string[] =>
      m.flatMap((x) => x.InstrumentList.map((i) => `${i.ExchangeSegment}:${i.SecurityId}`));
    expect(new Set(ids(second.messages)).size).toBe(280);
    expect(ids(second.messages)).toEqual(ids(first.messages));
    expect(c.getStats().reconnects).toBe(1);
  });

  it('opens no socket once mayConnect says no: a reconnect after a drop stops instead', async () => {
    let allowed = true;
    const c = make({ mayConnect: () => allowed });
    c.subscribe(instruments(3), FeedMode.TICKER);
    c.start();
    const first = await server.nextConnection();
    allowed = false;
    const disconnected = once<[FeedDisconnectInfo]>(c, 'disconnected');
    first.socket.terminate();
    await disconnected;
    expect(c.state).toBe('backoff');
    clock.advance(500);
    await Promise.resolve();
    expect(c.state).toBe('stopped');
    expect(server.conns).toHaveLength(1);
    // Allowed again: resume() reconnects and replays the kept set.
    allowed = true;
    c.resume();
    const second = await server.nextConnection();
    await server.messages(second, 1);
    expect(second.messages[0].InstrumentCount).toBe(3);
  });

  it('backs off with full jitter on a deterministic random and keeps growing while connections flap', async () => {
    server.wss.on('connection', (s: WebSocket) => s.close(1011));
    const draws = [0.25, 0.5, 0.75, 0.1];
    const c = make({ backoff: { random: () => draws.shift() ?? 0, stableMs: 5000 } });
    const delays: number[] = [];
    c.start();
    for (let i = 0; i < 4; i++) {
      await once(c, 'disconnected');
      delays.push(clock.pending()[0]);
      clock.advance(delays[i]);
    }
    // ceilings 1 s, 2 s, 4 s, 8 s times the draws
    expect(delays).toEqual([250, 1000, 3000, 800]);
  });

  it('resets the attempt counter only after the connection stayed up for the stable period', async () => {
    const c = make({ backoff: { random: () => 0.5, stableMs: 30_000 } });
    c.start();
    const first = await server.nextConnection();
    await once(c, 'connected');
    let disconnected = once(c, 'disconnected');
    first.socket.terminate();
    await disconnected;
    expect(clock.pending()).toEqual([500]);
    clock.advance(500);
    const second = await server.nextConnection();
    await once(c, 'connected');
    clock.advance(29_000);
    disconnected = once(c, 'disconnected');
    second.socket.terminate();
    await disconnected;
    // up 29 s, under the stable period: the ceiling keeps doubling
    expect(clock.pending()).toEqual([1000]);
    clock.advance(1000);
    const third = await server.nextConnection();
    await once(c, 'connected');
    clock.advance(30_000);
    disconnected = once(c, 'disconnected');
    third.socket.terminate();
    await disconnected;
    // up 30 s: back to the first ceiling
    expect(clock.pending()).toEqual([500]);
  });

  it('emits stats on its interval', async () => {
    const c = make({ statsIntervalMs: 10_000 });
    const stats: Array<{ connects: number; state: string }> = [];
    c.on('stats', (s) => stats.push(s));
    c.start();
    await once(c, 'connected');
    clock.advance(20_000);
    expect(stats).toEqual([
      expect.objectContaining({ connects: 1, state: 'open' }),
      expect.objectContaining({ connects: 1, state: 'open' }),
    ]);
  });

  it('reports a failing token provider and retries through the backoff', async () => {
    let fail = true;
    conn = new FeedConnection({
      url: server.url,
      clientId: '1000000001',
      token: () => {
        if (fail) throw new Error('vault unavailable');
        return 'token-ok';
      },
      clock,
      pingIntervalMs: 0,
      backoff: { random: () => 0.5 },
    });
    const error = new Promise<{ kind: string }>((resolve) => conn?.once('error', resolve));
    conn.start();
    expect((await error).kind).toBe('TOKEN_PROVIDER');
    expect(conn.state).toBe('backoff');
    fail = false;
    clock.advance(500);
    const first = await server.nextConnection();
    expect(first.url.searchParams.get('token')).toBe('token-ok');
  });

  it('stops on a fatal 807 disconnect packet and resume() reconnects with a fresh token', async () => {
    const c = make();
    c.subscribe(instruments(3), FeedMode.QUOTE);
    c.start();
    const first = await server.nextConnection();
    const fatal = once<[{ feedCode?: number }]>(c, 'fatal');
    first.socket.send(
      encodeDisconnectPacket({ segment: ExchangeSegment.IDX_I, securityId: 0, reason: 807 }),
    );
    const [info] = await fatal;
    expect(info.feedCode).toBe(807);
    expect(c.state).toBe('fatal');
    expect(clock.pending()).toEqual([]);
    clock.advance(600_000);
    expect(server.conns).toHaveLength(1);

    c.resume();
    const second = await server.nextConnection();
    expect(second.url.searchParams.get('token')).toBe('token-2');
    await server.messages(second, 1);
    expect(second.messages[0].RequestCode).toBe(17);
  });

  it('treats HTTP 401 at the handshake as fatal', async () => {
    await server.close();
    server = await TinyFeedServer.start({
      verifyClient: (_info: unknown, cb: (ok: boolean, code?: number) => void) => cb(false, 401),
    });
    const c = make();
    const fatal = once<[{ httpStatus?: number }]>(c, 'fatal');
    c.start();
    const [info] = await fatal;
    expect(info.httpStatus).toBe(401);
    expect(c.state).toBe('fatal');
    expect(clock.pending()).toEqual([]);
  });

  it('reports 805 and backs off instead of stopping', async () => {
    const c = make();
    c.start();
    const first = await server.nextConnection();
    const error = once<[{ kind: string; feedCode?: number }]>(c, 'error');
    const disconnected = once<[FeedDisconnectInfo]>(c, 'disconnected');
    first.socket.send(
      encodeDisconnectPacket({ segment: ExchangeSegment.IDX_I, securityId: 0, reason: 805 }),
    );
    const [err] = await error;
    expect(err).toMatchObject({ kind: 'TOO_MANY_CONNECTIONS', feedCode: 805 });
    const [info] = await disconnected;
    expect(info).toMatchObject({ cause: 'feed-disconnect', feedCode: 805 });
    expect(c.state).toBe('backoff');
    expect(clock.pending()).toEqual([500]);
  });

  it('forces a reconnect when a subscribed connection is silent during market hours', async () => {
    let marketOpen = false;
    const c = make({ dataStallMs: 30_000, isMarketOpen: () => marketOpen });
    c.subscribe(instruments(2), FeedMode.TICKER);
    c.start();
    await once(c, 'connected');
    clock.advance(120_000);
    expect(c.state).toBe('open');

    marketOpen = true;
    const disconnected = once<[FeedDisconnectInfo]>(c, 'disconnected');
    clock.advance(29_999);
    expect(c.state).toBe('open');
    clock.advance(1);
    const [info] = await disconnected;
    expect(info.cause).toBe('data-stall');
    expect(c.getStats().errors.DATA_STALL).toBe(1);
  });

  it('does not fire the watchdog with no subscriptions', async () => {
    const c = make({ dataStallMs: 30_000 });
    c.start();
    await once(c, 'connected');
    clock.advance(300_000);
    expect(c.state).toBe('open');
    expect(c.getStats().errors.DATA_STALL).toBe(0);
  });

  it('terminates when a ping is not answered in time', async () => {
    await server.close();
    server = await TinyFeedServer.start({ autoPong: false });
    const c = make({ pingIntervalMs: 10_000, pongTimeoutMs: 5_000 });
    c.start();
    await once(c, 'connected');
    const first = await server.nextConnection();
    const pinged = new Promise<void>((resolve) => first.socket.once('ping', () => resolve()));
    clock.advance(10_000);
    await pinged;
    const disconnected = once<[FeedDisconnectInfo]>(c, 'disconnected');
    clock.advance(5_000);
    expect((await disconnected)[0].cause).toBe('pong-timeout');
  });

  it('counts a malformed frame, drops it and keeps decoding later frames', async () => {
    const c = make();
    const packets: FeedPacket[] = [];
    c.on('packet', (p) => packets.push(p));
    c.start();
    const first = await server.nextConnection();
    const got = once(c, 'packet');
    first.socket.send(Buffer.from('02ff7f0000', 'hex'));
    first.socket.send('not binary');
    first.socket.send(
      encodeTicker({
        segment: ExchangeSegment.NSE_EQ,
        securityId: 1333,
        ltp: 1234.5,
        ltt: 1_764_050_400,
      }),
    );
    await got;
    expect(packets).toEqual([
      expect.objectContaining({ securityId: 1333, ltp: 1234.5, ltt: 1_764_050_400 }),
    ]);
    const stats = c.getStats();
    expect(stats.errors[FeedDecodeError.TRUNCATED_HEADER]).toBe(1);
    expect(stats.errors.TEXT_FRAME).toBe(1);
    expect(stats.frames).toBe(2);
    expect(stats.lastMessageAt).toBe(clock.now());
    expect(c.state).toBe('open');
  });

  it('closes the socket on a 10 MB frame instead of buffering it', async () => {
    const c = make();
    c.start();
    const first = await server.nextConnection();
    const disconnected = once<[FeedDisconnectInfo]>(c, 'disconnected');
    first.socket.send(Buffer.alloc(10 * 1024 * 1024));
    const [info] = await disconnected;
    expect(info.cause).toBe('oversize-frame');
    expect(c.getStats().errors.OVERSIZE_FRAME).toBe(1);
    expect(c.getStats().frames).toBe(0);
    expect(c.state).toBe('backoff');
  });

  it('keeps one mode per instrument (higher wins) and sends unsubscribe with the mode it had', async () => {
    const c = make();
    c.start();
    const first = await server.nextConnection();
    await once(c, 'connected');
    const a = instruments(2);
    c.subscribe(a, FeedMode.TICKER);
    c.subscribe(a.slice(0, 1), FeedMode.FULL);
    c.subscribe(a, FeedMode.QUOTE);
    c.unsubscribe(a);
    await server.messages(first, 7);
    expect(
      first.messages.map((m) => [m.RequestCode, m.InstrumentList.map((i) => i.SecurityId)]),
    ).toEqual([
      [15, ['1', '2']],
      [16, ['1']],
      [21, ['1']],
      [16, ['2']],
      [17, ['2']],
      [22, ['1']],
      [18, ['2']],
    ]);
    expect(c.subscriptionCount).toBe(0);
  });

  it('emits all packets of a frame together, and reconnect() cycles the socket', async () => {
    const c = make();
    const batches: FeedPacket[][] = [];
    c.on('packets', (b) => batches.push(b));
    c.start();
    const first = await server.nextConnection();
    const got = once(c, 'packet');
    first.socket.send(
      Buffer.concat([
        encodeTicker({
          segment: ExchangeSegment.NSE_EQ,
          securityId: 1,
          ltp: 10,
          ltt: 1_764_050_400,
        }),
        encodeTicker({
          segment: ExchangeSegment.NSE_EQ,
          securityId: 2,
          ltp: 20,
          ltt: 1_764_050_400,
        }),
      ]),
    );
    await got;
    expect(batches.map((b) => b.map((p) => p.securityId))).toEqual([[1, 2]]);
    const disconnected = once<[FeedDisconnectInfo]>(c, 'disconnected');
    c.reconnect();
    expect((await disconnected)[0].cause).toBe('forced');
    clock.advance(500);
    await server.nextConnection();
    await once(c, 'connected');
    expect(c.getStats().reconnects).toBe(1);
  });

  it('reports a malformed URL as fatal instead of throwing', async () => {
    conn = new FeedConnection({
      url: 'not a url',
      clientId: '1',
      token: () => 't',
      clock,
      pingIntervalMs: 0,
    });
    const fatal = new Promise<{ message: string }>((resolve) => conn?.once('fatal', resolve));
    conn.start();
    expect((await fatal).message).toMatch(/cannot open the feed socket/);
    expect(conn.state).toBe('fatal');
  });

  it('refuses more than 5000 instruments on one connection', () => {
    const c = make();
    c.subscribe(instruments(5000), FeedMode.TICKER);
    expect(() => c.subscribe(instruments(1, ExchangeSegment.NSE_EQ), FeedMode.TICKER)).toThrow(
      /exceed 5000/,
    );
    expect(c.subscriptionCount).toBe(5000);
  });
});
