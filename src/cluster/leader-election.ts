import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { RedisLock, type LockHolding } from './redis-lock';

export type ClusterRole = 'LEADER' | 'FOLLOWER';

export interface LeaderElectionOptions {
  redis: Redis;
  key: string;
  ttlMs: number;
  /** Unique per process. */
  owner: string;
  /** Between rounds (acquire or renew); 0 = no timer, the caller calls tick(). Default ttl / 3. */
  intervalMs?: number;
  /** Monotonic milliseconds (a lease must not move with the wall clock). */
  now?: () => number;
  onError?: (err: Error) => void;
}

export type LeaderElectionEvents = {
  acquired: [fence: number];
  lost: [reason: string];
};

/**
 * Leadership on RedisLock. A holder counts its lease from the moment it sent the acquire or
 * renew that succeeded, less a drift margin; past that it is no leader any more, whatever
 * Redis says, so a process that was paused (SIGSTOP, a long GC) finds on waking, before any
 * timer of its own runs an action, that it must step down. Renewal every third of the TTL.
 */
export class LeaderElection extends EventEmitter<LeaderElectionEvents> {
  private readonly lock: RedisLock;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private holding: LockHolding | undefined;
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: LeaderElectionOptions) {
    super();
    this.lock = new RedisLock(options.redis, options.key, options.ttlMs, options.owner);
    this.now = options.now ?? (() => performance.now());
    this.intervalMs = options.intervalMs ?? Math.max(1, Math.floor(options.ttlMs / 3));
  }

  /** The first round at once, then one every interval. */
  start(): Promise<void> {
    this.stopped = false;
    const first = this.tick();
    if (this.intervalMs > 0) {
      this.timer = setInterval(() => void this.tick(), this.intervalMs);
      this.timer.unref();
    }
    return first;
  }

  /** Stops the rounds and frees the lock if it is still ours (a successor takes over at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.round;
    const holding = this.holding;
    if (holding === undefined) return;
    this.stepDown('shutting down');
    await this.lock.release(holding).catch((err: Error) => this.options.onError?.(err));
  }

  /** Synchronous and local: holding a lease that has not run out by the monotonic clock. */
  isLeader(): boolean {
    return this.holding !== undefined && this.now() < this.validUntil;
  }

  get role(): ClusterRole {
    return this.isLeader() ? 'LEADER' : 'FOLLOWER';
  }

  /** The fencing token of the current holding; undefined when not leading. */
  get fence(): number | undefined {
    return this.isLeader() ? this.holding?.fence : undefined;
  }

  /**
   * The fencing check before a leader-only action: the local lease and then Redis (the lock's
   * value is still this holding's). False steps down at once.
   */
  async confirm(): Promise<boolean> {
    const holding = this.holding;
    if (holding === undefined) return false;
    if (!this.isLeader()) {
      this.stepDown('lease ran out');
      return false;
    }
    let holds: boolean;
    try {
      holds = await this.lock.holds(holding);
    } catch (err) {
      this.options.onError?.(err as Error);
      // Redis unreachable: the lease decides (it runs out within the TTL).
      return this.isLeader();
    }
    if (!holds) {
      if (this.holding === holding) this.stepDown('lock held by another instance');
      return false;
    }
    return this.isLeader();
  }

  /** One round, never two at once: renew (leader) or try to acquire (follower). */
  tick(): Promise<void> {
    this.round = this.round.then(() => this.runRound());
    return this.round;
  }

  private async runRound(): Promise<void> {
    if (this.stopped) return;
    // Woken from a pause past the lease: step down before anything else.
    if (this.holding !== undefined && !this.isLeader()) this.stepDown('lease ran out');
    const sentAt = this.now();
    try {
      if (this.holding !== undefined) {
        const holding = this.holding;
        if (await this.lock.renew(holding)) {
          if (this.holding === holding) this.validUntil = this.leaseEnd(sentAt);
        } else if (this.holding === holding) {
          this.stepDown('lock expired or taken');
        }
        return;
      }
      const holding = await this.lock.tryAcquire();
      if (holding === undefined) return;
      if (this.stopped) {
        await this.lock.release(holding);
        return;
      }
      this.holding = holding;
      this.validUntil = this.leaseEnd(sentAt);
      this.emit('acquired', holding.fence);
    } catch (err) {
      this.options.onError?.(err as Error);
      // Unreachable Redis: the lease runs out by itself; then step down.
      if (this.holding !== undefined && !this.isLeader()) this.stepDown('lease ran out');
    }
  }

  /** Redlock's clock-drift allowance: 1 % of the TTL plus 2 ms. */
  private leaseEnd(sentAt: number): number {
    return sentAt + this.options.ttlMs - Math.ceil(this.options.ttlMs * 0.01) - 2;
  }

  private stepDown(reason: string): void {
    if (this.holding === undefined) return;
    this.holding = undefined;
    this.validUntil = 0;
    this.emit('lost', reason);
  }
}
