import { instrumentKey } from '@app/dhan/types';
import { TickStore } from '../ticks/tick-store';
import { applyTicks, encodeTicks, senderOf } from './tick-codec';

function leaderStore(): TickStore {
  const store = new TickStore({ now: () => 1_000 });
  const quoted = store.ensure(instrumentKey(1, 2885));
  Object.assign(quoted, { ltp: 1296.15, ltt: 1_765_000_000, volume: 12_345, prevClose: 1290 });
  quoted.stale = false;
  quoted.hasData = true;
  const deep = store.ensure(instrumentKey(2, 40_001));
  Object.assign(deep, { ltp: 101.5, oi: 7_500 });
  deep.depth.set([10, 2, 101.45, 20, 3, 101.55]);
  deep.hasDepth = true;
  deep.hasData = true;
  deep.stale = false;
  return store;
}

describe('tick relay codec', () => {
  it('carries every field, NaN and depth into a follower store as visible changes', () => {
    const leader = leaderStore();
    const records = [...leader.allRecords()];
    const message = encodeTicks(records, 42);
    expect(senderOf(message)).toBe(42);

    const follower = new TickStore({ now: () => 5_000 });
    expect(applyTicks(message, follower)).toBe(2);
    const changed = follower.drainDirty();
    expect(changed.map((r) => r.key).sort()).toEqual(records.map((r) => r.key).sort());
    for (const original of records) {
      const copy = follower.get(original.key)!;
      for (const field of ['ltp', 'ltt', 'volume', 'prevClose', 'oi', 'atp'] as const) {
        expect(copy[field]).toEqual(original[field]);
      }
      expect(copy.stale).toBe(false);
      expect(copy.hasDepth).toBe(original.hasDepth);
      expect([...copy.depth]).toEqual([...original.depth]);
      expect(copy.version).toBe(1);
      // Stamped with the follower's clock: its own stale sweep applies.
      expect(copy.updatedAt).toBe(5_000);
    }
  });

  it('changes nothing for a truncated or foreign message', () => {
    const message = encodeTicks([...leaderStore().allRecords()], 7);
    const follower = new TickStore();
    expect(() => applyTicks(message.subarray(0, message.byteLength - 8), follower)).toThrow();
    expect(() => applyTicks(Buffer.from('{"not":"ticks"}'), follower)).toThrow();
    expect(follower.stats().instruments).toBe(0);
    expect(follower.dirtyCount).toBe(0);
  });

  it('reads a message at any byte offset (socket buffers are not aligned)', () => {
    const message = encodeTicks([...leaderStore().allRecords()], 9);
    const shifted = Buffer.alloc(message.byteLength + 3);
    message.copy(shifted, 3);
    const follower = new TickStore();
    expect(applyTicks(shifted.subarray(3), follower)).toBe(2);
  });
});
