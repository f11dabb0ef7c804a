import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { ClusterRedis } from '../cluster/cluster-redis';
import { RateLimitedError } from '../common/errors/domain-error';

export interface LoginLimits {
  /** Attempts per client address per minute, successful or not: a CPU brake (argon2). */
  attemptsPerAddressPerMinute: number;
  /** Failures in a row for one username from one address; a success resets the count. */
  failuresPerPair: number;
  /** How long a pair that spent its failures stays blocked (from its first failure). */
  pairWindowSeconds: number;
  /** Failures per address per day, every username together: high, one office may share a NAT. */
  failuresPerAddressPerDay: number;
  /** Failures per username per day from every address, past which attempts are slowed. */
  failuresPerUsernamePerDay: number;
  /** Once slowed: attempts per minute on that username, from addresses it never logged in from. */
  slowedAttemptsPerUsernamePerMinute: number;
  /** How long an address a user logged in from skips the username slow-down. */
  knownAddressDays: number;
}

export const LOGIN_LIMITS: LoginLimits = {
  attemptsPerAddressPerMinute: 120,
  failuresPerPair: 10,
  pairWindowSeconds: 15 * 60,
  failuresPerAddressPerDay: 200,
  failuresPerUsernamePerDay: 100,
  slowedAttemptsPerUsernamePerMinute: 3,
  knownAddressDays: 30,
};

/** Optional DI token to replace LOGIN_LIMITS. */
export const LOGIN_LIMITS_OVERRIDE = Symbol('LOGIN_LIMITS_OVERRIDE');

const DAY_SECONDS = 86_400;
/** Known (username, address) pairs kept in memory; the oldest are forgotten first. */
const MAX_KNOWN_PAIRS = 10_000;

/** Redis keys of the throttle start with this (the limiters' prefixes follow). */
const REDIS_PREFIX = 'terminal:';

/**
 * Brute-force and credential-stuffing brake on login and password change (in memory; in Redis,
 * shared by every instance, when REDIS_URL is set: counts and known addresses), after the usual login-endpoint protection: failures in a row block only
 * the (username, address) pair, so nobody elsewhere can lock a user out; one address is
 * stopped after many failures a day over all usernames; a username attacked from many
 * addresses is slowed, not locked, and not at all from addresses it logged in from before.
 */
@Injectable()
export class LoginThrottle {
  private readonly attemptsByAddress: RateLimiterAbstract;
  private readonly failuresByPair: RateLimiterAbstract;
  private readonly failuresByAddress: RateLimiterAbstract;
  private readonly failuresByUsername: RateLimiterAbstract;
  private readonly slowedByUsername: RateLimiterAbstract;
  /** pair key -> time (ms) until which the pair skips the username slow-down (in memory). */
  private readonly knownPairs = new Map<string, number>();
  private readonly redis: Redis | null;

  constructor(
    @Optional() @Inject(LOGIN_LIMITS_OVERRIDE) private readonly limits: LoginLimits = LOGIN_LIMITS,
    @Optional() cluster?: ClusterRedis,
  ) {
    this.redis = cluster?.client ?? null;
    const redis = this.redis;
    const limiter = (options: { keyPrefix: string; points: number; duration: number }) =>
      redis === null
        ? new RateLimiterMemory(options)
        : new RateLimiterRedis({
            ...options,
            keyPrefix: `${REDIS_PREFIX}${options.keyPrefix}`,
            storeClient: redis,
          });
    this.attemptsByAddress = limiter({
      keyPrefix: 'login-ip',
      points: limits.attemptsPerAddressPerMinute,
      duration: 60,
    });
    this.failuresByPair = limiter({
      keyPrefix: 'login-pair-fail',
      points: limits.failuresPerPair,
      duration: limits.pairWindowSeconds,
    });
    this.failuresByAddress = limiter({
      keyPrefix: 'login-ip-fail',
      points: limits.failuresPerAddressPerDay,
      duration: DAY_SECONDS,
    });
    this.failuresByUsername = limiter({
      keyPrefix: 'login-user-fail',
      points: limits.failuresPerUsernamePerDay,
      duration: DAY_SECONDS,
    });
    this.slowedByUsername = limiter({
      keyPrefix: 'login-user-slow',
      points: limits.slowedAttemptsPerUsernamePerMinute,
      duration: 60,
    });
  }

  /** Counts an attempt; throws RATE_LIMITED when a limit applies to this username and address. */
  async beforeAttempt(username: string, address: string): Promise<void> {
    const user = username.toLowerCase();
    const pair = pairKey(user, address);
    try {
      await this.attemptsByAddress.consume(address);
    } catch (rejection) {
      throw limited(rejection);
    }
    const [byAddress, byPair, byUsername] = await Promise.all([
      this.failuresByAddress.get(address),
      this.failuresByPair.get(pair),
      this.failuresByUsername.get(user),
    ]);
    if (spent(byAddress, this.limits.failuresPerAddressPerDay)) throw limited(byAddress);
    if (spent(byPair, this.limits.failuresPerPair)) throw limited(byPair);
    if (spent(byUsername, this.limits.failuresPerUsernamePerDay) && !(await this.isKnown(pair))) {
      try {
        await this.slowedByUsername.consume(user);
      } catch (rejection) {
        throw limited(rejection);
      }
    }
  }

  async onFailure(username: string, address: string): Promise<void> {
    const user = username.toLowerCase();
    // Past a limit, consume() rejects; the next attempt is refused by beforeAttempt anyway.
    await Promise.allSettled([
      this.failuresByAddress.consume(address),
      this.failuresByPair.consume(pairKey(user, address)),
      this.failuresByUsername.consume(user),
    ]);
  }

  /** Resets the pair's failures and remembers the address as one this user logs in from. */
  async onSuccess(username: string, address: string): Promise<void> {
    const pair = pairKey(username.toLowerCase(), address);
    await this.failuresByPair.delete(pair);
    const knownMs = this.limits.knownAddressDays * DAY_SECONDS * 1000;
    if (this.redis !== null) {
      await this.redis.set(knownKey(pair), '1', 'PX', knownMs);
      return;
    }
    this.knownPairs.delete(pair);
    this.knownPairs.set(pair, Date.now() + knownMs);
    if (this.knownPairs.size > MAX_KNOWN_PAIRS) {
      const oldest = this.knownPairs.keys().next().value;
      if (oldest !== undefined) this.knownPairs.delete(oldest);
    }
  }

  private async isKnown(pair: string): Promise<boolean> {
    if (this.redis !== null) return (await this.redis.exists(knownKey(pair))) === 1;
    const until = this.knownPairs.get(pair);
    return until !== undefined && until > Date.now();
  }
}

function pairKey(username: string, address: string): string {
  return `${username}\u0000${address}`;
}

function knownKey(pair: string): string {
  return `${REDIS_PREFIX}login-known:${pair}`;
}

function spent(result: RateLimiterRes | null, limit: number): result is RateLimiterRes {
  return result !== null && result.consumedPoints >= limit;
}

function limited(rejection: unknown): Error {
  if (rejection instanceof RateLimiterRes) {
    return new RateLimitedError(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
  }
  return rejection instanceof Error ? rejection : new RateLimitedError(60);
}
