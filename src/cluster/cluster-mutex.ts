import { Injectable } from '@nestjs/common';
import { UnavailableError } from '../common/errors/domain-error';
import { ClusterRedis } from './cluster-redis';
import { LeadershipService } from './leadership.service';
import { RedisLock } from './redis-lock';

/** Keys of the cluster's mutexes: `terminal:mutex:<name>`. */
export const MUTEX_KEY_PREFIX = 'terminal:mutex:';
/** A holder that dies keeps others out at most this long. */
const MUTEX_TTL_MS = 15_000;
/** Longest wait for a mutex before the caller gets UNAVAILABLE (retryable). */
const MUTEX_WAIT_MS = 10_000;

/** The mutex was not free within MUTEX_WAIT_MS (another instance holds it, or Redis is away). */
export class ClusterBusyError extends UnavailableError {
  constructor(name: string) {
    super(`Cluster lock ${name} not taken in ${MUTEX_WAIT_MS} ms (busy, or Redis unreachable)`);
  }
}

/**
 * Mutual exclusion across instances (REDIS_URL) for short critical sections, such as one
 * user's order admission (funds reservation): the Redis lock recipe of the leadership, one key
 * per name, polled with a short backoff. Without REDIS_URL there is one instance and
 * `exclusive` just runs the section (nothing is locked, nothing costs).
 */
@Injectable()
export class ClusterMutex {
  constructor(
    private readonly redis: ClusterRedis,
    private readonly leadership: LeadershipService,
  ) {}

  get clustered(): boolean {
    return this.redis.enabled;
  }

  async exclusive<T>(name: string, section: () => Promise<T>): Promise<T> {
    const client = this.redis.client;
    if (client === null) return section();
    const lock = new RedisLock(
      client,
      MUTEX_KEY_PREFIX + name,
      MUTEX_TTL_MS,
      this.leadership.instanceId,
    );
    const deadline = Date.now() + MUTEX_WAIT_MS;
    let delay = 5;
    for (;;) {
      const holding = await lock.tryAcquire().catch(() => undefined);
      if (holding !== undefined) {
        try {
          return await section();
        } finally {
          await lock.release(holding).catch(() => undefined);
        }
      }
      if (Date.now() + delay > deadline) {
        throw new ClusterBusyError(name);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 100);
    }
  }
}
