import { EventEmitter2 } from '@nestjs/event-emitter';
import { PushStream } from './push-stream';
import { intervalStream, topicStream } from './topic-stream';

const values = async <T>(stream: AsyncIterator<T>, n: number): Promise<T[]> => {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push((await stream.next()).value as T);
  return out;
};

describe('PushStream', () => {
  it('hands a value to a waiting reader at once and queues the rest in order', async () => {
    const stream = new PushStream<number>();
    const waiting = stream.next();
    stream.push(1);
    expect(await waiting).toEqual({ value: 1, done: false });
    stream.push(2);
    stream.push(3);
    expect(await values(stream, 2)).toEqual([2, 3]);
  });

  it('conflates unread values by key: latest wins and moves to the back', async () => {
    const stream = new PushStream<{ k: string; v: number }>({ conflateBy: (x) => x.k });
    stream.push({ k: 'a', v: 1 });
    stream.push({ k: 'b', v: 1 });
    stream.push({ k: 'a', v: 2 });
    expect(await values(stream, 2)).toEqual([
      { k: 'b', v: 1 },
      { k: 'a', v: 2 },
    ]);
  });

  it('bounds the queue: past the cap an unread value of the same key goes, else the oldest', async () => {
    const stream = new PushStream<{ k: string; v: number }>({ maxQueued: 2, mergeBy: (x) => x.k });
    stream.push({ k: 'a', v: 1 });
    stream.push({ k: 'b', v: 1 });
    stream.push({ k: 'b', v: 2 }); // full: the unread b goes
    stream.push({ k: 'c', v: 1 }); // full, no unread c: the oldest (a) goes
    expect(await values(stream, 2)).toEqual([
      { k: 'b', v: 2 },
      { k: 'c', v: 1 },
    ]);
  });

  it('maps when the value is read', async () => {
    let mapped = 0;
    const stream = new PushStream<number, string>({
      conflateBy: () => 'x',
      map: (n) => {
        mapped++;
        return `#${n}`;
      },
    });
    stream.push(1);
    stream.push(2);
    expect(mapped).toBe(0);
    expect((await stream.next()).value).toBe('#2');
    expect(mapped).toBe(1);
  });

  it('ending finishes waiting reads, runs onEnd once and ignores later pushes', async () => {
    const onEnd = jest.fn();
    const stream = new PushStream<number>({ onEnd });
    const waiting = stream.next();
    await stream.return();
    await stream.return();
    expect(await waiting).toEqual({ value: undefined, done: true });
    stream.push(1);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
    expect(onEnd).toHaveBeenCalledTimes(1);
    await expect(new PushStream<number>({ onEnd }).throw(new Error('x'))).rejects.toThrow('x');
    expect(onEnd).toHaveBeenCalledTimes(2);
  });
});

describe('topicStream and intervalStream', () => {
  it('filters on the server and removes its listener when the subscription ends', async () => {
    const emitter = new EventEmitter2();
    const stream = topicStream<{ user: string; n: number }, number>(emitter, 'topic', {
      filter: (e) => e.user === 'alice',
      map: (e) => e.n,
    });
    emitter.emit('topic', { user: 'bob', n: 1 });
    emitter.emit('topic', { user: 'alice', n: 2 });
    expect((await stream.next()).value).toBe(2);
    expect(emitter.listenerCount('topic')).toBe(1);
    await stream.return();
    expect(emitter.listenerCount('topic')).toBe(0);
  });

  it('an interval stream stops its timer when the subscription ends', async () => {
    jest.useFakeTimers();
    try {
      let n = 0;
      const stream = intervalStream(1000, () => ++n);
      const first = stream.next();
      jest.advanceTimersByTime(1000);
      expect((await first).value).toBe(1);
      await stream.return();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
