import { Inject, Injectable, Logger, OnModuleDestroy, Optional } from '@nestjs/common';
import { MarketDataError, MarketDataErrorCode } from '../market-data.errors';
import type { Fragment } from './tick-fragment';
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
 * Receives one batch: UTF-8 bytes of `prefix + JSON array of Tick objects + suffix` (see
 * serializeTick and BatchFraming), ready to go on the socket as one text frame, and how many
 * ticks it holds. The Buffer is the sink's to keep.
 */
export type TickSink = (payload: Buffer, count: number) => void;

/**
 * Bytes around each batch's JSON array, fixed per subscription, e.g. a graphql-ws message:
 * prefix `{"id":"7","type":"next","payload":{"data":{"ticks":` and suffix `}}}`.
 */
export interface BatchFraming {
  prefix: string;
  suffix: string;
}

const OPEN_BRACKET = 0x5b;
const COMMA = 0x2c;
const CLOSE_BRACKET = 0x5d;
const EMPTY = Buffer.alloc(0);
const SLAB_BYTES = 256 * 1024;
const SLAB_MIN = SLAB_BYTES / 16;
const SLAB_MAX = SLAB_BYTES / 4;

/**
 * Where batch bytes come from. A backing store per batch (1,000 per flush) cost more in GC
 * than building the batches, so mid-sized batches (16-64 KiB, the common size at 50
 * instruments) are cut from shared 256 KiB slabs. A queued batch pins its whole slab; as only
 * batches of at least 1/16 slab use slabs and a client stops receiving above the high-water
 * mark, a stalled client pins at most about 16x the high-water mark.
 */
export class BatchAllocator {
  private slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private offset = 0;

  take(size: number): Buffer {
    if (size < SLAB_MIN || size > SLAB_MAX) return Buffer.allocUnsafe(size);
    if (this.offset + size > SLAB_BYTES) {
      this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.offset = 0;
    }
    const out = this.slab.subarray(this.offset, this.offset + size);
    this.offset = (this.offset + size + 7) & ~7;
    return out;
  }
}
export enum FanoutCloseReason {
  /** Unsent bytes above the hard cap. */
  BACKPRESSURE_HARD_CAP = 'BACKPRESSURE_HARD_CAP',
  /** Above the high-water mark for longer than allowed. */
  BACKPRESSURE_TIMEOUT = 'BACKPRESSURE_TIMEOUT',
  /** The sink threw. */
  SINK_ERROR = 'SINK_ERROR',
}

export interface TickFanoutOptions {
  /** Each client gets at most one batch per subscription per interval. */
  flushIntervalMs: number;
  /**
   * Clients are spread over this many phases of the interval (capped so that a phase is at
   * least 5 ms); one phase is flushed every `flushIntervalMs / phases`, so the work of a round
   * and the wait of the last client in it are spread over the interval instead of one burst.
   */
  flushPhases: number;
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
  flushPhases: 10,
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
  /** Bytes of the batches handed to sinks. */
  bytes: number;
  /**
   * Updates a client never saw because a later one replaced them before its flush (conflation
   * by design: a client gets the latest state of each instrument once per flush).
   */
  conflated: number;
  /** Client-flushes skipped because the client was above its high-water mark. */
  heldFlushes: number;
  closedClients: Record<FanoutCloseReason, number>;
  /** Duration of the last flush (one phase when the timer runs), ms. */
  lastFlushMs: number;
  /** Phases the clients are spread over. */
  phases: number;
}

export interface ClientClosedEvent {
  clientId: string;
  reason: FanoutCloseReason;
  message: string;
  /** Instruments no subscription wants any more (release their CLIENT references). */
  noLongerWanted: number[];
}

/** The record's fragment for one selection shape, current for the record's version. */
export type FragmentOf = (r: TickRecord) => Fragment;

class Subscription {
  /** Record version last delivered, per requested instrument; -1 = never (snapshot due). */
  readonly seen: Float64Array;
  readonly prefix: Buffer;
  readonly suffix: Buffer;
  constructor(
    readonly id: string,
    readonly records: readonly TickRecord[],
    readonly sink: TickSink,
    framing: BatchFraming | undefined,
    readonly fragment: FragmentOf,
  ) {
    this.seen = new Float64Array(records.length).fill(-1);
    this.prefix = framing ? Buffer.from(framing.prefix) : EMPTY;
    this.suffix = framing ? Buffer.from(framing.suffix) : EMPTY;
  }
}

class ClientState {
  readonly subs = new Map<string, Subscription>();
  held = false;
  overHighSince = 0;
  constructor(
    readonly id: string,
    readonly transport: FanoutClient,
    /** Phase of the interval this client is flushed in. */
    readonly phase: number,
  ) {}
}

/** The shortest phase of a flush interval. */
const MIN_PHASE_MS = 5;

/**
 * Per-client tick delivery. Clients are spread evenly over `flushPhases` phases of the flush
 * interval, and one timer flushes one phase at a time, so every client is flushed once per
 * interval but a round's work is spread over it: the last client of a round no longer waits
 * for the batches of all the others (at 1,000 clients, one flush of everyone kept the event
 * loop busy for tens of ms and that wait went straight into the latency tail). A flushed
 * subscription compares the version of each of its records with the version it last
 * delivered, and gets one batch of those that changed (conflated: latest state only, however
 * many updates happened), built from fragments serialised once per record version and shared
 * by every client. The scan costs one comparison per subscribed instrument per flush and
 * allocates nothing but the batch buffer; a phase with nothing dirty since its last flush and
 * no client behind is skipped.
 *
 * First delivery of a subscription is its snapshot: every requested instrument, in request
 * order; an instrument with no data yet appears with null values and `stale: true`. It goes
 * out at the first flush after `subscribe` (at most one interval later).
 *
 * Backpressure is per client: above `highWaterBytes` its batches are held (what it missed is
 * delivered later as latest state only) until it drains below `lowWaterBytes`; above
 * `hardCapBytes`, or held longer than `maxOverHighMs`, it is closed. Sinks are synchronous and
 * never awaited, so one slow client costs the others one backpressure check per flush.
 */
@Injectable()
export class TickFanout implements OnModuleDestroy {
  private readonly options: TickFanoutOptions;
  private readonly clients = new Map<string, ClientState>();
  /** Clients by phase. */
  private readonly phases: Array<Set<ClientState>>;
  /** Per phase: something may be undelivered (records changed, a new or held subscription). */
  private readonly pending: Uint8Array;
  private nextPhase = 0;
  /** Phases flushed since `start`, against the clock: a late timer catches up. */
  private phasesRun = 0;
  private startedAt = 0;
  /** Subscriptions per instrument key, to know when an instrument stops being wanted. */
  private readonly wantedBy = new Map<number, number>();
  private readonly closedListeners: Array<(event: ClientClosedEvent) => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private subscriptionCount = 0;
  private readonly batches = new BatchAllocator();
  /** The changed fragments of the batch being built (reused; cleared after each copy). */
  private readonly views: Buffer[] = [];
  private readonly defaultFragment: FragmentOf = (r) => this.serializer.fragment(r);
  private readonly flushListeners = new Set<(ms: number) => void>();
  /** Told the records each drain of the store found changed (an array, so no iterator per call). */
  private readonly changedListeners: Array<(records: readonly TickRecord[]) => void> = [];
  private readonly logger = new Logger(TickFanout.name);
  private readonly counters = {
    flushes: 0,
    batches: 0,
    updates: 0,
    bytes: 0,
    conflated: 0,
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
    const phases = Math.max(
      1,
      Math.min(
        Math.floor(this.options.flushPhases),
        Math.floor(this.options.flushIntervalMs / MIN_PHASE_MS),
      ),
    );
    this.phases = Array.from({ length: phases }, () => new Set<ClientState>());
    this.pending = new Uint8Array(phases);
    if (this.options.lowWaterBytes > this.options.highWaterBytes) {
      throw new MarketDataError(
        MarketDataErrorCode.INVALID_ARGUMENT,
        'lowWaterBytes must not exceed highWaterBytes',
      );
    }
  }

  /**
   * Starts the flush timer (unref'd): one phase every `flushIntervalMs / phases`, kept to the
   * clock. A busy event loop runs the timer late; each late run flushes every phase that came
   * due (at most one round), so a client still gets a batch every interval. (Late timers
   * drifting phase by phase had stretched a round to twice the interval under load.)
   */
  start(): void {
    if (this.timer) return;
    const phaseMs = this.options.flushIntervalMs / this.phases.length;
    this.startedAt = performance.now();
    this.phasesRun = 0;
    this.timer = setInterval(() => {
      const due = Math.floor((performance.now() - this.startedAt) / phaseMs);
      if (due - this.phasesRun > this.phases.length) this.phasesRun = due - this.phases.length;
      while (this.phasesRun < due) {
        this.phasesRun++;
        this.flushPhase();
      }
    }, phaseMs);
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
    let phase = 0;
    for (let p = 1; p < this.phases.length; p++) {
      if (this.phases[p].size < this.phases[phase].size) phase = p;
    }
    const client = new ClientState(clientId, transport, phase);
    this.clients.set(clientId, client);
    this.phases[phase].add(client);
  }

  /** Forgets a client that went away; returns the instruments nobody wants any more. */
  removeClient(clientId: string): number[] {
    const client = this.clients.get(clientId);
    if (!client) return [];
    this.clients.delete(clientId);
    this.phases[client.phase].delete(client);
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
    framing?: BatchFraming,
    /** Fields other than the full Tick in canonical order; default: the shared serializer. */
    fragment?: FragmentOf,
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
    const fragmentOf = fragment ?? this.defaultFragment;
    client.subs.set(
      subscriptionId,
      new Subscription(subscriptionId, records, sink, framing, fragmentOf),
    );
    this.subscriptionCount++;
    this.pending[client.phase] = 1;
    const newlyWanted: number[] = [];
    for (const rec of records) {
      const n = this.wantedBy.get(rec.key) ?? 0;
      this.wantedBy.set(rec.key, n + 1);
      if (n === 0) newlyWanted.push(rec.key);
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

  /** One delivery round for every client at once (all phases); tests call it directly. */
  flush(): void {
    const started = performance.now();
    const now = this.options.now();
    this.counters.flushes++;
    this.collectDirty();
    for (let p = 0; p < this.phases.length; p++) this.deliverPhase(p, now);
    this.flushed(performance.now() - started);
  }

  /** Called with each flush's duration (ms): one phase when the timer runs. */
  onFlush(listener: (ms: number) => void): () => void {
    this.flushListeners.add(listener);
    return () => this.flushListeners.delete(listener);
  }

  private flushed(ms: number): void {
    this.counters.lastFlushMs = ms;
    for (const listener of this.flushListeners) listener(ms);
  }

  /** The timer's step: the next phase's clients. A round of every phase counts as one flush. */
  private flushPhase(): void {
    const started = performance.now();
    const phase = this.nextPhase;
    this.nextPhase = (phase + 1) % this.phases.length;
    if (phase === 0) this.counters.flushes++;
    this.collectDirty();
    this.deliverPhase(phase, this.options.now());
    this.flushed(performance.now() - started);
  }

  /**
   * Records changed since the last look: every phase has something to deliver. Only whether
   * the store's dirty list is empty matters here (each subscription finds its changes by
   * version); draining it also samples the store's clock.
   */
  private collectDirty(): void {
    const dirty = this.store.drainDirty();
    if (dirty.length === 0) return;
    this.pending.fill(1);
    for (let i = 0; i < this.changedListeners.length; i++) {
      // A listener's fault must never stop delivery to the clients.
      try {
        this.changedListeners[i](dirty);
      } catch (e) {
        this.logger.error({ msg: 'changed-instruments listener failed', err: e });
      }
    }
  }

  /**
   * Called with the records changed since the last drain, once per drain that found any (each
   * record once; the array is reused, valid only during the call). Server-side alerts evaluate
   * here: on the tick path, never polled.
   */
  onChanged(listener: (records: readonly TickRecord[]) => void): () => void {
    this.changedListeners.push(listener);
    return () => {
      const i = this.changedListeners.indexOf(listener);
      if (i >= 0) this.changedListeners.splice(i, 1);
    };
  }

  private deliverPhase(phase: number, now: number): void {
    const changed = this.pending[phase] === 1;
    this.pending[phase] = 0;
    for (const client of this.phases[phase]) {
      if (this.mayDeliver(client, now)) {
        if (changed) this.deliver(client);
      } else {
        this.pending[phase] = 1;
      }
    }
  }

  stats(): TickFanoutStats {
    return {
      clients: this.clients.size,
      subscriptions: this.subscriptionCount,
      wantedInstruments: this.wantedBy.size,
      flushes: this.counters.flushes,
      batches: this.counters.batches,
      updates: this.counters.updates,
      bytes: this.counters.bytes,
      conflated: this.counters.conflated,
      heldFlushes: this.counters.heldFlushes,
      closedClients: { ...this.counters.closedClients },
      lastFlushMs: this.counters.lastFlushMs,
      phases: this.phases.length,
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
    const views = this.views;
    for (const sub of client.subs.values()) {
      const { records, seen, fragment: fragmentOf } = sub;
      // One pass finds the changed records and their bytes; the copy then walks only those.
      let count = 0;
      let bytes = 0;
      for (let i = 0; i < records.length; i++) {
        const version = records[i].version;
        if (version === seen[i]) continue;
        if (seen[i] > 0) this.counters.conflated += version - seen[i] - 1;
        seen[i] = version;
        const view = fragmentOf(records[i]).view;
        views[count++] = view;
        bytes += view.length;
      }
      if (count === 0) continue;
      // One allocation and one copy per batch: the fragments are already UTF-8.
      const payload = this.batches.take(sub.prefix.length + bytes + count + 1 + sub.suffix.length);
      payload.set(sub.prefix, 0);
      let offset = sub.prefix.length;
      let separator = OPEN_BRACKET;
      for (let k = 0; k < count; k++) {
        payload[offset++] = separator;
        separator = COMMA;
        const fragment = views[k];
        payload.set(fragment, offset);
        offset += fragment.length;
        views[k] = EMPTY;
      }
      payload[offset++] = CLOSE_BRACKET;
      payload.set(sub.suffix, offset);
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
      this.counters.bytes += payload.length;
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
    for (const rec of sub.records) {
      const n = this.wantedBy.get(rec.key) ?? 0;
      if (n > 1) {
        this.wantedBy.set(rec.key, n - 1);
      } else if (n === 1) {
        this.wantedBy.delete(rec.key);
        unwanted.push(rec.key);
      }
    }
  }
}
