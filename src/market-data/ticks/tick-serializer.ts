import { Injectable } from '@nestjs/common';
import { emptyFragment, writeFragment, type Fragment } from './tick-fragment';
import { DEPTH_LEVELS, DEPTH_STRIDE, TickRecord } from './tick-store';

/**
 * JSON text of a number, the same as String(x) (what graphql-js writes). Integers and prices of
 * at most two decimals (nearly every value of a tick) are formatted from integers: V8's
 * shortest-round-trip conversion of a fractional double was most of a tick's serialisation.
 * For |x| < 2^31 / 100, the double nearest c / 100 has no shorter round-trip text than c / 100
 * itself with trailing zeros dropped, so the result is String(x) exactly.
 */
function num(x: number): string {
  if (x !== x) return 'null';
  if ((x | 0) === x) return '' + x;
  const c = Math.round(x * 100);
  if (c / 100 !== x || c >= 2147483648 || c <= -2147483648) return String(x);
  const a = c < 0 ? -c : c;
  const f = a % 100;
  const whole = (c < 0 ? '-' : '') + (a - f) / 100;
  if (f < 10) return whole + '.0' + f;
  return whole + '.' + (f % 10 === 0 ? f / 10 : f);
}

/** Trade times repeat (one second carries many ticks): the last one's ISO text is kept. */
let lastLtt = -1;
let lastLttJson = 'null';
function lttJson(ltt: number): string {
  if (ltt !== lastLtt) {
    lastLtt = ltt;
    lastLttJson = ltt > 0 ? '"' + new Date(ltt * 1000).toISOString() + '"' : 'null';
  }
  return lastLttJson;
}

/**
 * JSON of one instrument in the shape of the GraphQL `Tick` type (the public contract):
 * `segment securityId ltp lastTradeTime lastTradeQty avgPrice volume totalBuyQty totalSellQty
 * open high low close prevClose change changePercent oi depth stale`. Unknown values are null;
 * `lastTradeTime` is an ISO-8601 UTC string of the true trade time; `depth` is null until a
 * full packet arrived, else five levels `{bidQty bidOrders bidPrice askQty askOrders askPrice}`
 * best first. The GraphQL layer can emit these fragments without running graphql-js per tick.
 */
export function serializeTick(r: TickRecord): string {
  let depth = 'null';
  if (r.hasDepth) {
    const d = r.depth;
    depth = '[';
    for (let i = 0; i < DEPTH_LEVELS; i++) {
      const o = i * DEPTH_STRIDE;
      depth +=
        (i === 0 ? '{"bidQty":' : ',{"bidQty":') +
        d[o] +
        ',"bidOrders":' +
        d[o + 1] +
        ',"bidPrice":' +
        d[o + 2] +
        ',"askQty":' +
        d[o + 3] +
        ',"askOrders":' +
        d[o + 4] +
        ',"askPrice":' +
        d[o + 5] +
        '}';
    }
    depth += ']';
  }
  return (
    '{"segment":"' +
    r.segment +
    '","securityId":"' +
    r.securityId +
    '","ltp":' +
    num(r.ltp) +
    ',"lastTradeTime":' +
    lttJson(r.ltt) +
    ',"lastTradeQty":' +
    num(r.ltq) +
    ',"avgPrice":' +
    num(r.atp) +
    ',"volume":' +
    num(r.volume) +
    ',"totalBuyQty":' +
    num(r.totalBuyQty) +
    ',"totalSellQty":' +
    num(r.totalSellQty) +
    ',"open":' +
    num(r.open) +
    ',"high":' +
    num(r.high) +
    ',"low":' +
    num(r.low) +
    ',"close":' +
    num(r.close) +
    ',"prevClose":' +
    num(r.prevClose) +
    ',"change":' +
    num(r.change) +
    ',"changePercent":' +
    num(r.changePercent) +
    ',"oi":' +
    num(r.oi) +
    ',"depth":' +
    depth +
    ',"stale":' +
    (r.stale ? 'true' : 'false') +
    '}'
  );
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
    r.json ??= emptyFragment();
    // Every character is ASCII (enum names, digits, ISO time): latin1 is the same bytes as
    // UTF-8 without the encoder's scan.
    writeFragment(r.json, serializeTick(r), 'latin1');
    r.jsonVersion = r.version;
    this.serializations++;
    return r.json;
  }
}
