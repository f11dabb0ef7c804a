import { randomBytes } from 'node:crypto';
import { Counter, Gauge } from 'prom-client';
import { EventEmitter } from 'node:events';
import * as os from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
  Optional,
} from '@nestjs/common';
import { ConflictError } from '../common/errors/domain-error';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config';
import { MetricsService } from '../health/metrics.service';
import { ReadinessRegistry } from '../health/readiness.registry';
import { ClusterRedis } from './cluster-redis';
import { LeaderElection, type ClusterRole, type LeaderElectionEvents } from './leader-election';

export type { ClusterRole } from './leader-election';

/** The Redis key of the feed-leadership lock (its fencing counter is `<key>:fence`). */
export const LEADER_LOCK_KEY = 'terminal:leader';

/** A leader-only action asked of an instance that does not lead (or no longer does). */
export class NotLeaderError extends ConflictError {
  constructor() {
    super('This instance does not hold the DhanHQ leadership; another instance does this');
  }
}

/**
 * Which instance holds the DhanHQ sockets, runs the day-cycle crons and reconciles with the
 * broker. Without REDIS_URL this instance always leads and nothing is elected. With it, a Redis
 * lock with a TTL and a fencing token decides: `isLeader()` (synchronous, local lease),
 * `fence()` (checks Redis too, before a leader-only action), events `acquired` and `lost`.
 */
@Injectable()
export class LeadershipService
  extends EventEmitter<LeaderElectionEvents>
  implements OnModuleInit, OnApplicationShutdown
{
  private readonly logger = new Logger(LeadershipService.name);
  private readonly election: LeaderElection | undefined;
  private acquisitions = 0;
  /** This process in logs and in Redis (host, pid and a random part). */
  readonly instanceId = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  constructor(
    // Optional parameters, not `| null` unions: a union's type is not emitted for injection.
    @Optional() private readonly redis?: ClusterRedis,
    @Optional() @Inject(APP_CONFIG) config?: ResolvedAppConfig,
    @Optional() readiness?: ReadinessRegistry,
    @Optional() metrics?: MetricsService,
  ) {
    super();
    readiness?.describe('role', () => this.role);
    if (metrics) this.registerMetrics(metrics);
    if (!redis?.client || !config) return;
    this.election = new LeaderElection({
      redis: redis.client,
      key: LEADER_LOCK_KEY,
      ttlMs: config.redis.leaderLockTtlMs,
      owner: this.instanceId,
      onError: (err) => this.logger.warn({ msg: 'leadership round failed', err: err.message }),
    });
    this.election.on('acquired', (fence) => {
      this.acquisitions++;
      this.logger.log({ msg: 'leadership acquired', instance: this.instanceId, fence });
      this.emit('acquired', fence);
    });
    this.election.on('lost', (reason) => {
      this.logger.warn({ msg: 'leadership lost', instance: this.instanceId, reason });
      this.emit('lost', reason);
    });
  }

  /** Whether instances are elected at all (REDIS_URL set). */
  get clustered(): boolean {
    return this.election !== undefined;
  }

  async onModuleInit(): Promise<void> {
    if (this.election === undefined) return;
    await this.redis?.whenConnected();
    // The first round before the modules start: a free lock is taken before the feed starts.
    await this.election.start();
  }

  /** After every module stopped its sockets: frees the lock so another instance leads at once. */
  async onApplicationShutdown(): Promise<void> {
    await this.election?.stop();
  }

  isLeader(): boolean {
    return this.election?.isLeader() ?? true;
  }

  get role(): ClusterRole {
    return this.isLeader() ? 'LEADER' : 'FOLLOWER';
  }

  /** The fencing token of the current leadership (0 standalone); undefined when following. */
  get fenceToken(): number | undefined {
    return this.election === undefined ? 0 : this.election.fence;
  }

  /** The fencing check: true when this instance still leads (asked of Redis). */
  async confirm(): Promise<boolean> {
    return this.election === undefined ? true : this.election.confirm();
  }

  private registerMetrics(metrics: MetricsService): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const leadership = this;
    const registers = [metrics.registry];
    new Gauge({
      name: 'cluster_is_leader',
      help: '1 while this instance holds the DhanHQ sockets and runs the day cycle (always without REDIS_URL).',
      registers,
      collect() {
        this.set(leadership.isLeader() ? 1 : 0);
      },
    });
    new Counter({
      name: 'cluster_leadership_acquired_total',
      help: 'Times this instance became the leader (REDIS_URL).',
      registers,
      collect() {
        this.reset();
        this.inc(leadership.acquisitions);
      },
    });
  }

  /** Before a leader-only action: its fencing token, or NotLeaderError. */
  async fence(): Promise<number> {
    if (this.election === undefined) return 0;
    const token = this.election.fence;
    if (token === undefined || !(await this.election.confirm())) throw new NotLeaderError();
    return token;
  }
}

/** This instance alone, always the leader (no REDIS_URL; code built without Nest). */
export function standaloneLeadership(): LeadershipService {
  return new LeadershipService();
}
