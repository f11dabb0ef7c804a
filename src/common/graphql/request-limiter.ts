import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, type ResolvedAppConfig } from '../../config/app-config';
import { RequestRefusedError } from '../errors/domain-error';
import { ErrorCode } from '../errors/error-code';

/**
 * Per-caller brake on GraphQL over HTTP (both endpoints together): a request rate and a cap on
 * operations served at once. A caller is a user, or a client address when anonymous. In memory:
 * each instance limits its own share when scaled out.
 */
@Injectable()
export class RequestLimiter {
  private readonly rate: RateLimiterMemory;
  private readonly inFlight = new Map<string, number>();
  private readonly maxInFlight: number;

  constructor(@Inject(APP_CONFIG) config: ResolvedAppConfig) {
    const limits = config.requestLimits;
    this.rate = new RateLimiterMemory({
      keyPrefix: 'graphql-http',
      points: limits.rateLimit,
      duration: limits.rateWindowSeconds,
    });
    this.maxInFlight = limits.maxInFlight;
  }

  /**
   * Admits one operation of `caller` or throws RATE_LIMITED (status 429). The returned release
   * must be called once when the operation's answer is done; it is idempotent.
   */
  async admit(caller: string): Promise<() => void> {
    const running = this.inFlight.get(caller) ?? 0;
    if (running >= this.maxInFlight) {
      throw this.tooManyAtOnce();
    }
    try {
      await this.rate.consume(caller);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new RequestRefusedError(
        ErrorCode.RATE_LIMITED,
        `Too many requests: try again in ${retryAfterSeconds} s`,
        429,
        { retryAfterSeconds },
      );
    }
    // Counted after the await: concurrent admissions each see the count they add to.
    const now = this.inFlight.get(caller) ?? 0;
    if (now >= this.maxInFlight) {
      throw this.tooManyAtOnce();
    }
    this.inFlight.set(caller, now + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(caller) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(caller);
      else this.inFlight.set(caller, left);
    };
  }

  /** Operations of `caller` being served now. */
  running(caller: string): number {
    return this.inFlight.get(caller) ?? 0;
  }

  private tooManyAtOnce(): RequestRefusedError {
    return new RequestRefusedError(
      ErrorCode.RATE_LIMITED,
      `Too many operations at once: at most ${this.maxInFlight} are served per caller; wait for an answer before sending more`,
      429,
      { retryAfterSeconds: 1 },
    );
  }
}
