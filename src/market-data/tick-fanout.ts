import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { MarketDataError, MarketDataErrorCode } from './market-data.errors';
import { TickSerializer } from './tick-serializer';
import { TickRecord, TickStore } from './tick-store';

/** The transport side of one client connection (a graphql-ws socket). */
export interface FanoutClient {
  /** Bytes queued but not yet written to the network (ws `bufferedAmount`). */
  unsentBytes(): number;
  /** Ends the connection; called at most once, by the fan-out, with a clear reason. */
  close(reason: FanoutCloseReason, message: string): void;
}

/**
 * Receives one batch: a JSON array of Tick objects (see serializeTick), ready to be spliced
 * into the transport message, and how many ticks it holds.
 */
export type TickSink = (payload: string, count: number) => void;

export enum FanoutCloseReason {
  /** Unsent bytes above the hard cap. */
  BACKPRESSURE_HARD_CAP = 'BACKPRESSURE_HARD_CAP',
  /** Above the high-water mark for longer than allowed. */
  BACKPRESSURE_TIMEOUT = 'BACKPRESSURE_TIMEOUT',
  /** The sink threw. */
  SINK_ERROR = 'SINK_ERROR',
}

export interface TickFanoutOptions {
  flushIntervalMs: number;
  /** Above this many unsent bytes a client's batches are held (conflated) ... */
  highWaterBytes: number;
  /** ... until it drains below this. */
  lowWaterBytes: number;
  /** Above this the client is closed at once. */
  hardCapBytes: number;
  /** A client held above the high-water mark longer than this is closed. */
  maxOverHighMs: number;
  maxInstrumentsPerSubscription: number;
  maxSubscriptionsPerClient: number;
  now: () => number;
}

export const TICK_FANOUT_OPTIONS = Symbol('TICK_FANOUT_OPTIONS');

export const DEFAULT_TICK_FANOUT_OPTIONS: Readonly<TickFanoutOptions> = {
  flushIntervalMs: 100,
  highWaterBytes: 256 * 1024,
  lowWaterBytes: 64 * 1024,
  hardCapBytes: 4 * 1024 * 1024,
  maxOverHighMs: 10_000,
  maxInstrumentsPerSubscription: 500,
  maxSubscriptionsPerClient: 20,
  now: () => Date.now(),
};

export interface TickFanoutStats {
  clients: number;
  subscriptions: number;
  /** Distinct instruments wanted by at least one subscription. */
  wantedInstruments: number;
  flushes: number;
  /** Batches handed to sinks. */
  batches: number;
  /** Instrument updates handed to sinks (one batch carries many). */
  updates: number;
  /** Client-flushes skipped because the client was above its high-water mark. */
  heldFlushes: number;
  closedClients: Record<FanoutCloseReason, number>;
  /** Duration of the last flush, ms. */
  lastFlushMs: number;
}

export interface ClientClosedEvent {
  clientId: string;
  reason: FanoutCloseReason;
  message: string;
  /** Instruments no subscription wants any more (release their CLIENT references). */
  noLongerWanted: number[];
}

class Subscription {
  readonly pending = new Set<TickRecord>();
  constructor(
    readonly id: string,
    readonly client: ClientState,
    readonly records: readonly TickRecord[],
    readonly sink: TickSink,
  ) {}
}

class ClientState {
  readonly subs = new Map<string, Subscription>();
  held = false;
  overHighSince = 0;
  constructor(
    readonly id: string,
    readonly transport: FanoutClient,
  ) {}
}

/**
 * Per-client tick delivery. One timer flushes every client: the store's dirty records are
 * spread into each interested subscription's pending set (conflated: a record is pending once
 * whatever number of updates it had), then each subscription gets one batch, built from
 * fragments serialised once per record version and shared by every client.
 *
 * First delivery of a subscription is its snapshot: every requested instrument, in request
 * order; an instrument with no data yet appears with null values and `stale: true`.
 *
 * Backpressure is per client: above `highWaterBytes` its batches are held (pending keeps only
 * the latest state) until it drains below `lowWaterBytes`; above `hardCapBytes`, or held longer
 * than `maxOverHighMs`, it is closed. Sinks are synchronous and never awaited, so one slow
 * client costs the others nothing but its own pending bookkeeping.
 */
@Injectable()
export class TickFanout implements OnModuleDestroy {
  private readonly options: TickFanoutOptions;
  private readonly clients = new Map<string, ClientState>();
  private readonly wantedBy = new Map<number, Set<Subscription>>();
  private readonly closedListeners: Array<(event: ClientClosedEvent) => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private subscriptionCount = 0;
  private readonly counters = {
    flushes: 0,
    batches: 0,
    updates: 0,
    heldFlushes: 0,
    lastFlushMs: 0,
    closedClients: {
      [FanoutCloseReason.BACKPRESSURE_HARD_CAP]: 0,
      [FanoutCloseReason.BACKPRESSURE_TIMEOUT]: 0,
      [FanoutCloseReason.SINK_ERROR]: 0,
    } as Record<FanoutCloseReason, number>,
  };

  constructor(
    private readonly store: TickStore,
    private readonly serializer: TickSerializer,
    @Optional() @Inject(TICK_FANOUT_OPTIONS) options?: Partial<TickFanoutOptions>,
  ) {
    this.options = { ...DEFAULT_TICK_FANOUT_OPTIONS, ...options };
    if (this.options.lowWaterBytes > this.options.highWaterBytes) {
      throw new MarketDataError(
        MarketDataErrorCode.INVALID_ARGUMENT,
        'lowWaterBytes must not exceed highWaterBytes',
      );
    }
  }

  /** Starts the single flush timer (unref'd). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  onModuleDestroy(): void {
    this.stop();
  }

  /** Told when the fan-out closes a client itself (backpressure, sink error). */
  onClientClosed(listener: (event: ClientClosedEvent) => void): () => void {
    this.closedListeners.push(listener);
    return () => {
      const i = this.closedListeners.indexOf(listener);
      if (i >= 0) this.closedListeners.splice(i, 1);
    };
  }

  addClient(clientId: string, transport: FanoutClient): void {
    if (this.clients.has(clientId)) {
      throw new MarketDataError(
        MarketDataErrorCode.INVALID_ARGUMENT,
        `client ${clientId} already exists`,
      );
    }
    this.clients.set(clientId, new ClientState(clientId, transport));
  }

  /** Forgets a client that went away; returns the instruments nobody wants any more. */
  removeClient(clientId: string): number[] {
    const client = this.clients.get(clientId);
    if (!client) return [];
    this.clients.delete(clientId);
    const unwanted: number[] = [];
    for (const sub of client.subs.values()) this.detach(sub, unwanted);
    client.subs.clear();
    return unwanted;
  }

  /**
   * Starts a subscription to instrument keys (duplicates ignored). Returns the instruments no
   * other subscription wanted before (acquire their CLIENT references; on failure call
   * `unsubscribe`, which hands them back). Throws NOT_FOUND, INVALID_ARGUMENT,
   * TOO_MANY_INSTRUMENTS or TOO_MANY_SUBSCRIPTIONS without changing anything.
   */
  subscribe(
    clientId: string,
    subscriptionId: string,
    keys: readonly number[],
    sink: TickSink,
  ): number[] {
    const client = this.clients.get(clientId);
    if (!client) {
      throw new MarketDataError(MarketDataErrorCode.NOT_FOUND, `unknown client ${clientId}`);
    }
    if (client.subs.has(subscriptionId)) {
      throw new MarketDataError(
        MarketDataErrorCode.INVALID_ARGUMENT,
        `subscription ${subscriptionId} already exists on client ${clientId}`,
      );
    }
    const unique = [...new Set(keys)];
    const { maxInstrumentsPerSubscription: maxKeys, maxSubscriptionsPerClient: maxSubs } =
      this.options;
    if (unique.length > maxKeys) {
      throw new MarketDataError(
        MarketDataErrorCode.TOO_MANY_INSTRUMENTS,
        `a subscription may hold at most ${maxKeys} instruments, got ${unique.length}`,
        { max: maxKeys, requested: unique.length },
      );
    }
    if (client.subs.size >= maxSubs) {
      throw new MarketDataError(
        MarketDataErrorCode.TOO_MANY_SUBSCRIPTIONS,
        `a connection may hold at most ${maxSubs} subscriptions`,
        { max: maxSubs },
      );
    }
    const records = unique.map((key) => this.store.ensure(key));
    const sub = new Subscription(subscriptionId, client, records, sink);
    client.subs.set(subscriptionId, sub);
    this.subscriptionCount++;
    const newlyWanted: number[] = [];
    for (const rec of records) {
      let set = this.wantedBy.get(rec.key);
      if (!set) {
        set = new Set();
        this.wantedBy.set(rec.key, set);
        newlyWanted.push(rec.key);
      }
      set.add(sub);
      sub.pending.add(rec);
    }
    return newlyWanted;
  }

  /** Ends one subscription; returns the instruments nobody wants any more. */
  unsubscribe(clientId: string, subscriptionId: string): number[] {
    const client = this.clients.get(clientId);
    const sub = client?.subs.get(subscriptionId);
    if (!client || !sub) return [];
    client.subs.delete(subscriptionId);
    const unwanted: number[] = [];
    this.detach(sub, unwanted);
    return unwanted;
  }

  isWanted(key: number): boolean {
    return this.wantedBy.has(key);
  }

  /** One delivery round for every client; the timer calls it, tests call it directly. */
  flush(): void {
    const started = performance.now();
    const now = this.options.now();
    this.counters.flushes++;
    const dirty = this.store.drainDirty();
    for (let i = 0; i < dirty.length; i++) {
      const subs = this.wantedBy.get(dirty[i].key);
      if (subs) for (const sub of subs) sub.pending.add(dirty[i]);
    }
    for (const client of this.clients.values()) {
      if (this.mayDeliver(client, now)) this.deliver(client);
    }
    this.counters.lastFlushMs = performance.now() - started;
  }

  stats(): TickFanoutStats {
    return {
      clients: this.clients.size,
      subscriptions: this.subscriptionCount,
      wantedInstruments: this.wantedBy.size,
      flushes: this.counters.flushes,
      batches: this.counters.batches,
      updates: this.counters.updates,
      heldFlushes: this.counters.heldFlushes,
      closedClients: { ...this.counters.closedClients },
      lastFlushMs: this.counters.lastFlushMs,
    };
  }

  private mayDeliver(client: ClientState, now: number): boolean {
    const unsent = client.transport.unsentBytes();
    const o = this.options;
    if (unsent > o.hardCapBytes) {
      this.closeClient(
        client,
        FanoutCloseReason.BACKPRESSURE_HARD_CAP,
        `client fell behind: ${unsent} bytes unsent, above the ${o.hardCapBytes}-byte cap`,
      );
      return false;
    }
    if (client.held ? unsent > o.lowWaterBytes : unsent > o.highWaterBytes) {
      if (!client.held) {
        client.held = true;
        client.overHighSince = now;
      } else if (now - client.overHighSince > o.maxOverHighMs) {
        this.closeClient(
          client,
          FanoutCloseReason.BACKPRESSURE_TIMEOUT,
          `client fell behind: above ${o.highWaterBytes} unsent bytes for more than ${o.maxOverHighMs} ms`,
        );
        return false;
      }
      this.counters.heldFlushes++;
      return false;
    }
    client.held = false;
    return true;
  }

  private deliver(client: ClientState): void {
    for (const sub of client.subs.values()) {
      const count = sub.pending.size;
      if (count === 0) continue;
      let payload = '[';
      let first = true;
      for (const rec of sub.pending) {
        payload += first ? this.serializer.fragment(rec) : ',' + this.serializer.fragment(rec);
        first = false;
      }
      payload += ']';
      sub.pending.clear();
      try {
        sub.sink(payload, count);
      } catch (e) {
        this.closeClient(
          client,
          FanoutCloseReason.SINK_ERROR,
          `delivery failed: ${e instanceof Error ? e.message : String(e)}`,
        );
        return;
      }
      this.counters.batches++;
      this.counters.updates += count;
    }
  }

  private closeClient(client: ClientState, reason: FanoutCloseReason, message: string): void {
    if (this.clients.get(client.id) !== client) return;
    const noLongerWanted = this.removeClient(client.id);
    this.counters.closedClients[reason]++;
    try {
      client.transport.close(reason, message);
    } finally {
      const event: ClientClosedEvent = { clientId: client.id, reason, message, noLongerWanted };
      for (const listener of [...this.closedListeners]) listener(event);
    }
  }

  private detach(sub: Subscription, unwanted: number[]): void {
    this.subscriptionCount--;
    sub.pending.clear();
    for (const rec of sub.records) {
      const set = this.wantedBy.get(rec.key);
      if (!set) continue;
      set.delete(sub);
      if (set.size === 0) {
        this.wantedBy.delete(rec.key);
        unwanted.push(rec.key);
      }
    }
  }
}
