export interface BackoffOptions {
  /** First ceiling, ms (default 1000). */
  baseMs?: number;
  /** Largest ceiling, ms (default 60000). */
  capMs?: number;
  /** The attempt counter resets only after a connection stayed up this long, ms (default 30000). */
  stableMs?: number;
  /** Uniform [0, 1) source; injectable for deterministic tests. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: delay = random() * min(cap, base * 2^attempt).
 * Our own ten lines rather than a dependency; shared by the feed and order-update sockets.
 */
export class FullJitterBackoff {
  readonly baseMs: number;
  readonly capMs: number;
  readonly stableMs: number;
  private readonly random: () => number;
  private attemptCount = 0;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 1000;
    this.capMs = options.capMs ?? 60_000;
    this.stableMs = options.stableMs ?? 30_000;
    this.random = options.random ?? Math.random;
  }

  get attempts(): number {
    return this.attemptCount;
  }

  /** Ceiling for the next delay (before jitter). */
  ceiling(): number {
    return Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attemptCount, 30));
  }

  /** The next delay; advances the attempt counter. */
  next(): number {
    const delay = Math.floor(this.random() * this.ceiling());
    this.attemptCount++;
    return delay;
  }

  /** Call when a connection closes: resets only if it had been up for the stable period. */
  connectionEnded(upForMs: number): void {
    if (upForMs >= this.stableMs) this.attemptCount = 0;
  }

  reset(): void {
    this.attemptCount = 0;
  }
}
