import { FullJitterBackoff } from './backoff';
import { ManualClock } from './clock';

describe('FullJitterBackoff', () => {
  it('draws uniformly below a doubling ceiling capped at 60 s', () => {
    const b = new FullJitterBackoff({ random: () => 0.5 });
    const delays = Array.from({ length: 9 }, () => b.next());
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('uses the full range: random 0 gives 0, random near 1 gives just under the ceiling', () => {
    expect(new FullJitterBackoff({ random: () => 0 }).next()).toBe(0);
    expect(new FullJitterBackoff({ random: () => 0.9999 }).next()).toBe(999);
  });

  it('resets only after a stable connection', () => {
    const b = new FullJitterBackoff({ random: () => 0.5, stableMs: 10_000 });
    b.next();
    b.next();
    b.connectionEnded(9_999);
    expect(b.attempts).toBe(2);
    b.connectionEnded(10_000);
    expect(b.attempts).toBe(0);
  });
});

describe('ManualClock', () => {
  it('fires timers in due order, including ones scheduled by a firing timer', () => {
    const c = new ManualClock(1000);
    const fired: string[] = [];
    c.setTimeout(() => fired.push('b'), 20);
    c.setTimeout(() => {
      fired.push('a');
      c.setTimeout(() => fired.push('c'), 5);
    }, 10);
    const h = c.setTimeout(() => fired.push('never'), 15);
    c.clearTimeout(h);
    c.advance(25);
    expect(fired).toEqual(['a', 'c', 'b']);
    expect(c.now()).toBe(1025);
  });
});
