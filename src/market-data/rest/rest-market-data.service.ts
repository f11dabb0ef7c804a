import {
  DhanError,
  ExchangeSegment,
  SEGMENT_BY_CODE,
  SEGMENT_CODE,
  instrumentKey,
  securityIdOfKey,
  segmentCodeOfKey,
  type FullQuote,
  type Instrument,
  type OptionLeg,
} from '@app/dhan';
import { Injectable, Logger } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../../health/metrics.service';
import { Clock } from '../../common/clock';
import { InstrumentsService } from '../../instruments/instruments.service';
import { TickStore, type RestSnapshot, type TickRecord } from '../ticks/tick-store';
import { DhanDataClient, QUOTE_SPACING_MS } from './dhan-data.client';
import { QuoteBatcher } from './quote-batcher';

/** DhanHQ market quote: at most this many instruments a request. */
export const QUOTE_BATCH_MAX = 1_000;
/** A REST quote younger than this is served again without asking (DhanHQ: 1 quote request/s). */
export const REST_QUOTE_MAX_AGE_MS = 1_000;
/** DhanHQ option chain: one request per underlying every 3 s; a fill is reused for as long. */
export const CHAIN_REQUEST_SPACING_MS = 3_000;

export interface RestMarketDataStats {
  quoteRequests: number;
  quoteInstruments: number;
  chainRequests: number;
  chartRequests: number;
  failures: number;
}

interface ChainFill {
  at: number;
  pending: boolean;
  promise: Promise<void>;
}

const IST_OFFSET_S = 19_800;

/** `DD/MM/YYYY HH:MM:SS` or `YYYY-MM-DD HH:MM:SS`, IST wall clock, to true UTC epoch seconds. */
export function parseIstTradeTime(text: string | undefined): number | undefined {
  if (!text) return undefined;
  let m = /^(\d{2})\/(\d{2})\/(\d{4})[ T](\d{2}):(\d{2}):(\d{2})/.exec(text);
  let parts: number[] | undefined;
  if (m) parts = [+m[3], +m[2], +m[1], +m[4], +m[5], +m[6]];
  else if ((m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(text))) {
    parts = [+m[1], +m[2], +m[3], +m[4], +m[5], +m[6]];
  }
  if (!parts || parts[0] < 2000) return undefined;
  const [y, mo, d, h, mi, s] = parts;
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000 - IST_OFFSET_S;
}

export function snapshotOfQuote(q: FullQuote): RestSnapshot {
  const buy = q.depth?.buy ?? [];
  const sell = q.depth?.sell ?? [];
  const levels = Math.min(Math.max(buy.length, sell.length), 5);
  const depth = [];
  for (let i = 0; i < levels; i++) {
    depth.push({
      bidQty: buy[i]?.quantity ?? 0,
      bidOrders: buy[i]?.orders ?? 0,
      bidPrice: buy[i]?.price ?? 0,
      askQty: sell[i]?.quantity ?? 0,
      askOrders: sell[i]?.orders ?? 0,
      askPrice: sell[i]?.price ?? 0,
    });
  }
  return {
    ltp: Number(q.last_price),
    ltt: parseIstTradeTime(q.last_trade_time),
    ltq: q.last_quantity,
    atp: q.average_price,
    volume: q.volume,
    totalBuyQty: q.buy_quantity,
    totalSellQty: q.sell_quantity,
    open: q.ohlc?.open,
    high: q.ohlc?.high,
    low: q.ohlc?.low,
    // DhanHQ's quote `ohlc.close` is the previous session's close while the market is open.
    prevClose: q.ohlc?.close,
    oi: q.oi,
    upperCircuit: q.upper_circuit_limit,
    lowerCircuit: q.lower_circuit_limit,
    depth,
  };
}

export function snapshotOfLeg(leg: OptionLeg): RestSnapshot {
  const bid = leg.top_bid_price ?? 0;
  const ask = leg.top_ask_price ?? 0;
  return {
    ltp: Number(leg.last_price),
    atp: leg.average_price,
    volume: leg.volume,
    prevClose: leg.previous_close_price,
    oi: leg.oi,
    prevOi: leg.previous_oi,
    depth:
      bid > 0 || ask > 0
        ? [
            {
              bidQty: leg.top_bid_quantity ?? 0,
              bidOrders: 0,
              bidPrice: bid,
              askQty: leg.top_ask_quantity ?? 0,
              askOrders: 0,
              askPrice: ask,
            },
          ]
        : undefined,
  };
}

/**
 * Quotes and option chains for instruments the feed does not stream, from DhanHQ REST:
 * `/marketfeed/quote` asks are coalesced (one request per rate slot, up to 1,000 instruments)
 * and `/optionchain` fills are spaced per underlying and reused for 3 s. Answers go into the
 * tick store as REST snapshots, which the feed replaces as soon as it has data.
 */
@Injectable()
export class RestMarketDataService {
  private readonly logger = new Logger(RestMarketDataService.name);
  private readonly batcher: QuoteBatcher;
  private readonly chainFills = new Map<string, ChainFill>();
  private readonly underlyingTails = new Map<string, Promise<void>>();
  private readonly lastChainAt = new Map<string, number>();
  private chainRequests = 0;
  private chartRequests = 0;
  private lastQuoteAnswerAt = -Infinity;
  private failures = 0;

  constructor(
    private readonly client: DhanDataClient,
    private readonly store: TickStore,
    private readonly clock: Clock,
    private readonly instruments: InstrumentsService,
    metrics: MetricsService,
  ) {
    this.batcher = new QuoteBatcher((keys) => this.sendQuotes(keys), {
      maxPerRequest: QUOTE_BATCH_MAX,
      // DhanHQ counts at arrival, which a loaded machine can delay: never sooner than 1 s after
      // the previous answer came back either (that request had arrived before it was answered).
      delay: () =>
        Math.max(this.client.quoteDelay(), this.lastQuoteAnswerAt + 1_000 - this.nowMs()),
      retryable: (e) => e instanceof DhanError && e.category === 'rate-limited',
      retryAfterMs: QUOTE_SPACING_MS,
      // Asks wait for the 1-per-second slot: an instrument the feed priced meanwhile (25,000
      // put on the feed at once wait up to 25 s) takes no place in a request.
      stillWanted: (key) => this.needsQuote(this.store.get(key)),
    });
    this.registerMetrics(metrics);
  }

  stats(): RestMarketDataStats {
    return {
      quoteRequests: this.batcher.requests,
      quoteInstruments: this.batcher.asked,
      chainRequests: this.chainRequests,
      chartRequests: this.chartRequests,
      failures: this.failures,
    };
  }

  /** Candles count their chart requests here, so /metrics has every DhanHQ data request. */
  countChartRequest(): void {
    this.chartRequests++;
  }

  private registerMetrics(metrics: MetricsService): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const rest = this;
    new Counter({
      name: 'dhan_data_requests_total',
      help: 'DhanHQ market-data REST requests (quote, optionchain, charts) sent by market data.',
      labelNames: ['api'] as const,
      registers: [metrics.registry],
      collect() {
        this.reset();
        const s = rest.stats();
        this.inc({ api: 'quote' }, s.quoteRequests);
        this.inc({ api: 'optionchain' }, s.chainRequests);
        this.inc({ api: 'charts' }, s.chartRequests);
      },
    });
    new Counter({
      name: 'dhan_data_failures_total',
      help: 'DhanHQ quote and option-chain REST asks that failed (answered from the tick store).',
      registers: [metrics.registry],
      collect() {
        this.reset();
        this.inc(rest.failures);
      },
    });
  }

  /** True when the record has no usable price of its own: no fresh feed data, no recent REST. */
  needsQuote(rec: TickRecord | undefined): boolean {
    if (!rec || !(rec.ltp > 0)) return true;
    if (!rec.fromRest) return rec.stale;
    return this.nowMs() - rec.updatedAt >= REST_QUOTE_MAX_AGE_MS;
  }

  /**
   * Asks REST for the instruments among `keys` that need it; resolves when answered, failed
   * (logged; the records stay as they are) or after `waitMs`, whichever is first. An answer
   * that comes later is still applied (and streamed to `ticks` subscribers).
   */
  async fillQuotes(keys: readonly number[], waitMs: number): Promise<void> {
    const wanted = keys.filter((k) => this.needsQuote(this.store.get(k)));
    if (wanted.length === 0) return;
    await this.bounded(this.batcher.request(wanted), waitMs);
  }

  /**
   * Fills one expiry's option quotes (and the underlying's price) from `/optionchain`; a fill
   * younger than 3 s (or still running) is shared. Resolves as `fillQuotes` does.
   */
  async fillChain(underlying: string, expiry: string, waitMs: number): Promise<void> {
    const name = underlying.toUpperCase();
    const id = `${name}|${expiry}`;
    const hit = this.chainFills.get(id);
    if (hit && (hit.pending || this.nowMs() - hit.at < CHAIN_REQUEST_SPACING_MS)) {
      return this.bounded(hit.promise, waitMs);
    }
    // MCX: the future this expiry is written on (DhanHQ answers a commodity chain per future).
    const base = this.instruments.chainBase(name, expiry);
    if (!base) return;
    const tail = this.underlyingTails.get(name) ?? Promise.resolve();
    const fill: ChainFill = { at: this.nowMs(), pending: true, promise: Promise.resolve() };
    fill.promise = tail
      .then(() => this.requestChain(name, expiry, base))
      .finally(() => {
        fill.pending = false;
        fill.at = this.nowMs();
      });
    this.chainFills.set(id, fill);
    this.underlyingTails.set(
      name,
      fill.promise.catch(() => undefined),
    );
    return this.bounded(fill.promise, waitMs);
  }

  private async requestChain(name: string, expiry: string, base: Instrument): Promise<void> {
    const last = this.lastChainAt.get(name);
    const wait = last === undefined ? 0 : last + CHAIN_REQUEST_SPACING_MS - this.nowMs();
    if (wait > 0) await new Promise<void>((r) => setTimeout(r, wait).unref());
    this.lastChainAt.set(name, this.nowMs());
    this.chainRequests++;
    const oc = await this.client.getOptionChain({
      underlyingScrip: Number(base.securityId),
      underlyingSeg: base.segment,
      expiry,
    });
    const at = this.nowMs();
    const byStrike = new Map<number, { CE?: Instrument; PE?: Instrument }>();
    for (const i of this.instruments.chain(name, expiry)) {
      if (i.strike === undefined || (i.optionType !== 'CE' && i.optionType !== 'PE')) continue;
      const slot = byStrike.get(i.strike) ?? {};
      slot[i.optionType] ??= i;
      byStrike.set(i.strike, slot);
    }
    const apply = (i: Instrument | undefined, leg: OptionLeg | undefined) => {
      if (!i || !leg) return;
      this.store.applyRest(keyOf(i), snapshotOfLeg(leg), at);
    };
    for (const s of oc.strikes) {
      const slot = byStrike.get(s.strike);
      if (!slot) continue;
      apply(slot.CE, s.ce);
      apply(slot.PE, s.pe);
    }
    if (oc.lastPrice > 0) this.store.applyRest(keyOf(base), { ltp: oc.lastPrice }, at);
  }

  private async sendQuotes(keys: number[]): Promise<void> {
    const req: Partial<Record<ExchangeSegment, number[]>> = {};
    for (const key of keys) {
      const segment = SEGMENT_BY_CODE[segmentCodeOfKey(key)];
      if (!segment) continue;
      (req[segment] ??= []).push(securityIdOfKey(key));
    }
    let answer;
    try {
      answer = await this.client.getQuote(req);
    } finally {
      this.lastQuoteAnswerAt = this.nowMs();
    }
    const at = this.nowMs();
    for (const [segment, byId] of Object.entries(answer)) {
      const code = SEGMENT_CODE[segment as ExchangeSegment];
      if (code === undefined || !byId) continue;
      for (const [id, q] of Object.entries(byId)) {
        this.store.applyRest(instrumentKey(code, Number(id)), snapshotOfQuote(q), at);
      }
    }
  }

  private async bounded(work: Promise<void>, waitMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        work,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, waitMs);
          timer.unref();
        }),
      ]);
    } catch (e) {
      this.failures++;
      this.logger.warn({ msg: 'DhanHQ REST market data failed', err: String(e) });
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private nowMs(): number {
    return this.clock.now().getTime();
  }
}

function keyOf(i: Instrument): number {
  return instrumentKey(SEGMENT_CODE[i.segment], Number(i.securityId));
}
