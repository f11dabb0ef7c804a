import { Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../common/errors/domain-error';

export const LOGIN_LIMITS = {
  /** Attempts per client address per minute, successful or not: a CPU brake (argon2). */
  attemptsPerAddressPerMinute: 120,
  /** Failed attempts per client address per window (one office may sit behind one NAT). */
  failuresPerAddress: 50,
  /** Failed attempts per username per window; a success resets the count. */
  failuresPerUsername: 10,
  windowSeconds: 15 * 60,
} as const;

/** Brute-force and credential-stuffing brake on login (in memory; Redis when scaled out). */
@Injectable()
export class LoginThrottle {
  private readonly attemptsByAddress = new RateLimiterMemory({
    keyPrefix: 'login-ip',
    points: LOGIN_LIMITS.attemptsPerAddressPerMinute,
    duration: 60,
  });
  private readonly failuresByAddress = new RateLimiterMemory({
    keyPrefix: 'login-ip-fail',
    points: LOGIN_LIMITS.failuresPerAddress,
    duration: LOGIN_LIMITS.windowSeconds,
  });
  private readonly failuresByUsername = new RateLimiterMemory({
    keyPrefix: 'login-user-fail',
    points: LOGIN_LIMITS.failuresPerUsername,
    duration: LOGIN_LIMITS.windowSeconds,
  });

  /** Counts an attempt; throws RATE_LIMITED when any limit is spent. */
  async beforeAttempt(username: string, address: string): Promise<void> {
    try {
      await this.attemptsByAddress.consume(address);
    } catch (rejection) {
      throw limited(rejection);
    }
    const [byAddress, byUsername] = await Promise.all([
      this.failuresByAddress.get(address),
      this.failuresByUsername.get(username.toLowerCase()),
    ]);
    if (byAddress !== null && byAddress.consumedPoints >= LOGIN_LIMITS.failuresPerAddress) {
      throw limited(byAddress);
    }
    if (byUsername !== null && byUsername.consumedPoints >= LOGIN_LIMITS.failuresPerUsername) {
      throw limited(byUsername);
    }
  }

  async onFailure(username: string, address: string): Promise<void> {
    // Past the limit, consume() rejects; the next attempt is refused by beforeAttempt anyway.
    await Promise.allSettled([
      this.failuresByAddress.consume(address),
      this.failuresByUsername.consume(username.toLowerCase()),
    ]);
  }

  async onSuccess(username: string): Promise<void> {
    await this.failuresByUsername.delete(username.toLowerCase());
  }
}

function limited(rejection: unknown): Error {
  if (rejection instanceof RateLimiterRes) {
    return new RateLimitedError(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
  }
  return rejection instanceof Error ? rejection : new RateLimitedError(60);
}
