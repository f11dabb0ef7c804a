import { Clock, systemClock } from '../util/clock';
import { DhanRateLimitError } from './dhan-errors';

export type ApiFamily = 'order' | 'data' | 'quote' | 'optionChain' | 'nonTrading';

export interface RateWindow {
  limit: number;
  intervalMs: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** DhanHQ's published limits (DhanHQ v2: rate limits); order 10/s since March 2026. */
export const DHAN_RATE_LIMITS: Readonly<Record<ApiFamily, readonly RateWindow[]>> = {
  order: [
    { limit: 10, intervalMs: SECOND },
    { limit: 250, intervalMs: MINUTE },
    { limit: 1000, intervalMs: HOUR },
    { limit: 7000, intervalMs: DAY },
  ],
  data: [
    { limit: 5, intervalMs: SECOND },
    { limit: 100_000, intervalMs: DAY },
  ],
  quote: [{ limit: 1, intervalMs: SECOND }],
  // "One unique request every 3 seconds", applied to every option-chain call to stay safe.
  optionChain: [{ limit: 1, intervalMs: 3 * SECOND }],
  nonTrading: [{ limit: 20, intervalMs: SECOND }],
};

/** Exact sliding window over the last `limit` timestamps; a ring buffer per window. */
class SlidingWindow {
  private readonly stamps: Float64Array;
  private head = 0;
  private count = 0;

  constructor(readonly window: RateWindow) {
    this.stamps = new Float64Array(window.limit);
  }

  /** Milliseconds until one more call fits, 0 when it fits now. */
  delay(now: number): number {
    if (this.count < this.window.limit) return 0;
    const oldest = this.stamps[this.head];
    return Math.max(0, oldest + this.window.intervalMs - now);
  }

  /** Records a call; returns its slot for `restamp`. */
  record(now: number): number {
    const slot = this.head;
    this.stamps[slot] = now;
    this.head = (this.head + 1) % this.window.limit;
    if (this.count < this.window.limit) this.count++;
    return slot;
  }

  /** Moves a call's time later (never earlier): the window then counts from its answer. */
  restamp(slot: number, at: number): void {
    if (at > this.stamps[slot]) this.stamps[slot] = at;
  }
}

/**
 * A call's place in its family's windows. DhanHQ counts a call when it arrives, which is
 * somewhere between our send and its answer: `settle()` at the answer moves the call's time
 * there, so a burst that left spaced but arrived bunched (network jitter) is not refused.
 */
export interface RateTicket {
  settle(): void;
}

export interface RateLimiterOptions {
  /** `wait` queues the call until it fits; `fail` throws DhanRateLimitError at once. */
  mode?: 'wait' | 'fail';
  limits?: Partial<Record<ApiFamily, readonly RateWindow[]>>;
  clock?: Clock;
}

/** Client-side limiter per DhanHQ API family. Our own: a few windows, no dependency needed. */
export class DhanRateLimiter {
  readonly mode: 'wait' | 'fail';
  private readonly clock: Clock;
  private readonly windows: Record<ApiFamily, SlidingWindow[]>;
  private readonly tails: Partial<Record<ApiFamily, Promise<unknown>>> = {};

  constructor(options: RateLimiterOptions = {}) {
    this.mode = options.mode ?? 'wait';
    this.clock = options.clock ?? systemClock;
    const limits = { ...DHAN_RATE_LIMITS, ...options.limits };
    this.windows = Object.fromEntries(
      (Object.keys(limits) as ApiFamily[]).map((f) => [
        f,
        limits[f].map((w) => new SlidingWindow(w)),
      ]),
    ) as Record<ApiFamily, SlidingWindow[]>;
  }

  /** Milliseconds until `family` can take a call. */
  delay(family: ApiFamily): number {
    const now = this.clock.now();
    let d = 0;
    for (const w of this.windows[family]) d = Math.max(d, w.delay(now));
    return d;
  }

  /** Takes one slot of `family`, waiting (FIFO) or failing according to the mode. */
  acquire(family: ApiFamily): Promise<RateTicket> {
    if (this.mode === 'fail') {
      const d = this.delay(family);
      if (d > 0) return Promise.reject(new DhanRateLimitError(family, d));
      return Promise.resolve(this.take(family));
    }
    const prev = this.tails[family] ?? Promise.resolve();
    const mine = prev.then(() => this.waitTurn(family));
    const tail = mine.finally(() => {
      if (this.tails[family] === tail) delete this.tails[family];
    });
    this.tails[family] = tail;
    return mine;
  }

  private async waitTurn(family: ApiFamily): Promise<RateTicket> {
    for (;;) {
      const d = this.delay(family);
      if (d <= 0) return this.take(family);
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, d));
    }
  }

  private take(family: ApiFamily): RateTicket {
    const now = this.clock.now();
    const windows = this.windows[family];
    const slots = windows.map((w) => w.record(now));
    return {
      settle: () => {
        const at = this.clock.now();
        for (let i = 0; i < windows.length; i++) windows[i].restamp(slots[i], at);
      },
    };
  }
}
