import { performance } from 'node:perf_hooks';

export interface WindowLimits {
  perSecond?: number;
  perMinute?: number;
  perHour?: number;
  perDay?: number;
}

/** DhanHQ's API families and limits (DhanHQ v2: rate limits). */
export interface RateLimitOptions {
  orders?: WindowLimits | false;
  data?: WindowLimits | false;
  quote?: WindowLimits | false;
  nonTrading?: WindowLimits | false;
  /** Option chain: the same request again within this window is refused. Default 3,000 ms. */
  optionChainUniqueMs?: number | false;
}

export type ApiFamily = 'orders' | 'data' | 'quote' | 'nonTrading';

export const DEFAULT_RATE_LIMITS: Required<RateLimitOptions> = {
  orders: { perSecond: 10, perMinute: 250, perHour: 1000, perDay: 7000 },
  data: { perSecond: 5, perDay: 100_000 },
  quote: { perSecond: 1 },
  nonTrading: { perSecond: 20 },
  optionChainUniqueMs: 3000,
};

const WINDOWS: [keyof WindowLimits, number][] = [
  ['perSecond', 1_000],
  ['perMinute', 60_000],
  ['perHour', 3_600_000],
  ['perDay', 86_400_000],
];

/**
 * Sliding-window counters per (client, family), on the monotonic clock so that a frozen
 * market clock in tests does not freeze the limiter.
 */
export class RateLimiter {
  private readonly logs = new Map<string, number[]>();
  private readonly chains = new Map<string, number>();
  private readonly limits: Required<RateLimitOptions>;

  constructor(options: RateLimitOptions | false = {}) {
    this.limits =
      options === false
        ? {
            orders: false,
            data: false,
            quote: false,
            nonTrading: false,
            optionChainUniqueMs: false,
          }
        : { ...DEFAULT_RATE_LIMITS, ...options };
  }

  /** Records the call and says whether it is within limits. */
  allow(clientId: string, family: ApiFamily, now: number = performance.now()): boolean {
    const limits = this.limits[family];
    if (!limits) return true;
    const key = `${clientId}|${family}`;
    let log = this.logs.get(key);
    if (!log) {
      log = [];
      this.logs.set(key, log);
    }
    let longest = 0;
    for (const [name, span] of WINDOWS) if (limits[name] !== undefined) longest = span;
    while (log.length > 0 && now - log[0] >= longest) log.shift();
    for (const [name, span] of WINDOWS) {
      const limit = limits[name];
      if (limit === undefined) continue;
      let count = 0;
      for (let i = log.length - 1; i >= 0 && now - log[i] < span; i--) count++;
      if (count >= limit) return false;
    }
    log.push(now);
    return true;
  }

  allowOptionChain(clientId: string, requestKey: string, now: number = performance.now()): boolean {
    const window = this.limits.optionChainUniqueMs;
    if (window === false) return true;
    const key = `${clientId}|${requestKey}`;
    const last = this.chains.get(key);
    if (last !== undefined && now - last < window) return false;
    this.chains.set(key, now);
    return true;
  }
}
