import {
  ExchangeSegment,
  FeedConnection,
  FeedConnectionOptions,
  FeedDecodeError,
  FeedInstrument,
  FeedMode,
  FeedPacket,
  FeedResponseCode,
} from '@app/dhan';
import { DhanSimulator, DhanSimulatorOptions, SimulatorUrls } from '@app/dhan-simulator';

/** Anything with on/off: Node's EventEmitter (typed or not) and the client's TypedEmitter. */
export interface EventSource {
  on(event: never, listener: never): unknown;
  off(event: never, listener: never): unknown;
}

type Listener = (...args: never[]) => void;

interface LooseEmitter {
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/** Event names and payloads are checked by the callers' generics, not here. */
function loose(emitter: EventSource): LooseEmitter {
  return emitter as unknown as LooseEmitter;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Resolves with the arguments of the first `event` for which `predicate` holds. */
export function waitFor<A extends unknown[] = unknown[]>(
  emitter: EventSource,
  event: string,
  predicate: (...args: A) => boolean = () => true,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<A> {
  return new Promise<A>((resolve, reject) => {
    const listener = (...args: A): void => {
      let ok: boolean;
      try {
        ok = predicate(...args);
      } catch (err) {
        cleanup();
        reject(err as Error);
        return;
      }
      if (!ok) return;
      cleanup();
      resolve(args);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      loose(emitter).off(event, listener as unknown as Listener);
    };
    loose(emitter).on(event, listener as unknown as Listener);
  });
}

/**
 * Resolves once `condition` holds. It is re-checked on every listed event and, as a fallback
 * for state that changes without an event, every 25 ms; the timeout rejects with `label`.
 */
export function until(
  condition: () => boolean,
  label: string,
  sources: Array<[EventSource, string]> = [],
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const check = (): void => {
      if (done) return;
      let ok: boolean;
      try {
        ok = condition();
      } catch (err) {
        finish();
        reject(err as Error);
        return;
      }
      if (ok) {
        finish();
        resolve();
      }
    };
    const poll = setInterval(check, 25);
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`timed out after ${timeoutMs} ms waiting until ${label}`));
    }, timeoutMs);
    const finish = (): void => {
      done = true;
      clearInterval(poll);
      clearTimeout(timer);
      for (const [emitter, event] of sources) loose(emitter).off(event, check);
    };
    for (const [emitter, event] of sources) loose(emitter).on(event, check);
    check();
  });
}

const MARKET_DATA = new Set<number>([
  FeedResponseCode.TICKER,
  FeedResponseCode.QUOTE,
  FeedResponseCode.FULL,
]);

/** Ticker / quote / full packets only: what a trade on the simulator produces (not prev close). */
export function isTick(p: FeedPacket): boolean {
  return MARKET_DATA.has(p.type);
}

/** Counts market-data packets of a connection, per instrument too. */
export class TickCounter {
  total = 0;
  readonly byInstrument = new Map<string, number>();
  private readonly listener = (p: FeedPacket): void => {
    if (!isTick(p)) return;
    this.total++;
    const key = `${p.segment}:${p.securityId}`;
    this.byInstrument.set(key, (this.byInstrument.get(key) ?? 0) + 1);
  };

  constructor(readonly conn: FeedConnection) {
    conn.on('packet', this.listener);
  }

  /** Resolves once `more` further ticks arrived. */
  async more(more: number, label: string, timeoutMs?: number): Promise<void> {
    const target = this.total + more;
    await until(
      () => this.total >= target,
      `${label}: ${more} more ticks on ${this.conn.name}`,
      [[this.conn, 'packet']],
      timeoutMs,
    );
  }
}

export function decodeErrorCount(conn: FeedConnection): number {
  const errors = conn.getStats().errors;
  return Object.values(FeedDecodeError).reduce((sum, kind) => sum + errors[kind], 0);
}

/** Backoff for tests: the ceiling itself (no jitter), small steps, never reset within a test. */
export function testBackoff(baseMs: number, capMs = baseMs * 4): FeedConnectionOptions['backoff'] {
  return { baseMs, capMs, stableMs: 60_000, random: () => 1 };
}

export interface SimHarness {
  sim: DhanSimulator;
  urls: SimulatorUrls;
}

export async function startSimulator(options: DhanSimulatorOptions = {}): Promise<SimHarness> {
  const sim = new DhanSimulator({ seed: 3, tickIntervalMs: 25, ...options });
  const urls = await sim.start();
  return { sim, urls };
}

/** `SEGMENT:id` keys, as the simulator's inspection API writes them, sorted. */
export function keysOf(instruments: readonly FeedInstrument[]): string[] {
  return instruments.map((i) => `${i.segment}:${i.securityId}`).sort();
}

/** Liquid cash-market instruments that tick often under the simulator's default activity. */
export function liquidEquities(sim: DhanSimulator, count: number): FeedInstrument[] {
  return sim.universe.instruments
    .filter((i) => i.segment === ExchangeSegment.NSE_EQ)
    .sort((a, b) => a.moneynessRank - b.moneynessRank)
    .slice(0, count)
    .map((i) => ({ segment: i.segment, securityId: String(i.id) }));
}

/**
 * Starts `conn` and returns the simulator's id for its socket. Connections must be started
 * one at a time for the pairing to be unambiguous.
 */
export async function startPaired(sim: DhanSimulator, conn: FeedConnection): Promise<number> {
  const accepted = waitFor<[{ id: number }]>(sim.feed, 'connection');
  const connected = waitFor(conn, 'connected');
  conn.start();
  const [[info]] = await Promise.all([accepted, connected]);
  return info.id;
}

/** Resolves once the simulator holds `expected` subscriptions on connection `id`. */
export async function simSubscriptionsReach(
  sim: DhanSimulator,
  id: number,
  expected: number,
): Promise<void> {
  await until(
    () => sim.feed.connectionInfo().find((c) => c.id === id)?.subscriptions.total === expected,
    `the simulator holds ${expected} subscriptions on connection ${id}`,
    [[sim.feed, 'request']],
  );
}

export function simSubscriptionSets(sim: DhanSimulator, id: number): Record<FeedMode, string[]> {
  const subs = sim.feed.subscriptions(id);
  return {
    [FeedMode.TICKER]: [...subs[FeedMode.TICKER]].sort(),
    [FeedMode.QUOTE]: [...subs[FeedMode.QUOTE]].sort(),
    [FeedMode.FULL]: [...subs[FeedMode.FULL]].sort(),
  };
}
