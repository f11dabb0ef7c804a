/**
 * Sliding-window log of order timestamps per user. A few lines of our own instead of
 * rate-limiter-flexible because RMS needs to *peek* (count) without consuming, and to read an
 * injected clock so tests and benchmarks control time.
 */
export class OrderRateLimiter {
  private readonly log = new Map<string, number[]>();

  /** `retainMs`: the longest window any user's limits use; older entries are dropped. */
  constructor(
    private readonly retainMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Orders recorded for `userId` within the `windowMs` ending now. */
  count(userId: string, windowMs: number): number {
    const times = this.log.get(userId);
    if (times === undefined) return 0;
    const now = this.now();
    this.prune(times, now - this.retainMs);
    const cutoff = now - Math.min(windowMs, this.retainMs);
    let n = 0;
    for (let i = times.length - 1; i >= 0 && times[i] > cutoff; i--) n++;
    return n;
  }

  record(userId: string): void {
    let times = this.log.get(userId);
    if (times === undefined) {
      times = [];
      this.log.set(userId, times);
    }
    times.push(this.now());
  }

  private prune(times: number[], cutoff: number): void {
    let drop = 0;
    while (drop < times.length && times[drop] <= cutoff) drop++;
    if (drop > 0) times.splice(0, drop);
  }
}
