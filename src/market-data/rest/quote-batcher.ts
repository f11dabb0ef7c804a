/** Sends one batch; resolves when its answer is applied. */
export type BatchSender = (keys: number[]) => Promise<void>;

interface Waiter {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function waiter(): Waiter {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller that stopped waiting (timed out) must not leave an unhandled rejection behind.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export interface QuoteBatcherOptions {
  /** Most instruments per request (DhanHQ market quote: 1,000). */
  maxPerRequest: number;
  /** Milliseconds until the next request may go (the client's rate limiter); 0 = now. */
  delay: () => number;
  /** A refusal worth one more try after `retryAfterMs` (DhanHQ's rate limit counts at arrival). */
  retryable?: (e: unknown) => boolean;
  retryAfterMs?: number;
  /** Timer used to wait for the next slot (tests may pass a fake). */
  setTimer?: (fn: () => void, ms: number) => void;
  /**
   * Asked when a batch is formed: false for an instrument that no longer needs a quote (the
   * feed priced it while it waited for a slot), whose askers are answered at once and which
   * takes no place in the request. Default: every ask is sent.
   */
  stillWanted?: (key: number) => boolean;
}

/**
 * Coalesces asks for REST quotes: every ask made before a request leaves joins it, an ask for
 * an instrument already in a request in flight shares that request, and a request leaves only
 * when the rate limit has a slot, so asks made while waiting for it ride along (at most one
 * request per slot, `maxPerRequest` instruments each). A short helper of our own: no library batches by key and rate slot.
 */
export class QuoteBatcher {
  private readonly pending = new Map<number, Waiter>();
  private readonly inFlight = new Map<number, Waiter>();
  private pumping = false;
  /** Requests sent and instruments asked for, for tests and metrics. */
  requests = 0;
  asked = 0;
  /** Asks answered without a request: the instrument no longer needed one (`stillWanted`). */
  skipped = 0;

  constructor(
    private readonly send: BatchSender,
    private readonly options: QuoteBatcherOptions,
  ) {}

  /** Resolves once every key was in an answered request (rejects when its request failed). */
  request(keys: readonly number[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const key of keys) {
      const w = this.inFlight.get(key) ?? this.pending.get(key);
      if (w) {
        waits.push(w.promise);
        continue;
      }
      const fresh = waiter();
      this.pending.set(key, fresh);
      this.asked++;
      waits.push(fresh.promise);
    }
    if (!this.pumping && this.pending.size > 0) {
      this.pumping = true;
      // Asks made in the same turn (one GraphQL document, one burst) join the first request.
      setImmediate(() => void this.pump());
    }
    return Promise.all(waits).then(() => undefined);
  }

  private sleep(ms: number): Promise<void> {
    const timer = this.options.setTimer ?? ((fn, t) => setTimeout(fn, t).unref());
    return new Promise<void>((resolve) => timer(resolve, ms));
  }

  private async pump(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const wait = this.options.delay();
        if (wait > 0) {
          await this.sleep(wait);
          continue;
        }
        const batch: Array<[number, Waiter]> = [];
        const stillWanted = this.options.stillWanted;
        for (const entry of this.pending) {
          if (stillWanted !== undefined && !stillWanted(entry[0])) {
            this.pending.delete(entry[0]);
            this.skipped++;
            entry[1].resolve();
            continue;
          }
          batch.push(entry);
          if (batch.length >= this.options.maxPerRequest) break;
        }
        if (batch.length === 0) continue;
        for (const [key, w] of batch) {
          this.pending.delete(key);
          this.inFlight.set(key, w);
        }
        const keys = batch.map(([key]) => key);
        try {
          try {
            this.requests++;
            await this.send(keys);
          } catch (e) {
            if (!this.options.retryable?.(e)) throw e;
            await this.sleep(this.options.retryAfterMs ?? 1_000);
            this.requests++;
            await this.send(keys);
          }
          for (const [, w] of batch) w.resolve();
        } catch (e) {
          for (const [, w] of batch) w.reject(e);
        } finally {
          for (const [key] of batch) this.inFlight.delete(key);
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}
