import { EventEmitter } from 'node:events';
import http from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import {
  ExchangeSegment,
  FEED_LIMITS,
  FeedDisconnectCode,
  FeedMode,
  FeedRequestCode,
  FeedResponseCode,
} from '@app/dhan/types';
import { Account, Accounts, SimulatorLogger, silentLogger } from './accounts';
import {
  PACKET_SIZE,
  encodeDisconnect,
  writeFull,
  writeHeader,
  writeOi,
  writePrevClose,
  writeQuote,
  writeTicker,
} from './feed-encoder';
import { Clock, DepthLevel, Market } from './market';
import { SimInstrument, Universe } from './universe';

/** Whether a segment trades at an instant (the market calendar); CLOSED and PRE_OPEN send no ticks. */
export type MarketHours = (
  segment: ExchangeSegment,
  epochMs: number,
) => 'OPEN' | 'PRE_OPEN' | 'CLOSED';

export interface FeedServerOptions {
  /** Follow market hours: no ticks while a segment is closed. Default: always open. */
  marketHours?: MarketHours;
  host?: string;
  /** 0 = a random free port. */
  port?: number;
  /** Interval of each connection's tick timer. Default 100 ms. */
  tickIntervalMs?: number;
  /** WebSocket ping period. Default 10 s (DhanHQ v2: feed pings). */
  pingIntervalMs?: number;
  /** A client silent (no pong) this long is terminated. Default 40 s. */
  pongTimeoutMs?: number;
  /** Added to true epoch seconds in LTT fields. Default 19,800 (IST wall clock, DhanHQ v2: LTT is IST wall clock). */
  lttOffsetSeconds?: number;
  /** Index instruments (IDX_I) answer with ticker packets in every mode. Default true. */
  indexAsTicker?: boolean;
  /** Upper bound of one binary frame. Default 16 KiB. */
  maxFrameBytes?: number;
  /** A connection with more unsent bytes than this skips ticks. Default 8 MiB. */
  maxBufferedBytes?: number;
  maxConnectionsPerClient?: number;
  maxInstrumentsPerConnection?: number;
  maxInstrumentsPerMessage?: number;
  logger?: SimulatorLogger;
}

export type MalformedKind =
  'truncated' | 'bad-length' | 'short-length' | 'unknown-code' | 'zero-length';

export interface SilenceOptions {
  /** Keep answering WebSocket pings (TCP and WS alive, no data). Default false. */
  answerPings?: boolean;
}

export interface FeedConnectionInfo {
  id: number;
  clientId: string;
  subscriptions: Record<FeedMode, number> & { total: number };
  messagesReceived: number;
  packetsSent: number;
  framesSent: number;
  bytesSent: number;
  silent: boolean;
  connectedAt: number;
}

export interface FeedServerEvents {
  connection: [info: FeedConnectionInfo];
  authFailed: [reason: number];
  request: [connectionId: number, requestCode: number];
  disconnectSent: [connectionId: number, reason: number];
  closed: [connectionId: number];
}

const MODE_BIT: Record<FeedMode, number> = {
  [FeedMode.TICKER]: 1,
  [FeedMode.QUOTE]: 2,
  [FeedMode.FULL]: 4,
};

const REQUEST_MODE: Partial<Record<number, { mode: FeedMode; subscribe: boolean }>> = {
  [FeedRequestCode.SUBSCRIBE_TICKER]: { mode: FeedMode.TICKER, subscribe: true },
  [FeedRequestCode.UNSUBSCRIBE_TICKER]: { mode: FeedMode.TICKER, subscribe: false },
  [FeedRequestCode.SUBSCRIBE_QUOTE]: { mode: FeedMode.QUOTE, subscribe: true },
  [FeedRequestCode.UNSUBSCRIBE_QUOTE]: { mode: FeedMode.QUOTE, subscribe: false },
  [FeedRequestCode.SUBSCRIBE_FULL]: { mode: FeedMode.FULL, subscribe: true },
  [FeedRequestCode.UNSUBSCRIBE_FULL]: { mode: FeedMode.FULL, subscribe: false },
};

interface Subscription {
  inst: SimInstrument;
  modes: number;
  rate: number;
  /** Accumulated tick credit: the instrument ticks when it reaches 1. */
  credit: number;
}

interface Connection {
  id: number;
  account: Account;
  ws: WebSocket;
  socket: Socket;
  subs: Map<number, Subscription>;
  messagesReceived: number;
  packetsSent: number;
  framesSent: number;
  bytesSent: number;
  silent: boolean;
  lastPongAt: number;
  lastTickAt: number;
  connectedAt: number;
  timer: NodeJS.Timeout;
  closing: boolean;
}

const MAX_PACKETS_PER_INSTRUMENT = PACKET_SIZE.QUOTE + PACKET_SIZE.OI + PACKET_SIZE.FULL;

/**
 * The v2 market feed: JSON requests in, little-endian binary packets out, several per frame,
 * with DhanHQ's limits and disconnect codes, plus fault hooks for tests.
 */
export class FeedServer extends EventEmitter<FeedServerEvents> {
  private readonly http: http.Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<number, Connection>();
  private readonly byClient = new Map<string, Connection[]>();
  private readonly depthScratch: DepthLevel[] = [];
  private nextId = 1;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly opts: Required<Omit<FeedServerOptions, 'logger' | 'marketHours'>>;
  private readonly marketHours: MarketHours | undefined;
  /** Per segment: open or not, for the current second (the calendar is read once a second). */
  private readonly openCache = new Map<ExchangeSegment, { second: number; open: boolean }>();
  private readonly logger: SimulatorLogger;
  /** Counters over the server's life. */
  readonly stats = {
    accepted: 0,
    authFailures: 0,
    unknownRequests: 0,
    invalidMessages: 0,
    unknownInstruments: 0,
    pongTimeouts: 0,
    ticksSkippedBackpressure: 0,
    disconnectsSent: {} as Record<number, number>,
  };

  constructor(
    private readonly universe: Universe,
    private readonly market: Market,
    private readonly accounts: Accounts,
    private readonly clock: Clock,
    options: FeedServerOptions = {},
  ) {
    super();
    this.opts = {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      tickIntervalMs: options.tickIntervalMs ?? 100,
      pingIntervalMs: options.pingIntervalMs ?? 10_000,
      pongTimeoutMs: options.pongTimeoutMs ?? 40_000,
      lttOffsetSeconds: options.lttOffsetSeconds ?? 19_800,
      indexAsTicker: options.indexAsTicker ?? true,
      maxFrameBytes: Math.max(options.maxFrameBytes ?? 16_384, MAX_PACKETS_PER_INSTRUMENT),
      maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
      maxConnectionsPerClient: options.maxConnectionsPerClient ?? FEED_LIMITS.maxConnections,
      maxInstrumentsPerConnection:
        options.maxInstrumentsPerConnection ?? FEED_LIMITS.maxInstrumentsPerConnection,
      maxInstrumentsPerMessage:
        options.maxInstrumentsPerMessage ?? FEED_LIMITS.maxInstrumentsPerMessage,
    };
    this.marketHours = options.marketHours;
    this.logger = options.logger ?? silentLogger;
    this.http = http.createServer((_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only');
    });
    this.wss = new WebSocketServer({ server: this.http, maxPayload: 1024 * 1024 });
    this.wss.on('connection', (ws, req) => this.onConnection(ws, req));
    this.accounts.on('tokenExpired', (account) =>
      this.disconnectClient(account.clientId, FeedDisconnectCode.ACCESS_TOKEN_EXPIRED),
    );
    this.accounts.on('dataPlanOff', (account) =>
      this.disconnectClient(account.clientId, FeedDisconnectCode.DATA_API_NOT_SUBSCRIBED),
    );
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.pingTimer = setInterval(() => this.keepAlive(), this.opts.pingIntervalMs);
    const { port } = this.http.address() as AddressInfo;
    return `ws://${this.opts.host}:${port}`;
  }

  async stop(): Promise<void> {
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const conn of [...this.connections.values()]) {
      clearInterval(conn.timer);
      conn.ws.terminate();
      this.forget(conn);
    }
    // sockets already forgotten (closing after a disconnect packet, auth failures) too
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      if (!this.http.listening) return resolve();
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  // ---- inspection ------------------------------------------------------------------------

  connectionInfo(clientId?: string): FeedConnectionInfo[] {
    const list =
      clientId === undefined ? [...this.connections.values()] : (this.byClient.get(clientId) ?? []);
    return list.map((c) => this.info(c));
  }

  /** Subscribed instruments of a connection per mode, as `SEGMENT:securityId`. */
  subscriptions(connectionId: number): Record<FeedMode, string[]> {
    const out: Record<FeedMode, string[]> = {
      [FeedMode.TICKER]: [],
      [FeedMode.QUOTE]: [],
      [FeedMode.FULL]: [],
    };
    const conn = this.connections.get(connectionId);
    if (!conn) return out;
    for (const sub of conn.subs.values()) {
      for (const mode of Object.values(FeedMode)) {
        if (sub.modes & MODE_BIT[mode]) out[mode].push(`${sub.inst.segment}:${sub.inst.id}`);
      }
    }
    return out;
  }

  // ---- fault hooks -----------------------------------------------------------------------

  /** TCP reset, no close frame. */
  dropConnection(connectionId: number): void {
    const conn = this.mustGet(connectionId);
    this.forget(conn);
    conn.socket.resetAndDestroy();
  }

  /** Half-open: the socket stays, data stops; pings are not answered unless asked. */
  goSilent(connectionId: number, options: SilenceOptions = {}): void {
    const conn = this.mustGet(connectionId);
    conn.silent = true;
    if (!options.answerPings) conn.ws.pause();
  }

  resume(connectionId: number): void {
    const conn = this.mustGet(connectionId);
    conn.silent = false;
    conn.ws.resume();
  }

  sendMalformed(connectionId: number, kind: MalformedKind): void {
    const conn = this.mustGet(connectionId);
    conn.ws.send(malformedFrame(kind), { binary: true });
  }

  /** Sends a disconnect packet with a reason; closes the socket unless `close` is false. */
  sendDisconnect(connectionId: number, reason: number, close = true): void {
    const conn = this.mustGet(connectionId);
    if (close) this.disconnect(conn, reason);
    else conn.ws.send(encodeDisconnect(reason), { binary: true });
  }

  /** Sends raw bytes as one binary frame (for tests of odd packets such as code 7). */
  sendRaw(connectionId: number, frame: Buffer): void {
    this.mustGet(connectionId).ws.send(frame, { binary: true });
  }

  // ---- connection handling ---------------------------------------------------------------

  private onConnection(ws: WebSocket, req: http.IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const auth = this.accounts.authenticate(
      url.searchParams.get('clientId'),
      url.searchParams.get('token'),
      true,
    );
    if (!auth.ok) {
      this.stats.authFailures++;
      this.countDisconnect(auth.reason);
      this.emit('authFailed', auth.reason);
      ws.send(encodeDisconnect(auth.reason), { binary: true }, () => ws.close(1000));
      return;
    }
    this.stats.accepted++;
    const clientId = auth.account.clientId;
    const existing = this.byClient.get(clientId) ?? [];
    while (existing.length >= this.opts.maxConnectionsPerClient) {
      const oldest = existing[0];
      this.disconnect(oldest, FeedDisconnectCode.TOO_MANY_CONNECTIONS);
    }
    const now = performance.now();
    const conn: Connection = {
      id: this.nextId++,
      account: auth.account,
      ws,
      socket: req.socket,
      subs: new Map(),
      messagesReceived: 0,
      packetsSent: 0,
      framesSent: 0,
      bytesSent: 0,
      silent: false,
      lastPongAt: now,
      lastTickAt: now,
      connectedAt: this.clock.now(),
      timer: setInterval(() => this.tick(conn), this.opts.tickIntervalMs),
      closing: false,
    };
    this.connections.set(conn.id, conn);
    const list = this.byClient.get(clientId) ?? [];
    list.push(conn);
    this.byClient.set(clientId, list);
    ws.on('pong', () => {
      conn.lastPongAt = performance.now();
    });
    ws.on('message', (data, isBinary) => this.onMessage(conn, data, isBinary));
    ws.on('close', () => this.forget(conn));
    ws.on('error', (err) => this.logger.debug('feed socket error', { error: err.message }));
    this.logger.debug('feed connection', { id: conn.id, clientId });
    this.emit('connection', this.info(conn));
  }

  private onMessage(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.closing) return;
    conn.messagesReceived++;
    const code = this.handleMessage(conn, data, isBinary);
    this.emit('request', conn.id, code);
  }

  /** Handles one client message; returns its request code (NaN when unreadable). */
  private handleMessage(conn: Connection, data: RawData, isBinary: boolean): number {
    if (isBinary) {
      // the SDK's legacy 83-byte disconnect header (DhanHQ v2: feed requests): harmless, ignored
      this.stats.invalidMessages++;
      return NaN;
    }
    let request: unknown;
    try {
      request = JSON.parse(data.toString());
    } catch {
      this.stats.invalidMessages++;
      return NaN;
    }
    if (typeof request !== 'object' || request === null) {
      this.stats.invalidMessages++;
      return NaN;
    }
    const body = request as Record<string, unknown>;
    const code = Number(body.RequestCode);
    if (code === FeedRequestCode.DISCONNECT) {
      conn.closing = true;
      this.forget(conn);
      conn.ws.close(1000);
      return code;
    }
    const action = REQUEST_MODE[code];
    if (!action) {
      this.stats.unknownRequests++;
      return code;
    }
    const list = Array.isArray(body.InstrumentList) ? (body.InstrumentList as unknown[]) : [];
    if (list.length > this.opts.maxInstrumentsPerMessage) {
      this.disconnect(conn, FeedDisconnectCode.INSTRUMENTS_EXCEED_LIMIT);
      return code;
    }
    const instruments: SimInstrument[] = [];
    for (const item of list) {
      if (typeof item !== 'object' || item === null) continue;
      const entry = item as Record<string, unknown>;
      const inst = this.universe.get(String(entry.ExchangeSegment), String(entry.SecurityId));
      if (inst) instruments.push(inst);
      else this.stats.unknownInstruments++;
    }
    if (action.subscribe) this.subscribe(conn, action.mode, instruments);
    else this.unsubscribe(conn, action.mode, instruments);
    return code;
  }

  private subscribe(conn: Connection, mode: FeedMode, instruments: SimInstrument[]): void {
    let added = 0;
    const seen = new Set<number>();
    for (const inst of instruments) {
      if (!conn.subs.has(inst.key) && !seen.has(inst.key)) added++;
      seen.add(inst.key);
    }
    if (conn.subs.size + added > this.opts.maxInstrumentsPerConnection) {
      this.disconnect(conn, FeedDisconnectCode.INSTRUMENTS_EXCEED_LIMIT);
      return;
    }
    const now = this.clock.now();
    const frame = Buffer.allocUnsafe(instruments.length * PACKET_SIZE.PREV_CLOSE);
    let offset = 0;
    for (const inst of instruments) {
      let sub = conn.subs.get(inst.key);
      if (!sub) {
        sub = { inst, modes: 0, rate: this.market.tickRate(inst), credit: 1 };
        conn.subs.set(inst.key, sub);
      }
      sub.modes |= MODE_BIT[mode];
      sub.credit = 1;
      const state = this.market.mark(inst, now);
      offset = writePrevClose(
        frame,
        offset,
        inst.segmentCode,
        inst.id,
        state.prevClose,
        state.prevOi,
      );
    }
    if (offset > 0 && !conn.silent) this.send(conn, frame.subarray(0, offset), instruments.length);
  }

  private unsubscribe(conn: Connection, mode: FeedMode, instruments: SimInstrument[]): void {
    for (const inst of instruments) {
      const sub = conn.subs.get(inst.key);
      if (!sub) continue;
      sub.modes &= ~MODE_BIT[mode];
      if (sub.modes === 0) conn.subs.delete(inst.key);
    }
  }

  /** One timer per connection: every due instrument's packets, batched into frames. */
  private tick(conn: Connection): void {
    const nowPerf = performance.now();
    const dt = (nowPerf - conn.lastTickAt) / 1000;
    conn.lastTickAt = nowPerf;
    if (conn.silent || conn.closing || conn.subs.size === 0) return;
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    if (conn.ws.bufferedAmount > this.opts.maxBufferedBytes) {
      this.stats.ticksSkippedBackpressure++;
      return;
    }
    const now = this.clock.now();
    const ltt = Math.floor(now / 1000) + this.opts.lttOffsetSeconds;
    const limit = this.opts.maxFrameBytes;
    let frame = Buffer.allocUnsafe(limit);
    let offset = 0;
    let packets = 0;
    for (const sub of conn.subs.values()) {
      sub.credit += sub.rate * dt;
      if (sub.credit < 1) continue;
      sub.credit = Math.min(sub.credit - 1, 1);
      if (limit - offset < MAX_PACKETS_PER_INSTRUMENT) {
        this.send(conn, frame.subarray(0, offset), packets);
        frame = Buffer.allocUnsafe(limit);
        offset = 0;
        packets = 0;
      }
      const inst = sub.inst;
      if (!this.trading(inst.segment, now)) continue;
      const state = this.market.trade(inst, now);
      const asTicker =
        sub.modes < MODE_BIT[FeedMode.QUOTE] ||
        (this.opts.indexAsTicker && inst.segment === ExchangeSegment.IDX_I);
      if (asTicker) {
        offset = writeTicker(frame, offset, inst.segmentCode, inst.id, state.ltp, ltt);
        packets++;
      } else if (sub.modes >= MODE_BIT[FeedMode.FULL]) {
        const depth = this.market.depth(inst, state, this.depthScratch);
        const atp = this.market.averagePrice(state);
        offset = writeFull(frame, offset, inst.segmentCode, inst.id, state, atp, ltt, depth);
        packets++;
      } else {
        const atp = this.market.averagePrice(state);
        offset = writeQuote(frame, offset, inst.segmentCode, inst.id, state, atp, ltt);
        packets++;
        if (inst.isDerivative) {
          offset = writeOi(frame, offset, inst.segmentCode, inst.id, state.oi);
          packets++;
        }
      }
    }
    if (offset > 0) this.send(conn, frame.subarray(0, offset), packets);
  }

  /** Whether the segment trades now (always, without market hours). */
  private trading(segment: ExchangeSegment, now: number): boolean {
    const hours = this.marketHours;
    if (!hours) return true;
    // Re-read once a second of real time (the simulator's clock may stand still in tests).
    const second = Math.floor(performance.now() / 1000);
    const cached = this.openCache.get(segment);
    if (cached && cached.second === second) return cached.open;
    const open = hours(segment, now) === 'OPEN';
    this.openCache.set(segment, { second, open });
    return open;
  }

  private send(conn: Connection, frame: Buffer, packets: number): void {
    conn.ws.send(frame, { binary: true });
    conn.framesSent++;
    conn.packetsSent += packets;
    conn.bytesSent += frame.length;
  }

  private keepAlive(): void {
    const now = performance.now();
    for (const conn of this.connections.values()) {
      if (conn.silent) continue;
      if (now - conn.lastPongAt > this.opts.pongTimeoutMs) {
        this.stats.pongTimeouts++;
        this.forget(conn);
        conn.ws.terminate();
        continue;
      }
      if (conn.ws.readyState === WebSocket.OPEN) conn.ws.ping();
    }
  }

  private disconnectClient(clientId: string, reason: number): void {
    for (const conn of [...(this.byClient.get(clientId) ?? [])]) this.disconnect(conn, reason);
  }

  /** Disconnect packet, then a close; the connection stops counting at once. */
  private disconnect(conn: Connection, reason: number): void {
    this.countDisconnect(reason);
    this.emit('disconnectSent', conn.id, reason);
    conn.closing = true;
    this.forget(conn);
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    conn.ws.send(encodeDisconnect(reason), { binary: true }, () => conn.ws.close(1000));
    // a peer that never completes the closing handshake is cut after a while
    const guard = setTimeout(() => conn.ws.terminate(), 5_000);
    guard.unref();
    conn.ws.once('close', () => clearTimeout(guard));
  }

  private forget(conn: Connection): void {
    clearInterval(conn.timer);
    if (!this.connections.delete(conn.id)) return;
    const list = this.byClient.get(conn.account.clientId);
    if (list) {
      const i = list.indexOf(conn);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byClient.delete(conn.account.clientId);
    }
    this.emit('closed', conn.id);
  }

  private countDisconnect(reason: number): void {
    this.stats.disconnectsSent[reason] = (this.stats.disconnectsSent[reason] ?? 0) + 1;
  }

  private mustGet(connectionId: number): Connection {
    const conn = this.connections.get(connectionId);
    if (!conn) throw new Error(`no feed connection ${connectionId}`);
    return conn;
  }

  private info(conn: Connection): FeedConnectionInfo {
    const counts = { [FeedMode.TICKER]: 0, [FeedMode.QUOTE]: 0, [FeedMode.FULL]: 0, total: 0 };
    for (const sub of conn.subs.values()) {
      counts.total++;
      for (const mode of Object.values(FeedMode)) if (sub.modes & MODE_BIT[mode]) counts[mode]++;
    }
    return {
      id: conn.id,
      clientId: conn.account.clientId,
      subscriptions: counts,
      messagesReceived: conn.messagesReceived,
      packetsSent: conn.packetsSent,
      framesSent: conn.framesSent,
      bytesSent: conn.bytesSent,
      silent: conn.silent,
      connectedAt: conn.connectedAt,
    };
  }
}

/** Frames a robust decoder must count and skip (docs/RELIABILITY.md F7). */
export function malformedFrame(kind: MalformedKind): Buffer {
  switch (kind) {
    case 'zero-length':
      return Buffer.alloc(0);
    case 'truncated': {
      const full = Buffer.alloc(PACKET_SIZE.TICKER);
      writeHeader(full, 0, FeedResponseCode.TICKER, PACKET_SIZE.TICKER, 1, 2885);
      full.writeFloatLE(100, 8);
      return full.subarray(0, 10);
    }
    case 'bad-length': {
      const buf = Buffer.alloc(PACKET_SIZE.TICKER);
      writeHeader(buf, 0, FeedResponseCode.TICKER, 400, 1, 2885);
      buf.writeFloatLE(100, 8);
      return buf;
    }
    case 'short-length': {
      const buf = Buffer.alloc(PACKET_SIZE.TICKER);
      writeHeader(buf, 0, FeedResponseCode.TICKER, 4, 1, 2885);
      return buf;
    }
    case 'unknown-code': {
      const buf = Buffer.alloc(PACKET_SIZE.TICKER);
      writeHeader(buf, 0, 99, PACKET_SIZE.TICKER, 1, 2885);
      return buf;
    }
  }
}
