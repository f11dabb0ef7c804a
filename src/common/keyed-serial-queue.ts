/**
 * Runs work for one key strictly one after another, and work for different keys side by side.
 * A failed task does not stop the ones queued behind it; a key with nothing queued is forgotten.
 */
export class KeyedSerialQueue<K = string> {
  private readonly tails = new Map<K, Promise<unknown>>();

  /** Runs `work` after everything queued for `key`; rejects only with `work`'s own error. */
  run<T>(key: K, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }

  /** Resolves when everything queued for `key` so far has finished (never rejects). */
  async settled(key: K): Promise<void> {
    await this.tails.get(key);
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.tails.size;
  }
}
