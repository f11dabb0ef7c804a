import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ClusterRedis } from './cluster-redis';
import { LeadershipService } from './leadership.service';

/** The leader's facts, every LEADER_STATUS_EVERY_MS (JSON). */
export const LEADER_STATUS_CHANNEL = 'terminal:leader-status';
const LEADER_STATUS_EVERY_MS = 1_000;
/** Facts older than this are not believed (the leader is gone or Redis is). */
const LEADER_STATUS_MAX_AGE_MS = 3_500;

interface LeaderStatusMessage {
  from: string;
  facts: Record<string, boolean>;
}

/**
 * Facts only the leader can know (its order-update socket streams...), published by it every
 * second through Redis and read on followers, so a follower's `/ready` can say whether the
 * leader's sockets work instead of always saying "follower" (REDIS_URL only).
 */
@Injectable()
export class LeaderStatus implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly sources = new Map<string, () => boolean>();
  private last: LeaderStatusMessage | null = null;
  private heardAt = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: ClusterRedis,
    private readonly leadership: LeadershipService,
  ) {}

  /** A fact this instance publishes while it leads. */
  report(name: string, source: () => boolean): void {
    this.sources.set(name, source);
  }

  /** The leader's fact as last heard (never this instance's own); undefined when not heard lately. */
  fact(name: string): boolean | undefined {
    if (this.last === null || Date.now() - this.heardAt > LEADER_STATUS_MAX_AGE_MS)
      return undefined;
    return this.last.facts[name];
  }

  onApplicationBootstrap(): void {
    if (!this.redis.enabled) return;
    this.redis.subscribe(LEADER_STATUS_CHANNEL, (text) => this.receive(text));
    this.timer = setInterval(() => this.publish(), LEADER_STATUS_EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private publish(): void {
    const client = this.redis.client;
    if (client === null || !this.leadership.isLeader()) return;
    const facts: Record<string, boolean> = {};
    for (const [name, source] of this.sources) facts[name] = source();
    const message: LeaderStatusMessage = { from: this.leadership.instanceId, facts };
    client.publish(LEADER_STATUS_CHANNEL, JSON.stringify(message)).catch(() => undefined);
  }

  private receive(text: string): void {
    try {
      const message = JSON.parse(text) as LeaderStatusMessage;
      if (message.from === this.leadership.instanceId) return;
      this.last = message;
      this.heardAt = Date.now();
    } catch {
      // A malformed message changes nothing.
    }
  }
}
