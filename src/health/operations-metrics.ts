import {
  monitorEventLoopDelay,
  PerformanceObserver,
  type IntervalHistogram,
} from 'node:perf_hooks';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { Counter, Gauge, Histogram } from 'prom-client';
import { DataSource } from 'typeorm';
import { groupCommitStats, walCheckpointStats, walFlushStats } from '../database/sqlite-serial';
import { WsAuthGate } from '../auth/ws-auth.gate';
import { MARKET_DATA_EVICTED, MarketDataService } from '../market-data/market-data.service';
import { DayCycleService } from '../scheduler/day-cycle.service';
import { ORDER_TRANSITION, type OrderTransitionEvent } from '../orders/orders.events';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../dhan/dhan-endpoints';
import { MetricsService } from './metrics.service';

const MAX_TIMED = 10_000;
const FINAL = new Set(['TRADED', 'CANCELLED', 'REJECTED', 'EXPIRED']);
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Collector callbacks read live state at scrape time; `this` is the metric. */
function gauge(
  metrics: MetricsService,
  name: string,
  help: string,
  labelNames: string[],
  collect: (set: (labels: Record<string, string>, value: number) => void) => void,
): Gauge {
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [metrics.registry],
    collect() {
      this.reset();
      collect((labels, value) => this.set(labels, value));
    },
  });
}

/**
 * The operations view of /metrics beyond HTTP, GraphQL, feed and EMS: the WebSocket fan-out,
 * the subscription registry, the order path (placed, final status, risk denials, our time and
 * the broker's, ambiguous outcomes), the event loop and garbage collection. Figures kept by
 * their modules are read at scrape time; order figures come from `orders.transition` events.
 */
@Injectable()
export class OperationsMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private gcObserver: PerformanceObserver | undefined;
  /** Per order in flight: when it was created and when it was sent (hrtime ms). */
  private readonly timing = new Map<string, { created?: number; sent?: number }>();

  private readonly placed: Counter;
  private readonly finished: Counter<'status'>;
  private readonly denials: Counter<'reason'>;
  private readonly ourTime: Histogram;
  private readonly brokerTime: Histogram;
  private readonly ambiguous: Counter;
  private readonly resolved: Counter<'outcome'>;
  private readonly evictions: Counter<'kind'>;
  private readonly gcPauses: Histogram<'kind'>;
  private readonly flushDuration: Histogram;
  private stopFlushObserver: (() => void) | undefined;

  constructor(
    private readonly metrics: MetricsService,
    private readonly marketData: MarketDataService,
    private readonly gate: WsAuthGate,
    private readonly dayCycle: DayCycleService,
    @Inject(DHAN_ENDPOINTS) private readonly endpoints: DhanEndpoints,
    private readonly dataSource: DataSource,
  ) {
    const registers = [metrics.registry];
    this.placed = new Counter({
      name: 'orders_placed_total',
      help: 'Orders stored (placeOrder and desk square-offs).',
      registers,
    });
    this.finished = new Counter({
      name: 'orders_finished_total',
      help: 'Orders reaching a final status, by status.',
      labelNames: ['status'],
      registers,
    });
    this.denials = new Counter({
      name: 'orders_risk_denials_total',
      help: 'Orders RMS denied, by denial code.',
      labelNames: ['reason'],
      registers,
    });
    this.ourTime = new Histogram({
      name: 'orders_internal_duration_seconds',
      help: 'Our time: order stored to the request sent to the broker (validation, RMS, queue).',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.brokerTime = new Histogram({
      name: 'orders_broker_duration_seconds',
      help: 'Broker time: request sent to the broker s first answer (acknowledged or rejected).',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.ambiguous = new Counter({
      name: 'orders_ambiguous_total',
      help: 'Sends or cancels whose outcome was unknown (resolved later by lookup).',
      registers,
    });
    this.resolved = new Counter({
      name: 'orders_ambiguous_resolved_total',
      help: 'Ambiguous orders resolved, by the status they were resolved to.',
      labelNames: ['outcome'],
      registers,
    });
    this.evictions = new Counter({
      name: 'registry_evictions_total',
      help: 'Instruments evicted from the feed for a higher-priority request, by evicted kind.',
      labelNames: ['kind'],
      registers,
    });
    this.gcPauses = new Histogram({
      name: 'nodejs_gc_pause_seconds',
      help: 'Garbage-collection pauses, by kind.',
      labelNames: ['kind'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    });
    this.flushDuration = new Histogram({
      name: 'ticks_fanout_flush_duration_seconds',
      help: 'Duration of each fan-out flush (one phase of clients when the timer runs).',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
    });
  }

  onModuleInit(): void {
    const metrics = this.metrics;
    const marketData = this.marketData;
    const gate = this.gate;
    const loop = this.loopDelay;
    loop.enable();
    gauge(
      metrics,
      'ws_clients_connected',
      'Open GraphQL WebSockets, by endpoint.',
      ['endpoint'],
      (set) => {
        for (const [endpoint, n] of Object.entries(gate.connectionsByEndpoint()))
          set({ endpoint }, n);
      },
    );
    gauge(
      metrics,
      'ws_subscriptions_active',
      'Active GraphQL subscriptions (both endpoints).',
      [],
      (set) => set({}, gate.activeSubscriptions()),
    );
    gauge(metrics, 'ticks_fanout_clients', 'Clients of the ticks fan-out.', [], (set) =>
      set({}, marketData.fanoutStats().clients),
    );
    gauge(metrics, 'ticks_fanout_subscriptions', 'ticks subscriptions in the fan-out.', [], (set) =>
      set({}, marketData.fanoutStats().subscriptions),
    );
    gauge(
      metrics,
      'ticks_fanout_last_flush_seconds',
      'Duration of the last fan-out flush.',
      [],
      (set) => set({}, marketData.fanoutStats().lastFlushMs / 1000),
    );
    const counter = (
      name: string,
      help: string,
      labelNames: string[],
      read: (inc: (labels: Record<string, string>, value: number) => void) => void,
    ) =>
      new Counter({
        name,
        help,
        labelNames,
        registers: [metrics.registry],
        collect() {
          this.reset();
          read((labels, value) => this.inc(labels, value));
        },
      });
    counter('ticks_fanout_flushes_total', 'Fan-out flushes.', [], (inc) =>
      inc({}, marketData.fanoutStats().flushes),
    );
    counter('ticks_fanout_frames_total', 'Frames (batches) written to ticks clients.', [], (inc) =>
      inc({}, marketData.fanoutStats().batches),
    );
    counter(
      'ticks_fanout_updates_total',
      'Instrument updates written to ticks clients (one frame carries many).',
      [],
      (inc) => inc({}, marketData.fanoutStats().updates),
    );
    counter(
      'ticks_fanout_bytes_total',
      'Bytes of the batches written to ticks clients.',
      [],
      (inc) => inc({}, marketData.fanoutStats().bytes),
    );
    counter(
      'ticks_fanout_conflated_updates_total',
      'Instrument updates replaced by a later one before a client s flush (conflation).',
      [],
      (inc) => inc({}, marketData.fanoutStats().conflated),
    );
    counter(
      'option_analytics_seconds_total',
      'Time the option-chain refresh spent on analytics (IV, greeks, forward, chain figures).',
      [],
      (inc) => inc({}, marketData.chainStats().analysisMs / 1000),
    );
    counter(
      'option_chain_fanout_seconds_total',
      'Time the option-chain refresh spent rendering and writing optionChainUpdates frames.',
      [],
      (inc) => inc({}, marketData.chainStats().fanoutMs / 1000),
    );
    counter(
      'option_chain_strike_updates_total',
      'Strikes whose analytics or quotes changed in a refresh (summed over tracked chains).',
      [],
      (inc) => inc({}, marketData.chainStats().strikeUpdates),
    );
    counter(
      'option_chain_frames_total',
      'optionChainUpdates frames written to subscribers.',
      [],
      (inc) => inc({}, marketData.chainStats().frames),
    );
    counter(
      'option_chain_bytes_total',
      'Bytes of the optionChainUpdates frames written (ASCII JSON).',
      [],
      (inc) => inc({}, marketData.chainStats().bytes),
    );
    // SQLite's durable commits (see WalFlusher); nothing on PostgreSQL.
    const wal = () => walFlushStats(this.dataSource);
    counter(
      'sqlite_wal_flushes_total',
      'fsyncs of the SQLite write-ahead log, off the event loop (durable commits wait for one).',
      [],
      (inc) => inc({}, wal()?.flushes ?? 0),
    );
    counter(
      'sqlite_wal_flush_commits_total',
      'Durable SQLite commits that waited for a WAL flush (several share one under load).',
      [],
      (inc) => inc({}, wal()?.commits ?? 0),
    );
    counter(
      'sqlite_wal_flush_seconds_total',
      'Time spent flushing the SQLite write-ahead log.',
      [],
      (inc) => inc({}, wal()?.seconds ?? 0),
    );
    const groups = () => groupCommitStats(this.dataSource);
    counter(
      'sqlite_group_commits_total',
      'SQLite commits shared by transactions that queued together (each in a savepoint).',
      [],
      (inc) => inc({}, groups()?.commits ?? 0),
    );
    counter(
      'sqlite_group_commit_transactions_total',
      'SQLite transactions that committed through a shared commit.',
      [],
      (inc) => inc({}, groups()?.transactions ?? 0),
    );
    const checkpoints = () => walCheckpointStats(this.dataSource);
    counter(
      'sqlite_wal_checkpoints_total',
      'SQLite checkpoints that copied the log into the database file (in a worker thread).',
      [],
      (inc) => inc({}, checkpoints()?.checkpoints ?? 0),
    );
    counter(
      'sqlite_wal_checkpoint_frames_total',
      'Log frames (pages) the SQLite checkpoints copied.',
      [],
      (inc) => inc({}, checkpoints()?.frames ?? 0),
    );
    counter(
      'sqlite_wal_checkpoint_seconds_total',
      'Time the SQLite checkpoints took in their worker thread.',
      [],
      (inc) => inc({}, checkpoints()?.seconds ?? 0),
    );
    this.stopFlushObserver = marketData.onFanoutFlush((ms) =>
      this.flushDuration.observe(ms / 1000),
    );
    const token = this.endpoints.token;
    gauge(
      metrics,
      'broker_token_valid',
      'DhanHQ access token: 1 in use, 0 refused (every DhanHQ socket paused until a new one).',
      [],
      (set) => set({}, token.status().state === 'VALID' ? 1 : 0),
    );
    gauge(
      metrics,
      'broker_token_expiry_timestamp_seconds',
      'Expiry of the DhanHQ access token in use (its JWT exp), Unix seconds.',
      [],
      (set) => {
        const expiresAt = token.status().expiresAt;
        if (expiresAt !== undefined) set({}, expiresAt / 1000);
      },
    );
    counter(
      'broker_token_changes_total',
      'DhanHQ access tokens installed since boot (admin, renewal, TOTP).',
      [],
      (inc) => inc({}, token.status().changes),
    );
    counter(
      'ticks_fanout_held_flushes_total',
      'Client flushes held back because the client was above its high-water mark.',
      [],
      (inc) => inc({}, marketData.fanoutStats().heldFlushes),
    );
    counter(
      'ticks_fanout_closed_clients_total',
      'Slow or failing ticks clients closed, by reason.',
      ['reason'],
      (inc) => {
        for (const [reason, n] of Object.entries(marketData.fanoutStats().closedClients)) {
          inc({ reason }, n);
        }
      },
    );
    gauge(
      metrics,
      'registry_instruments',
      'Instruments on the feed holding at least one reference of a kind, by kind.',
      ['kind'],
      (set) => {
        for (const [kind, c] of Object.entries(marketData.registryStats().byKind)) {
          set({ kind }, c.instruments);
        }
      },
    );
    gauge(metrics, 'registry_references', 'References held, by kind.', ['kind'], (set) => {
      for (const [kind, c] of Object.entries(marketData.registryStats().byKind)) {
        set({ kind }, c.references);
      }
    });
    gauge(
      metrics,
      'registry_utilisation_ratio',
      'Instruments on the feed over its capacity (0 to 1).',
      [],
      (set) => {
        const s = marketData.registryStats();
        set({}, s.capacity > 0 ? s.total / s.capacity : 0);
      },
    );
    gauge(metrics, 'feed_stale_instruments', 'Instruments without fresh data.', [], (set) =>
      set({}, marketData.staleInstruments()),
    );
    gauge(
      metrics,
      'nodejs_eventloop_delay_p99_seconds',
      'Event-loop delay, 99th percentile since the previous scrape.',
      [],
      (set) => {
        set({}, loop.percentile(99) / 1e9);
        loop.reset();
      },
    );
    const dayCycle = this.dayCycle;
    new Gauge({
      name: 'day_cycle_last_run_timestamp_seconds',
      help: 'When the latest day-cycle run of each kind, group and outcome started (Unix time).',
      labelNames: ['kind', 'group', 'outcome'],
      registers: [metrics.registry],
      async collect() {
        this.reset();
        const seen = new Set<string>();
        for (const run of await dayCycle.history(200)) {
          const key = `${run.kind}|${run.group}|${run.outcome}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const labels = { kind: run.kind, group: run.group, outcome: run.outcome };
          this.set(labels, run.startedAt.getTime() / 1000);
        }
      },
    });
    this.gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const detail = (entry as { detail?: { kind?: number } }).detail;
        this.gcPauses.observe({ kind: String(detail?.kind ?? 'unknown') }, entry.duration / 1000);
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }

  onModuleDestroy(): void {
    this.stopFlushObserver?.();
    this.loopDelay.disable();
    this.gcObserver?.disconnect();
  }

  @OnEvent(MARKET_DATA_EVICTED)
  onEvicted(event: { holders?: readonly { kind: string }[] }): void {
    const kinds = new Set((event.holders ?? []).map((h) => h.kind));
    for (const kind of kinds.size > 0 ? kinds : new Set(['NONE'])) this.evictions.inc({ kind });
  }

  @OnEvent(ORDER_TRANSITION)
  onTransition(e: OrderTransitionEvent): void {
    const now = performance.now();
    if (e.type === 'CREATED') {
      this.placed.inc();
      this.timing.set(e.orderId, { created: now });
      // Bounded: orders that rest for days are forgotten first (their timing is long done).
      if (this.timing.size > MAX_TIMED) this.timing.delete(this.timing.keys().next().value!);
    }
    const t = this.timing.get(e.orderId);
    if (e.type === 'SENT' && t) {
      if (t.created !== undefined) this.ourTime.observe((now - t.created) / 1000);
      t.sent = now;
    }
    if (t?.sent !== undefined && e.from !== null && e.type !== 'SENT' && e.type !== 'AMBIGUOUS') {
      if (e.type === 'ACKNOWLEDGED' || e.type === 'BROKER_UPDATE' || e.to === 'REJECTED') {
        this.brokerTime.observe((now - t.sent) / 1000);
        t.sent = undefined;
        t.created = undefined;
      }
    }
    if (e.type === 'RISK_DENIED') this.denials.inc({ reason: e.reason ?? 'UNKNOWN' });
    if (e.type === 'AMBIGUOUS') this.ambiguous.inc();
    if (e.from === 'UNKNOWN' && e.to !== 'UNKNOWN') this.resolved.inc({ outcome: e.to });
    if (FINAL.has(e.to) && e.from !== e.to) {
      this.finished.inc({ status: e.to });
      this.timing.delete(e.orderId);
    }
  }
}
