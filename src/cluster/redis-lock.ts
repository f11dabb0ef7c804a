import type { Redis } from 'ioredis';

/**
 * Redis's single-instance lock recipe (SET NX PX; compare-and-extend and compare-and-delete in
 * Lua, so only the holder of the value can renew or free the lock) plus a fencing token: every
 * acquisition takes the next number of a counter that never goes back (INCR), stored in the
 * lock's value. A holder checks that the value is still its own before acting, so a holder that
 * was paused past the TTL, and replaced meanwhile, finds out before it acts.
 */
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '/' .. fence, 'PX', ARGV[2])
return fence`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** One holding of the lock: the value only this holder knows and its fencing token. */
export interface LockHolding {
  value: string;
  fence: number;
}

export class RedisLock {
  private readonly fenceKey: string;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    readonly ttlMs: number,
    /** Unique per process (random): the lock's value starts with it. */
    private readonly owner: string,
  ) {
    this.fenceKey = `${key}:fence`;
  }

  /** Takes the lock if nobody holds it; undefined when another does. */
  async tryAcquire(): Promise<LockHolding | undefined> {
    const fence = Number(
      await this.redis.eval(ACQUIRE, 2, this.key, this.fenceKey, this.owner, this.ttlMs),
    );
    return fence > 0 ? { value: `${this.owner}/${fence}`, fence } : undefined;
  }

  /** Extends the TTL if the lock is still this holding's; false when it expired or moved on. */
  async renew(holding: LockHolding): Promise<boolean> {
    return Number(await this.redis.eval(RENEW, 1, this.key, holding.value, this.ttlMs)) === 1;
  }

  /** Frees the lock if it is still this holding's (a successor's lock is left alone). */
  async release(holding: LockHolding): Promise<boolean> {
    return Number(await this.redis.eval(RELEASE, 1, this.key, holding.value)) === 1;
  }

  /** Whether this holding is the lock's current one (the fencing check). */
  async holds(holding: LockHolding): Promise<boolean> {
    return (await this.redis.get(this.key)) === holding.value;
  }

  /** The fencing token of whoever holds the lock now; 0 when nobody does. */
  async currentFence(): Promise<number> {
    const value = await this.redis.get(this.key);
    if (value === null) return 0;
    return Number(value.slice(value.lastIndexOf('/') + 1));
  }
}
