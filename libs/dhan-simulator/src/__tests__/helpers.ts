import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import { DhanSimulator, DhanSimulatorOptions, SimulatorUrls } from '../simulator';

/** A tiny test-local decoder: header fields only, plus a view for offset reads. */
export interface Packet {
  code: number;
  length: number;
  segment: number;
  securityId: number;
  bytes: Buffer;
}

export function splitPackets(frame: Buffer): Packet[] {
  const out: Packet[] = [];
  let offset = 0;
  while (offset + 8 <= frame.length) {
    const length = frame.readInt16LE(offset + 1);
    if (length < 8 || offset + length > frame.length) break;
    out.push({
      code: frame[offset],
      length,
      segment: frame[offset + 3],
      securityId: frame.readInt32LE(offset + 4),
      bytes: frame.subarray(offset, offset + length),
    });
    offset += length;
  }
  return out;
}

/** Raw feed client collecting frames; `until` awaits a condition over what has arrived. */
export class FeedTestClient extends EventEmitter {
  readonly frames: Buffer[] = [];
  readonly packets: Packet[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;
  private isClosed = false;

  constructor(readonly ws: WebSocket) {
    super();
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      ws.once('close', (code) => {
        this.isClosed = true;
        resolve(code);
        this.emit('change');
      });
    });
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      this.frames.push(data);
      this.packets.push(...splitPackets(data));
      this.emit('change');
    });
  }

  send(request: unknown): void {
    this.ws.send(JSON.stringify(request));
  }

  subscribe(code: number, list: [string, string | number][]): void {
    this.send({
      RequestCode: code,
      InstrumentCount: list.length,
      InstrumentList: list.map(([seg, id]) => ({ ExchangeSegment: seg, SecurityId: String(id) })),
    });
  }

  /** Resolves once `check` passes; fails after `timeoutMs` with `what`. */
  until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onChange = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.off('change', onChange);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('change', onChange);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.on('change', onChange);
    });
  }

  get closedNow(): boolean {
    return this.isClosed;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.ws.terminate();
    await this.closed;
  }
}

export function feedAddress(urls: SimulatorUrls, clientId: string, token: string): string {
  return `${urls.feedUrl}/?version=2&token=${encodeURIComponent(token)}&clientId=${encodeURIComponent(clientId)}&authType=2`;
}

export async function connectFeed(
  sim: DhanSimulator,
  urls: SimulatorUrls,
  credentials: { clientId?: string; token?: string } = {},
): Promise<FeedTestClient> {
  const client = new FeedTestClient(
    new WebSocket(
      feedAddress(
        urls,
        credentials.clientId ?? sim.credentials.clientId,
        credentials.token ?? sim.credentials.accessToken,
      ),
    ),
  );
  await client.opened;
  return client;
}

/** Simulator options for fast tests: every subscribed instrument ticks on every interval. */
export function fastOptions(extra: DhanSimulatorOptions = {}): DhanSimulatorOptions {
  return {
    seed: 7,
    today: '2026-11-25',
    clock: { now: () => Date.parse('2026-11-25T05:00:00Z') },
    tickIntervalMs: 20,
    market: { tickRate: () => 1000 },
    ...extra,
  };
}

/** Resolves on the first emission of `event` matching `filter`. */
export function nextEvent<T extends unknown[]>(
  emitter: EventEmitter,
  event: string,
  filter: (...args: T) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]): void => {
      if (!filter(...(args as T))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}

/** Resolves once `check` passes, re-checking on every emission of `event`. */
export function untilEvent(
  emitter: EventEmitter,
  event: string,
  check: () => boolean,
  what: string,
  timeoutMs = 5_000,
): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const listener = (): void => {
      if (!check()) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve();
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    emitter.on(event, listener);
  });
}
