/**
 * JSON bytes of one record for one selection shape (see tick-selection.ts): `view`. One holder
 * per record and shape, written again in place when the record's version changes, so a new
 * version allocates nothing (a Buffer per version, kept on the record until the next, was
 * promoted to the old generation for every instrument that ticks less than a few times a
 * second, and full collections followed every few seconds). Valid until the record's next
 * version: readers copy the bytes out at once, within one delivery.
 */
export interface Fragment {
  /** The bytes written into (a quarter's headroom, so the next versions mostly fit). */
  bytes: Buffer;
  /**
   * The current version's bytes: a view of `bytes`, made again only when their length changes
   * (copying a whole Buffer is about three times as fast as copying a range of one).
   */
  view: Buffer;
}

/** An empty fragment, to be written. */
export function emptyFragment(): Fragment {
  return { bytes: EMPTY, view: EMPTY };
}

const EMPTY = Buffer.alloc(0);

/**
 * Gives `into` at least `length` bytes to write into: new ones, with headroom so the next
 * versions (a few digits longer) fit in the same bytes, when it has fewer.
 */
export function reserveFragment(into: Fragment, length: number): void {
  if (into.bytes.length < length) into.bytes = Buffer.allocUnsafeSlow(length + (length >> 2) + 16);
}

/** Makes the first `length` bytes written the fragment's current version. */
export function endFragment(into: Fragment, length: number): Fragment {
  if (into.view.length !== length || into.view.buffer !== into.bytes.buffer) {
    into.view = into.bytes.subarray(0, length);
  }
  return into;
}

/** Writes `text` (latin1 or utf8) into `into`, reallocating its bytes when they are too few. */
export function writeFragment(into: Fragment, text: string, encoding: 'latin1' | 'utf8'): Fragment {
  // latin1 is one byte a character; utf8 at most three per UTF-16 unit.
  const most = encoding === 'latin1' ? text.length : text.length * 3;
  if (into.bytes.length < most) {
    reserveFragment(into, encoding === 'latin1' ? most : Buffer.byteLength(text, 'utf8'));
  }
  return endFragment(into, into.bytes.write(text, 0, encoding));
}
