import { randomUUID } from 'node:crypto';
import {
  ExchangeSegment,
  FeedMode,
  SEGMENT_CODE,
  instrumentKey,
  type ChartCandle,
  type Instrument,
} from '@app/dhan';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Between, Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import {
  BadUserInputError,
  DomainError,
  NotFoundError,
  UnavailableError,
} from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import { PushStream } from '../../common/subscriptions/push-stream';
import { InstrumentsService } from '../../instruments/instruments.service';
import { ReferenceKind, SubscriptionRegistry } from '../feed/subscription-registry';
import { MarketDataError, MarketDataErrorCode } from '../market-data.errors';
import { MARKET_DATA_OPTIONS, type MarketDataOptions } from '../market-data.options';
import { DhanDataClient } from '../rest/dhan-data.client';
import { RestMarketDataService } from '../rest/rest-market-data.service';
import { DEFAULT_TICK_FANOUT_OPTIONS } from '../ticks/tick-fanout';
import { TickStore, type TickRecord } from '../ticks/tick-store';
import {
  addDays,
  bucketStart,
  CandleInterval,
  INTERVAL_MINUTES,
  istDateOf,
  istMidnight,
  overlay,
  type Bar,
} from './candle-math';
import { CandleDayEntity, CandleEntity } from './entities/candle.entity';
import { LiveSeries } from './live-candles';

/** A bar as the API shows it: `complete` is false for the one still forming. */
export interface CandleView extends Bar {
  complete: boolean;
}

/** Longest range one `candles` query may cover, days (DhanHQ serves intraday 90 days a request). */
export const MAX_INTRADAY_QUERY_DAYS = 90;
export const MAX_DAILY_QUERY_DAYS = 5 * 366;
/** Today's bars from DhanHQ are reused this long (they are overlaid with live ones anyway). */
export const TODAY_REUSE_MS = 5_000;
/** Rows per insert: under SQLite's bound-parameter limit on either engine. */
const INSERT_CHUNK = 100;

const DAY_S = 86_400;

interface CandleSubscriber {
  interval: CandleInterval;
  stream: PushStream<true, CandleView>;
  last: string;
}

/**
 * Candles: past trading days from DhanHQ's chart API, cached in the database per (instrument,
 * interval, day) so each day is asked once; today from DhanHQ (not cached: it is still being
 * written) overlaid with bars built live from the feed for instruments someone streams candles
 * of; `candleUpdates` streams the forming bar at the tick fan-out's cadence.
 */
@Injectable()
export class CandlesService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CandlesService.name);
  private readonly series = new Map<number, LiveSeries>();
  private readonly subscribers = new Map<number, Set<CandleSubscriber>>();
  private readonly fetching = new Map<string, Promise<void>>();
  private readonly todayCache = new Map<
    string,
    { day: string; at: number; bars: Promise<Bar[]> }
  >();
  private timer: NodeJS.Timeout | null = null;
  private readonly intervalMs: number;
  /** Chart requests sent (tests and metrics). */
  chartRequests = 0;

  constructor(
    @InjectRepository(CandleEntity) private readonly candleRows: Repository<CandleEntity>,
    @InjectRepository(CandleDayEntity) private readonly dayRows: Repository<CandleDayEntity>,
    private readonly client: DhanDataClient,
    private readonly store: TickStore,
    private readonly registry: SubscriptionRegistry,
    private readonly instruments: InstrumentsService,
    private readonly rest: RestMarketDataService,
    private readonly clock: Clock,
    @Inject(MARKET_DATA_OPTIONS) private readonly options: MarketDataOptions,
  ) {
    this.intervalMs = options.fanout.flushIntervalMs ?? DEFAULT_TICK_FANOUT_OPTIONS.flushIntervalMs;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.refresh(), this.intervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const subs of this.subscribers.values()) for (const s of [...subs]) s.stream.end();
  }

  /** Bars starting in [from, to), oldest first. */
  async candles(
    segment: ExchangeSegment,
    securityId: string,
    interval: CandleInterval,
    from: Date,
    to: Date,
  ): Promise<CandleView[]> {
    const inst = this.instrument(segment, securityId);
    const fromS = Math.floor(from.getTime() / 1000);
    const toS = Math.floor(to.getTime() / 1000);
    if (!(toS > fromS)) throw new BadUserInputError('`to` must be after `from`');
    const maxDays = interval === CandleInterval.D1 ? MAX_DAILY_QUERY_DAYS : MAX_INTRADAY_QUERY_DAYS;
    if (toS - fromS > maxDays * DAY_S) {
      throw new BadUserInputError(`At most ${maxDays} days of ${interval} candles per query`);
    }
    const nowS = Math.floor(this.clock.now().getTime() / 1000);
    const today = istDateOf(nowS);
    const firstDay = istDateOf(fromS);
    const lastDay = istDateOf(toS - 1);
    const out: CandleView[] = [];
    if (firstDay < today) {
      const lastPast = lastDay < today ? lastDay : addDays(today, -1);
      await this.ensureCached(inst, interval, firstDay, lastPast);
      const rows = await this.candleRows.find({
        where: {
          segment: inst.segment,
          securityId: inst.securityId,
          interval,
          time: Between(fromS, Math.min(toS, istMidnight(today)) - 1),
        },
        order: { time: 'ASC' },
      });
      for (const r of rows) out.push({ ...barOf(r), complete: true });
    }
    if (lastDay >= today && toS > istMidnight(today)) {
      for (const b of await this.today(inst, interval, nowS)) {
        if (b.time >= fromS && b.time < toS) out.push(b);
      }
    }
    return out;
  }

  /**
   * `candleUpdates`: the forming bar of `interval` now, then each time it changes (at most once
   * per tick interval, conflated). The instrument is put on the feed while subscribed.
   */
  subscribe(
    segment: ExchangeSegment,
    securityId: string,
    interval: CandleInterval,
  ): AsyncIterableIterator<CandleView> {
    const inst = this.instrument(segment, securityId);
    const key = instrumentKey(SEGMENT_CODE[inst.segment], Number(inst.securityId));
    const holder = `candles:${randomUUID()}`;
    try {
      this.registry.acquire([
        {
          segment: inst.segment,
          securityId: inst.securityId,
          kind: ReferenceKind.CLIENT,
          holderId: holder,
          mode: FeedMode.QUOTE,
        },
      ]);
    } catch (e) {
      if (e instanceof MarketDataError && e.code === MarketDataErrorCode.CAPACITY_EXCEEDED) {
        throw new DomainError(
          ErrorCode.CAPACITY_EXCEEDED,
          'The feed has no room for this instrument',
        );
      }
      throw e;
    }
    let series = this.series.get(key);
    if (!series) {
      series = new LiveSeries(key, inst.segment);
      this.series.set(key, series);
    }
    series.holders++;
    const sub: CandleSubscriber = {
      interval,
      last: '',
      stream: new PushStream<true, CandleView>({
        conflateBy: () => 'bar',
        map: () => this.forming(key, interval) ?? emptyBar(),
        onEnd: () => {
          this.registry.releaseHolder(ReferenceKind.CLIENT, holder);
          const subs = this.subscribers.get(key);
          subs?.delete(sub);
          if (subs && subs.size === 0) this.subscribers.delete(key);
          const s = this.series.get(key);
          if (s && --s.holders <= 0) this.series.delete(key);
        },
      }),
    };
    let subs = this.subscribers.get(key);
    if (!subs) {
      subs = new Set();
      this.subscribers.set(key, subs);
    }
    subs.add(sub);
    // The first bar at once when a price is known; else once REST or the feed brings one.
    const seed = () => {
      const rec = this.store.get(key);
      if (rec && rec.ltp > 0) series.seed(rec, this.nowS());
      this.notify(key);
    };
    if (this.store.get(key)?.ltp) seed();
    else void this.rest.fillQuotes([key], this.options.restWaitMs).then(seed);
    return sub.stream;
  }

  /** Folds new feed states into the live series and tells their subscribers (the timer). */
  refresh(nowS: number = this.nowS()): void {
    for (const [key, series] of this.series) {
      const rec = this.store.get(key);
      if (rec && series.update(rec, nowS)) this.notify(key);
    }
  }

  private notify(key: number): void {
    for (const sub of this.subscribers.get(key) ?? []) {
      const bar = this.forming(key, sub.interval);
      if (!bar) continue;
      const sig = `${bar.time}:${bar.open}:${bar.high}:${bar.low}:${bar.close}:${bar.volume}`;
      if (sig === sub.last) continue;
      sub.last = sig;
      sub.stream.push(true);
    }
  }

  private forming(key: number, interval: CandleInterval): CandleView | undefined {
    if (interval === CandleInterval.D1) {
      const rec = this.store.get(key);
      const bar = rec ? dailyOf(rec, istMidnight(istDateOf(this.nowS()))) : undefined;
      return bar ? { ...bar, complete: false } : undefined;
    }
    const bar = this.series.get(key)?.forming(interval);
    return bar ? { ...bar, complete: false } : undefined;
  }

  /**
   * Today's bars: DhanHQ's so far, overlaid with live ones when the instrument is tracked (on a
   * day without trading both are empty).
   */
  private async today(
    inst: Instrument,
    interval: CandleInterval,
    nowS: number,
  ): Promise<CandleView[]> {
    const today = istDateOf(nowS);
    const key = instrumentKey(SEGMENT_CODE[inst.segment], Number(inst.securityId));
    if (interval === CandleInterval.D1) {
      if (!(this.store.get(key)?.ltp ?? 0))
        await this.rest.fillQuotes([key], this.options.restWaitMs);
      const rec = this.store.get(key);
      // Only a price traded today makes a bar for today (not Friday's close on a Sunday).
      if (!rec || rec.ltt <= 0 || istDateOf(rec.ltt) !== today) return [];
      const bar = dailyOf(rec, istMidnight(today));
      return bar ? [{ ...bar, complete: false }] : [];
    }
    const rest = await this.todayFromDhan(inst, interval, today);
    const live = this.series.get(key)?.bars(interval) ?? [];
    const bars = overlay(rest, live);
    const forming = bucketStart(nowS, interval, inst.segment);
    return bars.map((b) => ({ ...b, complete: b.time < forming }));
  }

  /**
   * DhanHQ's bars of today so far, reused for TODAY_REUSE_MS (many screens asking for the same
   * chart within seconds cost one request); [] when DhanHQ fails (logged).
   */
  private todayFromDhan(inst: Instrument, interval: CandleInterval, today: string): Promise<Bar[]> {
    const id = `${inst.segment}:${inst.securityId}:${interval}`;
    const now = this.clock.now().getTime();
    const hit = this.todayCache.get(id);
    if (hit && hit.day === today && now - hit.at < TODAY_REUSE_MS) return hit.bars;
    const bars = this.fetch(inst, interval, today, today).catch((e: unknown) => {
      this.logger.warn({ msg: "today's candles from DhanHQ failed", err: String(e) });
      this.todayCache.delete(id);
      return [] as Bar[];
    });
    if (this.todayCache.size >= 1_000) this.todayCache.clear();
    this.todayCache.set(id, { day: today, at: now, bars });
    return bars;
  }

  /** Makes sure every day of [firstDay, lastDay] is in the cache; asks DhanHQ for the gaps. */
  private async ensureCached(
    inst: Instrument,
    interval: CandleInterval,
    firstDay: string,
    lastDay: string,
  ): Promise<void> {
    const have = new Set(
      (
        await this.dayRows.find({
          where: {
            segment: inst.segment,
            securityId: inst.securityId,
            interval,
            day: Between(firstDay, lastDay),
          },
        })
      ).map((d) => d.day),
    );
    const gaps: Array<[string, string]> = [];
    for (let d = firstDay; d <= lastDay; d = addDays(d, 1)) {
      if (have.has(d)) continue;
      const last = gaps[gaps.length - 1];
      if (last && addDays(last[1], 1) === d) last[1] = d;
      else gaps.push([d, d]);
    }
    for (const [from, to] of gaps) {
      const id = `${inst.segment}:${inst.securityId}:${interval}:${from}:${to}`;
      let job = this.fetching.get(id);
      if (!job) {
        job = this.fill(inst, interval, from, to).finally(() => this.fetching.delete(id));
        this.fetching.set(id, job);
      }
      await job;
    }
  }

  private async fill(
    inst: Instrument,
    interval: CandleInterval,
    from: string,
    to: string,
  ): Promise<void> {
    let bars: Bar[];
    try {
      bars = await this.fetch(inst, interval, from, to);
    } catch (e) {
      this.logger.warn({ msg: 'candles from DhanHQ failed', err: String(e) });
      throw new UnavailableError('Candles could not be had from the broker; retry shortly');
    }
    const rows = bars.map((b) => ({
      segment: inst.segment,
      securityId: inst.securityId,
      interval,
      ...b,
    }));
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await this.candleRows
        .createQueryBuilder()
        .insert()
        .into(CandleEntity)
        .values(rows.slice(i, i + INSERT_CHUNK))
        .orIgnore()
        .execute();
    }
    const days: CandleDayEntity[] = [];
    for (let d = from; d <= to; d = addDays(d, 1)) {
      days.push({ segment: inst.segment, securityId: inst.securityId, interval, day: d });
    }
    for (let i = 0; i < days.length; i += INSERT_CHUNK) {
      await this.dayRows
        .createQueryBuilder()
        .insert()
        .into(CandleDayEntity)
        .values(days.slice(i, i + INSERT_CHUNK))
        .orIgnore()
        .execute();
    }
  }

  /** DhanHQ bars of the IST days [from, to], in ranges DhanHQ accepts. */
  private async fetch(
    inst: Instrument,
    interval: CandleInterval,
    from: string,
    to: string,
  ): Promise<Bar[]> {
    const out: Bar[] = [];
    const minutes = INTERVAL_MINUTES[interval];
    const step = minutes === 0 ? MAX_DAILY_QUERY_DAYS : MAX_INTRADAY_QUERY_DAYS;
    for (let start = from; start <= to; start = addDays(start, step)) {
      const endExclusive = minDate(addDays(start, step), addDays(to, 1));
      const req = {
        securityId: inst.securityId,
        exchangeSegment: inst.segment,
        instrument: inst.instrumentType,
        fromDate: start,
        toDate: endExclusive,
        ...(inst.expiry !== undefined ? { oi: true } : {}),
      };
      this.chartRequests++;
      this.rest.countChartRequest();
      const candles =
        minutes === 0
          ? await this.client.getHistorical(req)
          : await this.client.getIntraday({ ...req, interval: minutes });
      for (const c of candles) out.push(barOfChart(c, minutes === 0));
    }
    return out;
  }

  private instrument(segment: ExchangeSegment, securityId: string): Instrument {
    if (!this.instruments.loaded) {
      throw new UnavailableError('The instrument master is still loading; retry shortly');
    }
    const inst = this.instruments.get(segment, securityId);
    if (!inst) throw new NotFoundError(`Unknown instrument ${segment} ${securityId}`);
    return inst;
  }

  private nowS(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }
}

function minDate(a: string, b: string): string {
  return a < b ? a : b;
}

function barOf(r: CandleEntity): Bar {
  return {
    time: r.time,
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume,
    oi: r.oi,
  };
}

function barOfChart(c: ChartCandle, daily: boolean): Bar {
  return {
    // Daily bars are stamped at IST midnight of their date, whatever DhanHQ's stamp.
    time: daily ? istMidnight(istDateOf(c.timestamp)) : c.timestamp,
    open: c.open,
    high: c.high,
    low: c.low,
    close: c.close,
    volume: c.volume,
    oi: c.openInterest ?? null,
  };
}

/** Today's daily bar from the instrument's day state, or undefined without a price. */
function dailyOf(rec: TickRecord, midnight: number): Bar | undefined {
  if (!(rec.ltp > 0)) return undefined;
  const open = rec.open > 0 ? rec.open : rec.ltp;
  return {
    time: midnight,
    open,
    high: Math.max(rec.high > 0 ? rec.high : rec.ltp, rec.ltp, open),
    low: Math.min(rec.low > 0 ? rec.low : rec.ltp, rec.ltp, open),
    close: rec.ltp,
    volume: rec.volume >= 0 ? rec.volume : 0,
    oi: rec.oi >= 0 ? rec.oi : null,
  };
}

function emptyBar(): CandleView {
  return { time: 0, open: 0, high: 0, low: 0, close: 0, volume: 0, oi: null, complete: false };
}
