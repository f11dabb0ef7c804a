const SEGMENT_FACTOR = 0x1_0000_0000;

/**
 * A Map keyed by `instrumentKey` numbers. Those keys exceed the small-integer range, so a
 * plain Map boxes and hashes a double on every lookup; here the key is split into segment
 * code and security id, and each segment has its own Map keyed by small integers.
 */
export class InstrumentKeyMap<V> {
  private readonly bySegment: Array<Map<number, V> | undefined> = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: number): V | undefined {
    return this.bySegment[Math.floor(key / SEGMENT_FACTOR)]?.get(key % SEGMENT_FACTOR);
  }

  /** Same as `get(instrumentKey(segmentCode, securityId))` without building the key. */
  getParts(segmentCode: number, securityId: number): V | undefined {
    return this.bySegment[segmentCode]?.get(securityId);
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  set(key: number, value: V): void {
    const segmentCode = Math.floor(key / SEGMENT_FACTOR);
    let map = this.bySegment[segmentCode];
    if (!map) {
      map = new Map();
      this.bySegment[segmentCode] = map;
    }
    const before = map.size;
    map.set(key % SEGMENT_FACTOR, value);
    this.count += map.size - before;
  }

  delete(key: number): boolean {
    const map = this.bySegment[Math.floor(key / SEGMENT_FACTOR)];
    if (!map || !map.delete(key % SEGMENT_FACTOR)) return false;
    this.count--;
    return true;
  }

  *values(): IterableIterator<V> {
    for (const map of this.bySegment) if (map) yield* map.values();
  }
}
