import WebSocket, { type ClientOptions } from 'ws';

export interface CloseInfo {
  code: number;
  reason: string;
}

export type ServerMessage = { type?: unknown; id?: unknown; payload?: unknown } & Record<
  string,
  unknown
>;

/** A graphql-ws socket driven frame by frame, for protocol tests (no client library). */
export interface RawSocket {
  socket: WebSocket;
  /** Every text frame received, parsed (a frame that is not JSON is kept as `{ raw }`). */
  messages: ServerMessage[];
  closed: Promise<CloseInfo>;
  /** Set once closed. */
  closeInfo?: CloseInfo;
  /** WebSocket pings received (counted from the upgrade on, so none is missed). */
  pings: number;
  /** Messages received of this type. */
  count(type: string): number;
  /** Resolves once `condition` holds, checked at each message; rejects on close/deadline. */
  waitUntil(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  send(message: unknown): void;
  sendRaw(data: string | Buffer, binary?: boolean): void;
  /** Resolves with the first message (from the start) matching, or rejects on close/deadline. */
  waitFor(
    predicate: (message: ServerMessage) => boolean,
    timeoutMs?: number,
  ): Promise<ServerMessage>;
  /** connection_init with this token; resolves on connection_ack. */
  init(token: string): Promise<void>;
  terminate(): void;
}

const WAIT_MS = 30_000;

export function openRaw(
  url: string,
  protocol: string | undefined = 'graphql-transport-ws',
  options: ClientOptions = {},
): Promise<RawSocket> {
  const socket = new WebSocket(url, protocol === undefined ? [] : [protocol], options);
  const messages: ServerMessage[] = [];
  const counts = new Map<string, number>();
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((listener) => listener());
  const closed = new Promise<CloseInfo>((resolve) =>
    socket.once('close', (code, reason) => {
      raw.closeInfo = { code, reason: reason.toString('utf8') };
      resolve(raw.closeInfo);
      notify();
    }),
  );
  socket.on('message', (data) => {
    const text = String(data);
    try {
      const message = JSON.parse(text) as ServerMessage;
      messages.push(message);
      const type = String(message.type);
      counts.set(type, (counts.get(type) ?? 0) + 1);
    } catch {
      messages.push({ raw: text });
    }
    notify();
  });
  socket.on('error', () => undefined);
  socket.on('ping', () => (raw.pings += 1));
  const raw: RawSocket = {
    socket,
    pings: 0,
    messages,
    closed,
    count: (type) => counts.get(type) ?? 0,
    waitUntil: (condition, what, timeoutMs = WAIT_MS) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (condition()) {
            finish();
            resolve();
          } else if (raw.closeInfo) {
            finish();
            reject(new Error(`socket closed (${raw.closeInfo.code}) waiting for ${what}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out waiting for ${what}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
    send: (message) => socket.send(JSON.stringify(message)),
    sendRaw: (data, binary = false) => socket.send(data, { binary }),
    waitFor: (predicate, timeoutMs = WAIT_MS) =>
      new Promise<ServerMessage>((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate);
          if (found) {
            finish();
            resolve(found);
          } else if (raw.closeInfo) {
            finish();
            reject(new Error(`socket closed (${raw.closeInfo.code} ${raw.closeInfo.reason})`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error('no such message in time'));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
    init: async (token) => {
      raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
      await raw.waitFor((m) => m.type === 'connection_ack');
    },
    terminate: () => socket.terminate(),
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(raw));
    socket.once('unexpected-response', () => reject(new Error('upgrade refused')));
    socket.once('error', reject);
  });
}

/** Polls `condition` until it holds, or fails after the deadline (no fixed sleeps). */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
