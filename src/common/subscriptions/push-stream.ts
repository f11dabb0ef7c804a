export interface PushStreamOptions<R, T> {
  /** Turns a queued value into what the reader gets, when it reads it (default: as is). */
  map?: (value: R) => T;
  /**
   * Latest wins: a value replaces the unread one with the same key, and moves to the back.
   * Without it every value is kept, in order.
   */
  conflateBy?: (value: R) => string;
  /**
   * Most unread values kept for a reader that is behind. Past it, an unread value with the same
   * `mergeBy` key (else the oldest) is dropped. Default: unbounded (use with `conflateBy`).
   */
  maxQueued?: number;
  mergeBy?: (value: R) => string;
  /** Runs once when the stream ends (reader returned, threw, or `end()`): release what it holds. */
  onEnd?: () => void;
}

/**
 * The one async iterator behind every GraphQL subscription: producers `push`, the subscription
 * reads; a reader waiting gets a value at once, a reader behind finds them queued (bounded or
 * conflated); when the subscription ends, waiting reads finish and `onEnd` releases the source.
 */
export class PushStream<R, T = R> implements AsyncIterableIterator<T> {
  private readonly queue = new Map<string | number, R>();
  private readonly waiting: Array<(result: IteratorResult<T>) => void> = [];
  private seq = 0;
  private ended = false;

  constructor(private readonly options: PushStreamOptions<R, T> = {}) {}

  get done(): boolean {
    return this.ended;
  }

  push(value: R): void {
    if (this.ended) return;
    const reader = this.waiting.shift();
    if (reader) {
      reader({ value: this.read(value), done: false });
      return;
    }
    const { conflateBy, maxQueued, mergeBy } = this.options;
    const key = conflateBy ? conflateBy(value) : this.seq++;
    if (conflateBy) this.queue.delete(key);
    if (maxQueued !== undefined && this.queue.size >= maxQueued) this.dropOne(mergeBy?.(value));
    this.queue.set(key, value);
  }

  /** Ends the stream from the producer's side. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.clear();
    for (const reader of this.waiting.splice(0)) reader({ value: undefined, done: true });
    this.options.onEnd?.();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    const first = this.queue.entries().next();
    if (!first.done) {
      this.queue.delete(first.value[0]);
      return Promise.resolve({ value: this.read(first.value[1]), done: false });
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private read(value: R): T {
    return this.options.map ? this.options.map(value) : (value as unknown as T);
  }

  private dropOne(mergeKey: string | undefined): void {
    const mergeBy = this.options.mergeBy;
    if (mergeKey !== undefined && mergeBy) {
      for (const [key, queued] of this.queue) {
        if (mergeBy(queued) === mergeKey) {
          this.queue.delete(key);
          return;
        }
      }
    }
    const oldest = this.queue.keys().next();
    if (!oldest.done) this.queue.delete(oldest.value);
  }
}
