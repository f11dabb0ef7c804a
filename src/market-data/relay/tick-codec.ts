import { DEPTH_LEVELS, DEPTH_STRIDE, type TickRecord, type TickStore } from '../ticks/tick-store';

/**
 * The tick relay's wire format: what the leader's tick store changed in one drain, as float64
 * values (the records' own fields; NaN stays NaN), little-endian as every supported platform.
 * Header: format version, sender tag, record count. Per record: key, flags, then the 16
 * numbers of FIELDS, then the 30 depth numbers only when the record has depth.
 */
export const TICK_CODEC_VERSION = 1;
const HEADER = 3;
/** The record fields a relayed tick carries, in wire order (the codec bench compares JSON of the same). */
export const RELAYED_FIELDS = [
  'ltt',
  'ltp',
  'ltq',
  'atp',
  'volume',
  'totalBuyQty',
  'totalSellQty',
  'open',
  'high',
  'low',
  'close',
  'prevClose',
  'prevOi',
  'oi',
  'change',
  'changePercent',
] as const satisfies ReadonlyArray<keyof TickRecord>;
const FIELDS = RELAYED_FIELDS;
const FIXED = 2 + FIELDS.length;
const DEPTH = DEPTH_LEVELS * DEPTH_STRIDE;

const STALE = 1;
const HAS_DATA = 2;
const FROM_REST = 4;
const HAS_DEPTH = 8;

function slots(rec: TickRecord): number {
  return FIXED + (rec.hasDepth ? DEPTH : 0);
}

/** Encodes records (any number) into one message from the sender `tag`. */
export function encodeTicks(records: readonly TickRecord[], tag: number): Buffer {
  let n = HEADER;
  for (let i = 0; i < records.length; i++) n += slots(records[i]);
  const out = new Float64Array(n);
  out[0] = TICK_CODEC_VERSION;
  out[1] = tag;
  out[2] = records.length;
  let o = HEADER;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    out[o] = r.key;
    out[o + 1] =
      (r.stale ? STALE : 0) |
      (r.hasData ? HAS_DATA : 0) |
      (r.fromRest ? FROM_REST : 0) |
      (r.hasDepth ? HAS_DEPTH : 0);
    out[o + 2] = r.ltt;
    out[o + 3] = r.ltp;
    out[o + 4] = r.ltq;
    out[o + 5] = r.atp;
    out[o + 6] = r.volume;
    out[o + 7] = r.totalBuyQty;
    out[o + 8] = r.totalSellQty;
    out[o + 9] = r.open;
    out[o + 10] = r.high;
    out[o + 11] = r.low;
    out[o + 12] = r.close;
    out[o + 13] = r.prevClose;
    out[o + 14] = r.prevOi;
    out[o + 15] = r.oi;
    out[o + 16] = r.change;
    out[o + 17] = r.changePercent;
    o += FIXED;
    if (r.hasDepth) {
      out.set(r.depth, o);
      o += DEPTH;
    }
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** The sender tag of a message, or undefined when it is not one of this format. */
export function senderOf(message: Buffer): number | undefined {
  if (message.byteLength < HEADER * 8 || message.byteLength % 8 !== 0) return undefined;
  if (message.readDoubleLE(0) !== TICK_CODEC_VERSION) return undefined;
  return message.readDoubleLE(8);
}

/**
 * Writes a message's records into `store` (each one a visible change there, see
 * TickStore.relayed). Returns how many records were applied; throws on a malformed message
 * before changing anything.
 */
export function applyTicks(message: Buffer, store: TickStore): number {
  if (senderOf(message) === undefined) throw new Error('not a tick relay message');
  // Copied once: a Buffer from the socket need not be 8-byte aligned.
  const v = new Float64Array(
    message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength),
  );
  const count = v[2];
  // Checked whole first: a truncated message changes nothing.
  let o = HEADER;
  for (let i = 0; i < count; i++) {
    if (o + FIXED > v.length) throw new Error('truncated tick relay message');
    o += FIXED + ((v[o + 1] & HAS_DEPTH) !== 0 ? DEPTH : 0);
  }
  if (o !== v.length) throw new Error('tick relay message of the wrong length');
  o = HEADER;
  for (let i = 0; i < count; i++) {
    const rec = store.ensure(v[o]);
    const flags = v[o + 1];
    rec.stale = (flags & STALE) !== 0;
    rec.hasData = (flags & HAS_DATA) !== 0;
    rec.fromRest = (flags & FROM_REST) !== 0;
    rec.ltt = v[o + 2];
    rec.ltp = v[o + 3];
    rec.ltq = v[o + 4];
    rec.atp = v[o + 5];
    rec.volume = v[o + 6];
    rec.totalBuyQty = v[o + 7];
    rec.totalSellQty = v[o + 8];
    rec.open = v[o + 9];
    rec.high = v[o + 10];
    rec.low = v[o + 11];
    rec.close = v[o + 12];
    rec.prevClose = v[o + 13];
    rec.prevOi = v[o + 14];
    rec.oi = v[o + 15];
    rec.change = v[o + 16];
    rec.changePercent = v[o + 17];
    o += FIXED;
    if ((flags & HAS_DEPTH) !== 0) {
      rec.depth.set(v.subarray(o, o + DEPTH));
      rec.hasDepth = true;
      o += DEPTH;
    }
    store.relayed(rec);
  }
  return count;
}
