import { Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitedError } from '../common/errors/domain-error';

export const LOGIN_LIMITS = {
  /** Attempts per client address per minute, successful or not. */
  perAddressPerMinute: 30,
  /** Failed attempts per username per 15 minutes; a success resets the count. */
  failuresPerUsername: 10,
  usernameWindowSeconds: 15 * 60,
} as const;

/** Brute-force and credential-stuffing brake on login (in memory; Redis when scaled out). */
@Injectable()
export class LoginThrottle {
  private readonly byAddress = new RateLimiterMemory({
    keyPrefix: 'login-ip',
    points: LOGIN_LIMITS.perAddressPerMinute,
    duration: 60,
  });
  private readonly byUsername = new RateLimiterMemory({
    keyPrefix: 'login-user',
    points: LOGIN_LIMITS.failuresPerUsername,
    duration: LOGIN_LIMITS.usernameWindowSeconds,
  });

  /** Counts an attempt from `address`; throws RATE_LIMITED when either limit is spent. */
  async beforeAttempt(username: string, address: string): Promise<void> {
    try {
      await this.byAddress.consume(address);
    } catch (rejection) {
      throw this.limited(rejection);
    }
    const state = await this.byUsername.get(username.toLowerCase());
    if (state !== null && state.consumedPoints >= LOGIN_LIMITS.failuresPerUsername) {
      throw this.limited(state);
    }
  }

  async onFailure(username: string): Promise<void> {
    try {
      await this.byUsername.consume(username.toLowerCase());
    } catch {
      // Already at the limit: the next attempt is refused by beforeAttempt.
    }
  }

  async onSuccess(username: string): Promise<void> {
    await this.byUsername.delete(username.toLowerCase());
  }

  private limited(rejection: unknown): RateLimitedError {
    if (rejection instanceof RateLimiterRes) {
      return new RateLimitedError(Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)));
    }
    if (rejection instanceof Error) throw rejection;
    return new RateLimitedError(60);
  }
}
