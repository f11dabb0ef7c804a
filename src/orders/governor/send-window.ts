/** A limit of `limit` sends in any `intervalMs`. */
export interface SendLimit {
  limit: number;
  intervalMs: number;
}

/**
 * At most `limit` sends in any window of `intervalMs` (+ `guardMs` against the jitter between
 * our stamp and the broker's arrival), counting sends granted but not yet made (pending) as
 * taken. A ring of the committed stamps in order; no allocation per send.
 *
 * A sliding window rather than a refilling bucket: a bucket holding `limit` tokens lets
 * 2 x `limit` through in one sliding second (a full bucket, then a refill), and DhanHQ counts
 * sends in any second.
 */
export class SendWindow {
  private readonly stamps: Float64Array;
  private head = 0;
  private count = 0;
  private pendingCount = 0;
  private readonly spanMs: number;

  constructor(
    readonly limit: SendLimit,
    guardMs: number,
  ) {
    this.stamps = new Float64Array(limit.limit);
    this.spanMs = limit.intervalMs + guardMs;
  }

  private prune(now: number): void {
    while (this.count > 0 && this.stamps[this.head] + this.spanMs <= now) {
      this.head = (this.head + 1) % this.stamps.length;
      this.count--;
    }
  }

  /** Milliseconds until one more send fits: 0 now, Infinity while only pending sends fill it. */
  waitMs(now: number): number {
    this.prune(now);
    if (this.count + this.pendingCount < this.limit.limit) return 0;
    if (this.count === 0) return Number.POSITIVE_INFINITY;
    return this.stamps[this.head] + this.spanMs - now;
  }

  /** Sends stamped within the window (not counting pending ones). */
  used(now: number): number {
    this.prune(now);
    return this.count;
  }

  get pending(): number {
    return this.pendingCount;
  }

  reserve(): void {
    this.pendingCount++;
  }

  /** A reserved send is being made now. */
  commit(now: number): void {
    if (this.pendingCount > 0) this.pendingCount--;
    this.prune(now);
    if (this.count === this.stamps.length) {
      // Cannot happen while every send is reserved first; keep the ring consistent regardless.
      this.head = (this.head + 1) % this.stamps.length;
      this.count--;
    }
    this.stamps[(this.head + this.count) % this.stamps.length] = now;
    this.count++;
  }

  /** A reserved send will not be made. */
  release(): void {
    if (this.pendingCount > 0) this.pendingCount--;
  }
}
