import { Injectable } from '@nestjs/common';
import { emptyFragment, endFragment, reserveFragment, type Fragment } from './tick-fragment';
import { DEPTH_LEVELS, DEPTH_STRIDE, TickRecord } from './tick-store';

/** The keys and punctuation of a Tick, as bytes (every character is ASCII). */
const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const K_SEGMENT = ascii('{"segment":"');
const K_SECURITY_ID = ascii('","securityId":"');
const K_LTP = ascii('","ltp":');
const K_LTT = ascii(',"lastTradeTime":');
const K_LTQ = ascii(',"lastTradeQty":');
const K_ATP = ascii(',"avgPrice":');
const K_VOLUME = ascii(',"volume":');
const K_BUY = ascii(',"totalBuyQty":');
const K_SELL = ascii(',"totalSellQty":');
const K_OPEN = ascii(',"open":');
const K_HIGH = ascii(',"high":');
const K_LOW = ascii(',"low":');
const K_CLOSE = ascii(',"close":');
const K_PREV_CLOSE = ascii(',"prevClose":');
const K_CHANGE = ascii(',"change":');
const K_CHANGE_PCT = ascii(',"changePercent":');
const K_OI = ascii(',"oi":');
const K_DEPTH = ascii(',"depth":');
const K_NULL = ascii('null');
const K_STALE_TRUE = ascii(',"stale":true}');
const K_STALE_FALSE = ascii(',"stale":false}');
const K_LEVEL = [ascii('[{"bidQty":'), ascii(',{"bidQty":')];
const K_DEPTH_FIELDS = [
  ascii(',"bidOrders":'),
  ascii(',"bidPrice":'),
  ascii(',"askQty":'),
  ascii(',"askOrders":'),
  ascii(',"askPrice":'),
];

/**
 * The longest a Tick can be: 17 values and 30 depth values of at most 25 characters each (the
 * longest String(x) of a double), the keys, ids and the ISO time, with room to spare.
 */
export const MAX_TICK_BYTES = 4096;

function put(b: Uint8Array, o: number, bytes: Uint8Array): number {
  // A loop: TypedArray.prototype.set costs more than it saves for a dozen bytes.
  for (let i = 0; i < bytes.length; i++) b[o + i] = bytes[i];
  return o + bytes.length;
}

function putText(b: Uint8Array, o: number, text: string): number {
  for (let i = 0; i < text.length; i++) b[o + i] = text.charCodeAt(i);
  return o + text.length;
}

/** Digits of a non-negative integer below 2^53 (int32 arithmetic below 2^31). */
function putDigits(b: Uint8Array, o: number, v: number): number {
  if (v < 10) {
    b[o] = 48 + v;
    return o + 1;
  }
  if (v > 2147483647) {
    // Rare (volumes, OI beyond 2^31): the high digits, then nine low ones.
    const high = Math.floor(v / 1e9);
    o = putDigits(b, o, high);
    let low = v - high * 1e9;
    for (let p = o + 8; p >= o; p--) {
      const q = (low / 10) | 0;
      b[p] = 48 + (low - q * 10);
      low = q;
    }
    return o + 9;
  }
  const end =
    o +
    (v < 100
      ? 2
      : v < 1000
        ? 3
        : v < 10000
          ? 4
          : v < 100000
            ? 5
            : v < 1000000
              ? 6
              : v < 10000000
                ? 7
                : v < 100000000
                  ? 8
                  : v < 1000000000
                    ? 9
                    : 10);
  let p = end;
  let x = v | 0;
  while (x >= 10) {
    const q = (x / 10) | 0;
    b[--p] = 48 + (x - q * 10);
    x = q;
  }
  b[--p] = 48 + x;
  return end;
}

/**
 * JSON text of a number, the same as String(x) (what graphql-js writes), NaN as null, written
 * as bytes. Integers and prices of at most two decimals (nearly every value of a tick) are
 * written from integers: V8's shortest-round-trip conversion of a fractional double was most of
 * a tick's serialisation. For |x| < 2^31 / 100, the double nearest c / 100 has no shorter
 * round-trip text than c / 100 itself with trailing zeros dropped, so the text is String(x)'s.
 */
function putNum(b: Uint8Array, o: number, x: number): number {
  if (x !== x) return put(b, o, K_NULL);
  if ((x | 0) === x) {
    if (x >= 0) return putDigits(b, o, x);
    b[o++] = 45; // -
    return putDigits(b, o, -x);
  }
  if (Number.isInteger(x)) {
    if (x < 0) {
      if (x <= -9007199254740992) return putText(b, o, String(x));
      b[o++] = 45; // -
      return putDigits(b, o, -x);
    }
    // -0 is an integer not below 0: String(-0) is "0" too.
    return x < 9007199254740992 ? putDigits(b, o, x) : putText(b, o, String(x));
  }
  const c = Math.round(x * 100);
  if (c / 100 !== x || c >= 2147483648 || c <= -2147483648) return putText(b, o, String(x));
  let a = c;
  if (c < 0) {
    b[o++] = 45;
    a = -c;
  }
  const f = a % 100;
  o = putDigits(b, o, (a - f) / 100);
  b[o++] = 46; // .
  if (f < 10) {
    b[o++] = 48;
    b[o++] = 48 + f;
  } else if (f % 10 === 0) {
    b[o++] = 48 + f / 10;
  } else {
    b[o++] = 48 + ((f / 10) | 0);
    b[o++] = 48 + (f % 10);
  }
  return o;
}

/** Two digits of 0..99. */
function put2(b: Uint8Array, o: number, v: number): void {
  const tens = (v / 10) | 0;
  b[o] = 48 + tens;
  b[o + 1] = 48 + (v - tens * 10);
}

/** `"YYYY-MM-DDTHH:MM:SS.000Z"` of whole epoch seconds in years 1970-9999 (what toISOString writes). */
const LAST_SECOND_OF_9999 = 253402300799;
function putIsoSeconds(b: Uint8Array, o: number, t: number): number {
  const days = Math.floor(t / 86400);
  const sod = t - days * 86400;
  // Days to the proleptic Gregorian date (the civil-from-days algorithm, eras of 400 years).
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  b[o] = 34; // "
  put2(b, o + 1, Math.floor(year / 100));
  put2(b, o + 3, year % 100);
  b[o + 5] = 45; // -
  put2(b, o + 6, month);
  b[o + 8] = 45;
  put2(b, o + 9, day);
  b[o + 11] = 84; // T
  const hour = Math.floor(sod / 3600);
  const minute = Math.floor((sod - hour * 3600) / 60);
  put2(b, o + 12, hour);
  b[o + 14] = 58; // :
  put2(b, o + 15, minute);
  b[o + 17] = 58;
  put2(b, o + 18, sod - hour * 3600 - minute * 60);
  b[o + 20] = 46; // .
  b[o + 21] = 48;
  b[o + 22] = 48;
  b[o + 23] = 48;
  b[o + 24] = 90; // Z
  b[o + 25] = 34;
  return o + 26;
}

/** `lastTradeTime`: null, or the ISO text of the trade time (epoch seconds). */
function putLtt(b: Uint8Array, o: number, ltt: number): number {
  if (!(ltt > 0)) return put(b, o, K_NULL);
  if (Number.isInteger(ltt) && ltt <= LAST_SECOND_OF_9999) return putIsoSeconds(b, o, ltt);
  return putText(b, o, '"' + new Date(ltt * 1000).toISOString() + '"');
}

/**
 * JSON of one instrument in the shape of the GraphQL `Tick` type (the public contract), written
 * as bytes into `b` from offset 0; returns its length. Bytes past the end of `b` are not
 * written (a typed array ignores them): a length above `b.length` means write again into a
 * larger buffer (MAX_TICK_BYTES always suffices). The shape:
 * `segment securityId ltp lastTradeTime lastTradeQty avgPrice volume totalBuyQty totalSellQty
 * open high low close prevClose change changePercent oi depth stale`. Unknown values are null;
 * `lastTradeTime` is an ISO-8601 UTC string of the true trade time; `depth` is null until a
 * full packet arrived, else five levels `{bidQty bidOrders bidPrice askQty askOrders askPrice}`
 * best first. The GraphQL layer emits these fragments without running graphql-js per tick, and
 * no string is built on the way (the concatenation, flattening and encoding of one was half of
 * the serialisation's time).
 */
export function writeTick(r: TickRecord, b: Uint8Array): number {
  let o = put(b, 0, K_SEGMENT);
  o = putText(b, o, r.segment);
  o = put(b, o, K_SECURITY_ID);
  o = putText(b, o, r.securityId);
  o = put(b, o, K_LTP);
  o = putNum(b, o, r.ltp);
  o = put(b, o, K_LTT);
  o = putLtt(b, o, r.ltt);
  o = put(b, o, K_LTQ);
  o = putNum(b, o, r.ltq);
  o = put(b, o, K_ATP);
  o = putNum(b, o, r.atp);
  o = put(b, o, K_VOLUME);
  o = putNum(b, o, r.volume);
  o = put(b, o, K_BUY);
  o = putNum(b, o, r.totalBuyQty);
  o = put(b, o, K_SELL);
  o = putNum(b, o, r.totalSellQty);
  o = put(b, o, K_OPEN);
  o = putNum(b, o, r.open);
  o = put(b, o, K_HIGH);
  o = putNum(b, o, r.high);
  o = put(b, o, K_LOW);
  o = putNum(b, o, r.low);
  o = put(b, o, K_CLOSE);
  o = putNum(b, o, r.close);
  o = put(b, o, K_PREV_CLOSE);
  o = putNum(b, o, r.prevClose);
  o = put(b, o, K_CHANGE);
  o = putNum(b, o, r.change);
  o = put(b, o, K_CHANGE_PCT);
  o = putNum(b, o, r.changePercent);
  o = put(b, o, K_OI);
  o = putNum(b, o, r.oi);
  o = put(b, o, K_DEPTH);
  if (r.hasDepth) {
    const d = r.depth;
    for (let i = 0; i < DEPTH_LEVELS; i++) {
      const at = i * DEPTH_STRIDE;
      o = put(b, o, K_LEVEL[i === 0 ? 0 : 1]);
      o = putNum(b, o, d[at]);
      for (let k = 1; k < DEPTH_STRIDE; k++) {
        o = put(b, o, K_DEPTH_FIELDS[k - 1]);
        o = putNum(b, o, d[at + k]);
      }
      b[o++] = 125; // }
    }
    b[o++] = 93; // ]
  } else {
    o = put(b, o, K_NULL);
  }
  return put(b, o, r.stale ? K_STALE_TRUE : K_STALE_FALSE);
}

/** Where serializeTick writes. */
const scratch = Buffer.allocUnsafeSlow(MAX_TICK_BYTES);

/** The Tick JSON of a record as a string (see writeTick). */
export function serializeTick(r: TickRecord): string {
  return scratch.toString('latin1', 0, writeTick(r, scratch));
}

/** Serialises each record version once and hands the same bytes to every reader. */
@Injectable()
export class TickSerializer {
  /** How many fragments were built (not served from cache). */
  serializations = 0;

  /**
   * UTF-8 JSON of the record's current version, in the record's own fragment (written in place
   * once per version, see Fragment).
   */
  fragment(r: TickRecord): Fragment {
    if (r.jsonVersion === r.version && r.json !== null) return r.json;
    // Written straight into the record's bytes (every character is ASCII, so they are UTF-8 as
    // written); only a version longer than them is written again into larger ones.
    const f = (r.json ??= emptyFragment());
    const length = writeTick(r, f.bytes);
    if (length > f.bytes.length) {
      reserveFragment(f, length);
      writeTick(r, f.bytes);
    }
    endFragment(f, length);
    r.jsonVersion = r.version;
    this.serializations++;
    return r.json;
  }
}
