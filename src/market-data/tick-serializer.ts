import { Injectable } from '@nestjs/common';
import { DEPTH_LEVELS, DEPTH_STRIDE, TickRecord } from './tick-store';

function num(x: number): string {
  return x === x ? String(x) : 'null';
}

/**
 * JSON of one instrument in the shape of the GraphQL `Tick` type (DESIGN.md section 4):
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
    (r.ltt > 0 ? '"' + new Date(r.ltt * 1000).toISOString() + '"' : 'null') +
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

  /** UTF-8 JSON of the record's current version; the same Buffer until the record changes. */
  fragment(r: TickRecord): Buffer {
    if (r.jsonVersion === r.version && r.json !== null) return r.json;
    const json = Buffer.from(serializeTick(r));
    r.json = json;
    r.jsonVersion = r.version;
    this.serializations++;
    return json;
  }
}
