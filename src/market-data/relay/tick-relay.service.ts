import { randomInt } from 'node:crypto';
import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Counter } from 'prom-client';
import { ClusterRedis } from '../../cluster/cluster-redis';
import { LeadershipService } from '../../cluster/leadership.service';
import { MetricsService } from '../../health/metrics.service';
import { ReadinessRegistry } from '../../health/readiness.registry';
import { FeedPool, type RelayedFeedState } from '../feed/feed-pool.service';
import { TickStore, type TickRecord } from '../ticks/tick-store';
import { applyTicks, encodeTicks, senderOf } from './tick-codec';

/** What the leader's tick store changed, per drain (binary, see tick-codec). */
export const TICKS_CHANNEL = 'terminal:ticks';
/** The leader's feed health, every FEED_HEALTH_EVERY_MS (JSON). */
export const FEED_HEALTH_CHANNEL = 'terminal:feed-health';
/** A follower asks the leader for a full snapshot (after boot, a Redis loss, a new leader). */
export const RESYNC_CHANNEL = 'terminal:ticks:resync';

const FEED_HEALTH_EVERY_MS = 1_000;
/** No feed health from the leader for this long: its ticks are not reaching this instance. */
const LEADER_SILENT_MS = 3_500;
/** Records per snapshot message. */
const SNAPSHOT_CHUNK = 2_000;

interface FeedHealthMessage {
  from: string;
  connected: boolean;
  open: number;
  lastMessageAt: number;
}

/**
 * Ticks through Redis (REDIS_URL only; without it this does nothing and costs nothing). The
 * leader publishes what its tick store changed at every drain, its feed health every second,
 * and a full snapshot when a follower asks. Every other instance writes the leader's records
 * into its own tick store, so its own TickFanout serves its clients with the same snapshot,
 * conflation and backpressure as in process. A follower whose Redis subscription drops marks
 * every instrument stale at once and says so in `/ready`; once the leader's health reaches it
 * again it asks for a snapshot and is whole.
 */
@Injectable()
export class TickRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TickRelay.name);
  /** This instance in tick messages (a float64-exact integer). */
  private readonly tag = randomInt(1, 2 ** 47);
  private timer: NodeJS.Timeout | null = null;
  private leaderHealth: FeedHealthMessage | null = null;
  /** Local clock (ms) of the leader's latest health message. */
  private leaderHeardAt = 0;
  /** A snapshot is owed: asked at the next health message from the leader. */
  private resyncDue = true;
  /** Since when (epoch ms) the subscription is down; 0 = up. */
  private downSince = 0;
  private snapshotQueued = false;
  private publishFailures = 0;
  private readonly counts = { published: 0, received: 0, records: 0, snapshots: 0, rejected: 0 };

  constructor(
    private readonly store: TickStore,
    private readonly pool: FeedPool,
    private readonly leadership: LeadershipService,
    private readonly readiness: ReadinessRegistry,
    @Optional() private readonly redis?: ClusterRedis,
    @Optional() metrics?: MetricsService,
  ) {
    if (this.redis?.enabled && metrics) this.registerMetrics(metrics);
  }

  get enabled(): boolean {
    return this.redis?.enabled === true;
  }

  onApplicationBootstrap(): void {
    const redis = this.redis;
    if (!redis?.enabled) return;
    this.store.onDrain((records) => this.publishChanges(records));
    this.pool.useRelayedFeed(() => this.relayedFeed());
    redis.subscribeBuffer(TICKS_CHANNEL, (message) => this.receiveTicks(message));
    redis.subscribe(FEED_HEALTH_CHANNEL, (text) => this.receiveHealth(text));
    redis.subscribe(RESYNC_CHANNEL, () => this.queueSnapshot());
    redis.onSubscriberState((state) => (state === 'up' ? this.reconnected() : this.lost()));
    this.leadership.on('acquired', this.onAcquired);
    this.timer = setInterval(() => this.publishHealth(), FEED_HEALTH_EVERY_MS);
    this.timer.unref();
    this.readiness.register('tick-relay', () => Promise.resolve(this.verdict()));
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.store.onDrain(null);
    this.leadership.off('acquired', this.onAcquired);
  }

  /** Counters (for tests and metrics). */
  stats(): Readonly<typeof this.counts> {
    return { ...this.counts };
  }

  private readonly onAcquired = (): void => {
    // The new leader's followers see a new sender and ask for its snapshot themselves.
    this.leaderHealth = null;
  };

  // ---- leader ----

  private publishChanges(records: readonly TickRecord[]): void {
    if (!this.leadership.isLeader()) return;
    this.publish(encodeTicks(records, this.tag));
  }

  private publish(message: Buffer): void {
    const client = this.redis?.client;
    if (!client) return;
    this.counts.published++;
    client.publish(TICKS_CHANNEL, message).then(
      () => (this.publishFailures = 0),
      (err: Error) => {
        // Logged once per outage, not once per drain.
        if (this.publishFailures++ === 0) {
          this.logger.warn({ msg: 'ticks not published to Redis', err: err.message });
        }
      },
    );
  }

  private publishHealth(): void {
    const client = this.redis?.client;
    if (!client || !this.leadership.isLeader()) return;
    const message: FeedHealthMessage = {
      from: this.leadership.instanceId,
      connected: this.pool.connected(),
      open: this.pool.openConnections(),
      lastMessageAt: this.pool.lastMessageAt(),
    };
    client.publish(FEED_HEALTH_CHANNEL, JSON.stringify(message)).catch(() => undefined);
  }

  /** Every instrument with data, in chunks; several asks at once make one snapshot. */
  private queueSnapshot(): void {
    if (!this.leadership.isLeader() || this.snapshotQueued) return;
    this.snapshotQueued = true;
    setImmediate(() => {
      this.snapshotQueued = false;
      if (!this.leadership.isLeader()) return;
      this.counts.snapshots++;
      let chunk: TickRecord[] = [];
      for (const rec of this.store.allRecords()) {
        if (!rec.hasData) continue;
        chunk.push(rec);
        if (chunk.length === SNAPSHOT_CHUNK) {
          this.publish(encodeTicks(chunk, this.tag));
          chunk = [];
        }
      }
      if (chunk.length > 0) this.publish(encodeTicks(chunk, this.tag));
    });
  }

  // ---- follower ----

  private receiveTicks(message: Buffer): void {
    const sender = senderOf(message);
    if (sender === undefined) {
      this.counts.rejected++;
      return;
    }
    // A leader's own messages, and a deposed leader's late ones, change nothing here.
    if (sender === this.tag || this.leadership.isLeader()) return;
    try {
      this.counts.records += applyTicks(message, this.store);
      this.counts.received++;
    } catch (err) {
      this.counts.rejected++;
      this.logger.warn({ msg: 'malformed tick relay message ignored', err: String(err) });
    }
  }

  private receiveHealth(text: string): void {
    let message: FeedHealthMessage;
    try {
      message = JSON.parse(text) as FeedHealthMessage;
    } catch {
      return;
    }
    if (message.from === this.leadership.instanceId) return;
    if (this.leaderHealth?.from !== message.from) this.resyncDue = true;
    this.leaderHealth = message;
    this.leaderHeardAt = Date.now();
    if (this.resyncDue && !this.leadership.isLeader()) {
      // The health message proves the subscription is live: the snapshot cannot be missed.
      this.resyncDue = false;
      this.redis?.client?.publish(RESYNC_CHANNEL, this.leadership.instanceId).catch(() => {
        this.resyncDue = true;
      });
    }
  }

  private lost(): void {
    if (this.downSince !== 0) return;
    this.downSince = Date.now();
    this.resyncDue = true;
    if (this.leadership.isLeader()) return;
    const n = this.store.markAllStale();
    this.logger.warn({ msg: 'tick relay lost (Redis): instruments marked stale', instruments: n });
  }

  private reconnected(): void {
    if (this.downSince === 0) return;
    this.logger.log({ msg: 'tick relay back (Redis): asking the leader for a snapshot' });
    this.downSince = 0;
    this.resyncDue = true;
  }

  private leaderAudible(): boolean {
    return (
      this.downSince === 0 &&
      this.leaderHealth !== null &&
      Date.now() - this.leaderHeardAt <= LEADER_SILENT_MS
    );
  }

  private relayedFeed(): RelayedFeedState {
    const health = this.leaderHealth;
    if (this.downSince !== 0) {
      return {
        connected: false,
        open: 0,
        lastMessageAt: health?.lastMessageAt ?? 0,
        reason: 'Redis lost: the leader ticks do not reach this instance (instruments stale)',
      };
    }
    if (health === null || !this.leaderAudible()) {
      return {
        connected: false,
        open: 0,
        lastMessageAt: health?.lastMessageAt ?? 0,
        reason: 'no leader heard through Redis',
      };
    }
    return {
      connected: health.connected,
      open: health.open,
      lastMessageAt: health.lastMessageAt,
      reason: health.connected ? '' : 'the leader feed is not connected',
    };
  }

  private verdict(): { up: boolean; reason?: string; since?: number } {
    if (this.leadership.isLeader()) return { up: true };
    if (this.downSince !== 0) {
      return {
        up: false,
        reason: 'Redis subscription lost: every instrument marked stale until it is back',
        since: this.downSince,
      };
    }
    if (!this.leaderAudible()) return { up: false, reason: 'no leader heard through Redis' };
    return { up: true };
  }

  private registerMetrics(metrics: MetricsService): void {
    const counts = this.counts;
    const registers = [metrics.registry];
    new Counter({
      name: 'cluster_tick_messages_total',
      help: 'Tick relay messages through Redis (REDIS_URL), by direction (published, received, rejected).',
      labelNames: ['direction'] as const,
      registers,
      collect() {
        this.reset();
        this.inc({ direction: 'published' }, counts.published);
        this.inc({ direction: 'received' }, counts.received);
        this.inc({ direction: 'rejected' }, counts.rejected);
      },
    });
  }
}
