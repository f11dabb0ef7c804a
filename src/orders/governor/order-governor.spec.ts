import {
  OrderGovernor,
  SendPriority,
  type GateSlot,
  type SendGate,
  type SendPermit,
  type SendRequest,
} from './order-governor';

/** A governor on a hand-driven clock; timers fire when the clock passes them. */
function harness(options: { perSecond?: number; maxWaitMs?: number; account?: number } = {}) {
  let now = 0;
  let timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  const governor = new OrderGovernor({
    perSegment: [{ limit: options.perSecond ?? 2, intervalMs: 1_000 }],
    account: [{ limit: options.account ?? 1_000, intervalMs: 1_000 }],
    guardMs: 0,
    maxWaitMs: options.maxWaitMs ?? 60_000,
    now: () => now,
    setTimer: (fn, ms) => {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return () => (t.live = false);
    },
  });
  const sent: string[] = [];
  const refused: Array<{ id: string; reason: string }> = [];
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const due = timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      now = Math.max(now, due.at);
      due.live = false;
      timers = timers.filter((t) => t.live);
      due.fn();
    }
    now = end;
  };
  /** Sends at once if it may, else queues; a grant is committed straight away. */
  const submit = (request: SendRequest) => {
    const permit = governor.tryAcquire(request);
    if (permit) {
      permit.commit();
      sent.push(request.id);
      return;
    }
    governor.enqueue(request, {
      granted: (p: SendPermit) => {
        p.commit();
        sent.push(request.id);
      },
      refused: (reason) => refused.push({ id: request.id, reason }),
    });
  };
  const req = (id: string, dealer: string, priority = SendPriority.NEW): SendRequest => ({
    id,
    dealer,
    segment: 'NSE_EQ',
    priority,
  });
  return { governor, sent, refused, advance, submit, req, at: () => now };
}

describe('OrderGovernor', () => {
  it('never grants more than the allowance in any window', () => {
    const h = harness({ perSecond: 3 });
    const stamps: number[] = [];
    for (let i = 0; i < 12; i++) h.submit(h.req(`o${i}`, 'a'));
    const seen = () => {
      while (stamps.length < h.sent.length) stamps.push(h.at());
    };
    seen();
    for (let t = 0; t < 5_000; t += 10) {
      h.advance(10);
      seen();
    }
    expect(h.sent).toHaveLength(12);
    for (let i = 3; i < stamps.length; i++)
      expect(stamps[i] - stamps[i - 3]).toBeGreaterThanOrEqual(1_000);
  });

  it('shares fairly: a dealer not yet served goes before a bursting one, who keeps its turns', () => {
    const h = harness({ perSecond: 2 });
    for (let i = 0; i < 10; i++) h.submit(h.req(`a${i}`, 'alice'));
    h.submit(h.req('b0', 'bob'));
    h.submit(h.req('b1', 'bob'));
    expect(h.sent).toEqual(['a0', 'a1']);
    expect(h.governor.position('b0')).toBe(1);
    expect(h.governor.position('b1')).toBe(2);
    expect(h.governor.position('a2')).toBe(3);
    h.advance(1_000);
    expect(h.sent.slice(2)).toEqual(['b0', 'a2']);
    h.advance(1_000);
    expect(h.sent.slice(4).sort()).toEqual(['a3', 'b1']);
    h.advance(1_000);
    expect(h.sent.slice(6)).toEqual(['a4', 'a5']);
  });

  it('sends cancels, then risk-reducing orders, ahead of new exposure', () => {
    const h = harness({ perSecond: 1 });
    h.submit(h.req('first', 'alice'));
    for (let i = 0; i < 3; i++) h.submit(h.req(`new${i}`, 'alice'));
    h.submit(h.req('exit', 'bob', SendPriority.REDUCE));
    h.submit(h.req('cancel', 'carol', SendPriority.CANCEL));
    expect(h.governor.position('cancel')).toBe(1);
    expect(h.governor.position('exit')).toBe(2);
    expect(h.governor.position('new0')).toBe(3);
    h.advance(3_000);
    expect(h.sent).toEqual(['first', 'cancel', 'exit', 'new0']);
  });

  it('refuses a request that waited past the bound, with the reason, and drops nothing else', () => {
    const h = harness({ perSecond: 1, maxWaitMs: 1_500 });
    for (let i = 0; i < 4; i++) h.submit(h.req(`o${i}`, 'alice'));
    h.advance(5_000);
    expect(h.sent).toEqual(['o0', 'o1']);
    expect(h.refused.map((r) => r.id)).toEqual(['o2', 'o3']);
    expect(h.refused[0].reason).toMatch(/waited 1500 ms for the NSE_EQ order budget/);
    expect(h.governor.usage().segments[0].counters).toMatchObject({ sent: 2, refused: 2 });
  });

  it('a withdrawn request is never granted; a released permit frees its slot', () => {
    const h = harness({ perSecond: 1 });
    const held = h.governor.tryAcquire(h.req('held', 'alice'));
    expect(held).toBeDefined();
    h.submit(h.req('gone', 'alice'));
    h.submit(h.req('next', 'bob'));
    expect(h.governor.withdraw('gone')).toBe(true);
    held?.release();
    h.advance(1);
    expect(h.sent).toEqual(['next']);
  });

  it('a granted permit holds its slot until committed (pending sends count)', () => {
    const h = harness({ perSecond: 1 });
    const held = h.governor.tryAcquire(h.req('held', 'alice'));
    h.submit(h.req('next', 'bob'));
    h.advance(5_000);
    expect(h.sent).toEqual([]);
    held?.commit();
    h.advance(999);
    expect(h.sent).toEqual([]);
    h.advance(1);
    expect(h.sent).toEqual(['next']);
  });

  it('the account limit binds across segments', () => {
    const h = harness({ perSecond: 5, account: 2 });
    h.submit(h.req('a', 'alice'));
    h.submit({ ...h.req('b', 'alice'), segment: 'NSE_FNO' });
    h.submit({ ...h.req('c', 'alice'), segment: 'BSE_EQ' });
    expect(h.sent).toEqual(['a', 'b']);
    h.advance(1_000);
    expect(h.sent).toEqual(['a', 'b', 'c']);
  });
});

describe('OrderGovernor with a gate (the budget shared across instances)', () => {
  /** A gate answered by hand: each reserve waits until the test answers it. */
  function gated() {
    let now = 0;
    let timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
    const asks: Array<(answer: GateSlot | number) => void> = [];
    const slots = { committed: 0, released: 0 };
    const gate: SendGate = {
      reserve: () => new Promise((resolve) => asks.push(resolve)),
    };
    const slot = (): GateSlot => ({
      commit: () => slots.committed++,
      release: () => slots.released++,
    });
    const governor = new OrderGovernor({
      perSegment: [{ limit: 5, intervalMs: 1_000 }],
      account: [{ limit: 1_000, intervalMs: 1_000 }],
      guardMs: 0,
      maxWaitMs: 60_000,
      now: () => now,
      setTimer: (fn, ms) => {
        const t = { at: now + ms, fn, live: true };
        timers.push(t);
        return () => (t.live = false);
      },
      gate,
    });
    const advance = (ms: number) => {
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (due === undefined) break;
        now = Math.max(now, due.at);
        due.live = false;
        timers = timers.filter((t) => t.live);
        due.fn();
      }
      now = end;
    };
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const granted: string[] = [];
    const enqueue = (id: string, dealer: string, priority = SendPriority.NEW) =>
      governor.enqueue(
        { id, dealer, segment: 'NSE_EQ', priority },
        { granted: (p) => (granted.push(id), p.commit()), refused: () => undefined },
      );
    return { governor, asks, slots, slot, advance, settle, granted, enqueue };
  }

  it('acquire answers through the gate; a refusal holds the segment for the wait it gave', async () => {
    const h = gated();
    const request = { id: 'a', dealer: 'alice', segment: 'NSE_EQ', priority: SendPriority.NEW };
    expect(h.governor.tryAcquire(request)).toBeUndefined();
    const first = h.governor.acquire(request);
    expect(first).toBeInstanceOf(Promise);
    h.asks.shift()!(h.slot());
    const permit = await first;
    permit!.commit();
    expect(h.slots.committed).toBe(1);
    expect(h.governor.usage().segments[0].sentLastSecond).toBe(1);

    const refused = h.governor.acquire({ ...request, id: 'b' });
    h.asks.shift()!(300);
    expect(await refused).toBeUndefined();
    // Within the wait the gate is not asked again; the queue asks after it.
    expect(h.governor.acquire({ ...request, id: 'c' })).toBeUndefined();
    h.enqueue('c', 'alice');
    h.advance(299);
    await h.settle();
    expect(h.asks).toHaveLength(0);
    h.advance(1);
    await h.settle();
    expect(h.asks).toHaveLength(1);
  });

  it('the slot goes to the head of the queue when the gate answers: a cancel queued meanwhile goes first', async () => {
    const h = gated();
    h.enqueue('new1', 'alice');
    h.enqueue('new2', 'bob');
    h.advance(0);
    expect(h.asks).toHaveLength(1);
    // One reserve out per segment at a time.
    h.enqueue('cancel', 'carol', SendPriority.CANCEL);
    h.advance(0);
    expect(h.asks).toHaveLength(1);
    h.asks.shift()!(h.slot());
    await h.settle();
    expect(h.granted).toEqual(['cancel']);
    h.advance(0);
    h.asks.shift()!(h.slot());
    await h.settle();
    expect(h.granted).toEqual(['cancel', 'new1']);
    // Withdrawn before its turn: the gate is not asked for it.
    expect(h.governor.withdraw('new2')).toBe(true);
    h.advance(0);
    expect(h.asks).toHaveLength(0);
    expect(h.slots).toEqual({ committed: 2, released: 0 });
  });

  it('a slot that comes after the queue emptied is released', async () => {
    const h = gated();
    h.enqueue('only', 'alice');
    h.advance(0);
    expect(h.governor.withdraw('only')).toBe(true);
    h.asks.shift()!(h.slot());
    await h.settle();
    expect(h.granted).toEqual([]);
    expect(h.slots).toEqual({ committed: 0, released: 1 });
  });
});
