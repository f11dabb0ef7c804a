import { KeyedSerialQueue } from './keyed-serial-queue';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('KeyedSerialQueue', () => {
  it('runs work of one key in order, one at a time', async () => {
    const queue = new KeyedSerialQueue();
    const gate = deferred();
    const log: string[] = [];
    const first = queue.run('a', async () => {
      log.push('first:start');
      await gate.promise;
      log.push('first:end');
    });
    const second = queue.run('a', async () => {
      log.push('second');
    });
    await Promise.resolve();
    expect(log).toEqual(['first:start']);
    gate.resolve();
    await Promise.all([first, second]);
    expect(log).toEqual(['first:start', 'first:end', 'second']);
  });

  it('runs different keys side by side', async () => {
    const queue = new KeyedSerialQueue();
    const gate = deferred();
    const blocked = queue.run('a', () => gate.promise);
    await expect(queue.run('b', async () => 'b done')).resolves.toBe('b done');
    gate.resolve();
    await blocked;
  });

  it('a failure rejects only its own caller and the next task still runs', async () => {
    const queue = new KeyedSerialQueue();
    const failed = queue.run('a', async () => {
      throw new Error('boom');
    });
    const next = queue.run('a', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });

  it('settled waits for queued work and never rejects; idle keys are forgotten', async () => {
    const queue = new KeyedSerialQueue();
    const gate = deferred();
    let done = false;
    void queue
      .run('a', async () => {
        await gate.promise;
        done = true;
        throw new Error('ignored by settled');
      })
      .catch(() => undefined);
    const settled = queue.settled('a');
    expect(queue.size).toBe(1);
    gate.resolve();
    await settled;
    expect(done).toBe(true);
    await queue.settled('a');
    expect(queue.size).toBe(0);
  });
});
