import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { FEED_MODE_RANK, type ExchangeSegment, type FeedMode } from '@app/dhan/types';
import { ClusterRedis } from '../../cluster/cluster-redis';
import { LeadershipService } from '../../cluster/leadership.service';
import {
  ReferenceKind,
  SubscriptionRegistry,
  type EvictionEvent,
  type SubscriptionReference,
} from '../feed/subscription-registry';

/** One instance's own CLIENT and WATCHLIST references: `terminal:refs:<instance>` (JSON, leased). */
export const REFS_KEY_PREFIX = 'terminal:refs:';
/** Instances with published references, scored by lease expiry (epoch ms). */
export const REF_INSTANCES_KEY = 'terminal:ref-instances';
/** "My references changed" (the instance id), so the leader syncs at once. */
export const REFS_CHANGED_CHANNEL = 'terminal:refs:changed';
/** The leader evicted an instrument from the cluster's feed (JSON). */
export const EVICTIONS_CHANNEL = 'terminal:evictions';

/** A dead instance's references leave the leader's feed this long after its last renewal. */
export const REF_LEASE_MS = 10_000;
const RENEW_EVERY_MS = 3_000;
const LEADER_SYNC_EVERY_MS = 2_000;
/** Changes within this window are published together. */
const PUBLISH_DEBOUNCE_MS = 20;
/** The leader's holder of one peer's references. */
export const PEER_HOLDER_PREFIX = 'peer:';

/** The kinds every instance shares (the others follow the leader's own orders and chains). */
const SHARED_KINDS: readonly ReferenceKind[] = [ReferenceKind.CLIENT, ReferenceKind.WATCHLIST];

/** [segment, securityId, kind, mode] */
type WireRef = [ExchangeSegment, string, ReferenceKind, FeedMode];

interface EvictionNotice {
  from: string;
  key: number;
  forPriority: number;
}

const refId = (r: WireRef): string => `${r[2]}|${r[0]}|${r[1]}`;

/**
 * Cluster-wide references (REDIS_URL only). Every instance publishes its own CLIENT and
 * WATCHLIST references under a lease; the leader holds, for each live instance, the same
 * references under a `peer:<instance>` holder in its own registry, so the union is on the
 * feed with the same priorities, LRU and 25,000 capacity as in process. A dead instance's
 * lease lapses and the leader releases its references. An eviction on the leader is announced
 * and every instance evicts the instrument from its own registry too (its listeners are told,
 * its subscribers get the last `stale` update), so no instance asks for it again by itself.
 */
@Injectable()
export class ReferenceRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReferenceRelay.name);
  private renewTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private publishTimer: NodeJS.Timeout | null = null;
  /** The JSON last written, to renew the lease only when nothing changed. */
  private lastPublished = '';
  /** The registry changed since `ownJson` was computed. */
  private ownDirty = true;
  private ownJson = '[]';
  /** Leader: each peer's text as last applied (an unchanged one is not parsed again). */
  private readonly peerText = new Map<string, string>();
  /** Leader: the references held for each peer, by refId. */
  private readonly applied = new Map<string, Map<string, WireRef>>();
  /** Leader: a peer's references the leader evicted; not taken again while the peer lists them. */
  private readonly suppressed = new Map<string, Set<string>>();
  private syncing = false;
  private syncAgain = false;
  private stopped = false;

  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly leadership: LeadershipService,
    @Optional() private readonly redis?: ClusterRedis,
  ) {}

  onApplicationBootstrap(): void {
    const redis = this.redis;
    if (!redis?.enabled) return;
    this.registry.onChange(() => {
      this.ownDirty = true;
      this.schedulePublish();
    });
    this.registry.onEviction((event) => this.onEviction(event));
    redis.subscribe(REFS_CHANGED_CHANNEL, (from) => {
      if (from !== this.leadership.instanceId) this.sync();
    });
    redis.subscribe(EVICTIONS_CHANNEL, (text) => this.receiveEviction(text));
    this.leadership.on('acquired', this.onAcquired);
    this.leadership.on('lost', this.onLost);
    this.renewTimer = setInterval(() => void this.publishOwn(), RENEW_EVERY_MS);
    this.renewTimer.unref();
    this.syncTimer = setInterval(() => this.sync(), LEADER_SYNC_EVERY_MS);
    this.syncTimer.unref();
    this.schedulePublish();
    this.sync();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    for (const t of [this.renewTimer, this.syncTimer, this.publishTimer]) if (t) clearTimeout(t);
    this.registry.onChange(null);
    this.leadership.off('acquired', this.onAcquired);
    this.leadership.off('lost', this.onLost);
  }

  /** Leader: how many peers' references it holds, and how many references (tests, status). */
  peerStats(): { peers: number; references: number } {
    let references = 0;
    for (const refs of this.applied.values()) references += refs.size;
    return { peers: this.applied.size, references };
  }

  // ---- every instance: its own references ----

  private schedulePublish(): void {
    if (this.publishTimer !== null || this.stopped) return;
    this.publishTimer = setTimeout(() => {
      this.publishTimer = null;
      void this.publishOwn();
    }, PUBLISH_DEBOUNCE_MS);
    this.publishTimer.unref();
  }

  /** This instance's CLIENT and WATCHLIST references (peers' excluded), highest mode per kind. */
  private ownReferences(): WireRef[] {
    const out: WireRef[] = [];
    for (const kind of SHARED_KINDS) {
      for (const entry of this.registry.list(kind)) {
        let mode: FeedMode | undefined;
        for (const h of entry.holders) {
          if (h.kind !== kind || h.holderId.startsWith(PEER_HOLDER_PREFIX)) continue;
          if (mode === undefined || FEED_MODE_RANK[h.mode] > FEED_MODE_RANK[mode]) mode = h.mode;
        }
        if (mode !== undefined) out.push([entry.segment, entry.securityId, kind, mode]);
      }
    }
    return out;
  }

  private async publishOwn(): Promise<void> {
    const client = this.redis?.client;
    if (!client || this.stopped) return;
    const id = this.leadership.instanceId;
    if (this.ownDirty) {
      // Listing the registry costs milliseconds at 25,000 instruments: only after a change.
      this.ownDirty = false;
      this.ownJson = JSON.stringify(this.ownReferences());
    }
    const json = this.ownJson;
    const expires = Date.now() + REF_LEASE_MS;
    try {
      if (json === this.lastPublished) {
        const renewed = await client
          .multi()
          .pexpire(REFS_KEY_PREFIX + id, REF_LEASE_MS)
          .zadd(REF_INSTANCES_KEY, expires, id)
          .exec();
        // The key lapsed meanwhile (Redis restarted, a long pause): write it whole again.
        if (renewed?.[0]?.[1] === 0) this.lastPublished = '';
        else return;
      }
      await client
        .multi()
        .set(REFS_KEY_PREFIX + id, json, 'PX', REF_LEASE_MS)
        .zadd(REF_INSTANCES_KEY, expires, id)
        .publish(REFS_CHANGED_CHANNEL, id)
        .exec();
      this.lastPublished = json;
    } catch (err) {
      // Retried at the next renewal: the lease outlives a few failed ones.
      this.lastPublished = '';
      this.logger.warn({ msg: 'references not published to Redis', err: String(err) });
    }
  }

  // ---- leader: the union ----

  private readonly onAcquired = (): void => this.sync();

  private readonly onLost = (): void => {
    for (const peer of [...this.applied.keys()]) this.dropPeer(peer);
    this.suppressed.clear();
  };

  /** Brings the peers' references in the registry to what Redis says; serialised. */
  private sync(): void {
    if (!this.leadership.isLeader() || this.stopped || !this.redis?.client) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    this.syncOnce()
      .catch((err: unknown) =>
        this.logger.warn({ msg: 'peer references not synced', err: String(err) }),
      )
      .finally(() => {
        this.syncing = false;
        if (this.syncAgain) {
          this.syncAgain = false;
          this.sync();
        }
      });
  }

  private async syncOnce(): Promise<void> {
    const client = this.redis!.client!;
    const now = Date.now();
    await client.zremrangebyscore(REF_INSTANCES_KEY, '-inf', now);
    const ids = (await client.zrangebyscore(REF_INSTANCES_KEY, now, '+inf')).filter(
      (id) => id !== this.leadership.instanceId,
    );
    const values = ids.length > 0 ? await client.mget(ids.map((id) => REFS_KEY_PREFIX + id)) : [];
    if (!this.leadership.isLeader()) return;
    const desired = new Map<string, Map<string, WireRef>>();
    const unchanged = new Set<string>();
    ids.forEach((id, i) => {
      const text = values[i];
      if (text === null || text === undefined) return;
      if (this.peerText.get(id) === text && this.applied.has(id)) {
        unchanged.add(id);
        return;
      }
      this.peerText.set(id, text);
      try {
        const refs = JSON.parse(text) as WireRef[];
        desired.set(id, new Map(refs.map((r) => [refId(r), r])));
      } catch {
        this.logger.warn({ msg: 'malformed peer references ignored', peer: id });
      }
    });
    for (const peer of [...this.applied.keys()]) {
      if (!desired.has(peer) && !unchanged.has(peer)) this.dropPeer(peer);
    }
    for (const [peer, wanted] of desired) this.applyPeer(peer, wanted);
  }

  private applyPeer(peer: string, wanted: Map<string, WireRef>): void {
    const held = this.applied.get(peer) ?? new Map<string, WireRef>();
    this.applied.set(peer, held);
    const suppressed = this.suppressed.get(peer);
    if (suppressed) {
      for (const id of suppressed) if (!wanted.has(id)) suppressed.delete(id);
    }
    const gone: SubscriptionReference[] = [];
    for (const [id, r] of held) {
      if (!wanted.has(id)) {
        gone.push(this.toRef(peer, r));
        held.delete(id);
      }
    }
    if (gone.length > 0) this.registry.release(gone);
    const added: WireRef[] = [];
    for (const [id, r] of wanted) {
      const had = held.get(id);
      if (suppressed?.has(id) || (had !== undefined && had[3] === r[3])) continue;
      added.push(r);
    }
    if (added.length === 0) return;
    try {
      this.registry.acquire(added.map((r) => this.toRef(peer, r)));
      for (const r of added) held.set(refId(r), r);
    } catch {
      // All or nothing failed (the feed is full of higher priorities): each on its own.
      let refused = 0;
      for (const r of added) {
        try {
          this.registry.acquire([this.toRef(peer, r)]);
          held.set(refId(r), r);
        } catch {
          refused++;
        }
      }
      this.logger.warn({ msg: 'peer references refused (feed full)', peer, refused });
    }
  }

  private dropPeer(peer: string): void {
    const held = this.applied.get(peer);
    this.applied.delete(peer);
    this.peerText.delete(peer);
    this.suppressed.delete(peer);
    if (held && held.size > 0) {
      this.registry.release([...held.values()].map((r) => this.toRef(peer, r)));
    }
  }

  private toRef(peer: string, r: WireRef): SubscriptionReference {
    return {
      segment: r[0],
      securityId: r[1],
      kind: r[2],
      mode: r[3],
      holderId: PEER_HOLDER_PREFIX + peer,
    };
  }

  // ---- evictions ----

  private onEviction(event: EvictionEvent): void {
    if (!this.leadership.isLeader()) return;
    for (const h of event.holders) {
      if (!h.holderId.startsWith(PEER_HOLDER_PREFIX)) continue;
      const peer = h.holderId.slice(PEER_HOLDER_PREFIX.length);
      const id = `${h.kind}|${event.instrument.segment}|${event.instrument.securityId}`;
      this.applied.get(peer)?.delete(id);
      let set = this.suppressed.get(peer);
      if (!set) this.suppressed.set(peer, (set = new Set()));
      set.add(id);
    }
    const notice: EvictionNotice = {
      from: this.leadership.instanceId,
      key: event.instrument.key,
      forPriority: event.forPriority,
    };
    this.redis?.client
      ?.publish(EVICTIONS_CHANNEL, JSON.stringify(notice))
      .catch((err: Error) =>
        this.logger.warn({ msg: 'eviction notice not published', err: err.message }),
      );
  }

  private receiveEviction(text: string): void {
    let notice: EvictionNotice;
    try {
      notice = JSON.parse(text) as EvictionNotice;
    } catch {
      return;
    }
    if (notice.from === this.leadership.instanceId || this.leadership.isLeader()) return;
    if (this.registry.evict(notice.key, notice.forPriority)) {
      this.logger.log({ msg: 'instrument evicted by the leader', key: notice.key });
    }
  }
}
