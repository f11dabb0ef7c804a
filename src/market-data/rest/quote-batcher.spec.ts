import { QuoteBatcher } from './quote-batcher';

/** A sender that records its batches and answers when told. */
function recordingSender() {
  const batches: number[][] = [];
  const answers: Array<{ ok: () => void; fail: (e: unknown) => void }> = [];
  const send = (keys: number[]) =>
    new Promise<void>((ok, fail) => {
      batches.push(keys);
      answers.push({ ok, fail });
    });
  return { batches, answers, send };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('QuoteBatcher', () => {
  it('asks made in one turn go out as one request', async () => {
    const s = recordingSender();
    const b = new QuoteBatcher(s.send, { maxPerRequest: 1000, delay: () => 0 });
    const all = Promise.all(Array.from({ length: 50 }, (_, i) => b.request([i])));
    await tick();
    expect(s.batches).toEqual([Array.from({ length: 50 }, (_, i) => i)]);
    s.answers[0].ok();
    await all;
    expect(b.requests).toBe(1);
  });

  it('an ask for an instrument in flight shares that request; a new one waits for the next', async () => {
    const s = recordingSender();
    const b = new QuoteBatcher(s.send, { maxPerRequest: 1000, delay: () => 0 });
    const first = b.request([1, 2]);
    await tick();
    const shared = b.request([2]);
    const next = b.request([2, 3]);
    s.answers[0].ok();
    await Promise.all([first, shared]);
    await tick();
    expect(s.batches).toEqual([[1, 2], [3]]);
    s.answers[1].ok();
    await next;
  });

  it('waits for the rate slot before forming the batch, so asks made meanwhile ride along', async () => {
    const s = recordingSender();
    let wait = 1_000;
    const timers: Array<() => void> = [];
    const b = new QuoteBatcher(s.send, {
      maxPerRequest: 1000,
      delay: () => wait,
      setTimer: (fn) => timers.push(fn),
    });
    const a = b.request([1]);
    await tick();
    expect(s.batches).toHaveLength(0);
    const c = b.request([2]);
    wait = 0;
    timers.shift()!();
    await tick();
    expect(s.batches).toEqual([[1, 2]]);
    s.answers[0].ok();
    await Promise.all([a, c]);
  });

  it('splits at maxPerRequest and rejects only the waiters of a failed request', async () => {
    const s = recordingSender();
    const b = new QuoteBatcher(s.send, { maxPerRequest: 2, delay: () => 0 });
    const x = b.request([1, 2]);
    const y = b.request([3]);
    await tick();
    expect(s.batches).toEqual([[1, 2]]);
    s.answers[0].fail(new Error('down'));
    await expect(x).rejects.toThrow('down');
    await tick();
    expect(s.batches).toEqual([[1, 2], [3]]);
    s.answers[1].ok();
    await expect(y).resolves.toBeUndefined();
  });

  it('a rate-limit refusal is tried once more after the retry delay', async () => {
    const s = recordingSender();
    const timers: Array<() => void> = [];
    const b = new QuoteBatcher(s.send, {
      maxPerRequest: 10,
      delay: () => 0,
      retryable: (e) => e === 'limited',
      retryAfterMs: 1_100,
      setTimer: (fn) => timers.push(fn),
    });
    const x = b.request([7]);
    await tick();
    s.answers[0].fail('limited');
    await tick();
    expect(timers).toHaveLength(1);
    timers.shift()!();
    await tick();
    expect(s.batches).toEqual([[7], [7]]);
    s.answers[1].ok();
    await x;
    expect(b.requests).toBe(2);
  });

  it('an ask the feed answered while it waited for a slot is resolved without a request', async () => {
    const s = recordingSender();
    const priced = new Set<number>();
    let wait = 1_000;
    const timers: Array<() => void> = [];
    const b = new QuoteBatcher(s.send, {
      maxPerRequest: 2,
      delay: () => wait,
      setTimer: (fn) => timers.push(fn),
      stillWanted: (key) => !priced.has(key),
    });
    const one = b.request([1]);
    const many = b.request([2, 3, 4, 5]);
    await tick();
    expect(s.batches).toHaveLength(0);
    // The feed prices 1, 2 and 4 before the slot: they are answered, and the rest fill the batch.
    priced.add(1).add(2).add(4);
    wait = 0;
    timers.shift()!();
    await one;
    await tick();
    expect(s.batches).toEqual([[3, 5]]);
    expect(b.skipped).toBe(3);
    s.answers[0].ok();
    await many;
    expect(b.requests).toBe(1);
    // Everything priced: the pump sends nothing at all.
    priced.add(6);
    await b.request([6]);
    expect(s.batches).toHaveLength(1);
  });
});
