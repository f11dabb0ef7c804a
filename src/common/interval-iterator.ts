/**
 * An AsyncIterableIterator producing `produce()` every `intervalMs`, whose timer is cleared as
 * soon as the consumer stops (return/throw): a subscription that ends leaves no timer behind.
 */
export function intervalIterator<T>(
  intervalMs: number,
  produce: () => T,
): AsyncIterableIterator<T> {
  const pending: ((result: IteratorResult<T>) => void)[] = [];
  let done = false;
  const timer = setInterval(() => {
    const resolve = pending.shift();
    if (resolve) resolve({ value: produce(), done: false });
  }, intervalMs);

  const finish = (): Promise<IteratorResult<T>> => {
    done = true;
    clearInterval(timer);
    for (const resolve of pending.splice(0)) resolve({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  };

  return {
    next: () =>
      done
        ? Promise.resolve({ value: undefined, done: true })
        : new Promise<IteratorResult<T>>((resolve) => pending.push(resolve)),
    return: finish,
    throw: (error: unknown) => finish().then(() => Promise.reject(error)),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
