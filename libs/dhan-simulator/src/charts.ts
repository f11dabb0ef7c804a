import { addDays, istDate, istTimeMs } from './calendar';
import { Market, roundTick } from './market';
import { Prng } from './prng';
import { SimInstrument, Universe } from './universe';

/** One bar: start (true UTC epoch seconds) and prices in rupees. */
export interface SimBar {
  t: number;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  oi: number;
}

const TRADING_DAYS_PER_YEAR = 252;
/** Most days a walk's close history is built back to (DhanHQ serves about five years). */
const MAX_HISTORY_DAYS = 1_500;

/** Session open and length, minutes, per exchange (IST). */
function session(inst: SimInstrument): { openHour: number; openMinute: number; minutes: number } {
  return inst.exchange === 'MCX'
    ? { openHour: 9, openMinute: 0, minutes: 14 * 60 + 30 }
    : { openHour: 9, openMinute: 15, minutes: 375 };
}

/**
 * Chart history consistent with the market: each walk's daily closes are built backwards from
 * its previous close (the level today opened from), each past day's minutes are a Brownian
 * bridge from that day's open to its close, and today's minutes run from the instrument's open
 * to its current price. Derivatives are priced off the walk level at each minute. Deterministic
 * per (seed, walk, day), so the same question always gets the same bars.
 */
export class ChartHistory {
  private readonly closes = new Map<number, Map<string, number>>();

  constructor(
    private readonly universe: Universe,
    private readonly market: Market,
    private readonly seed: number | string,
  ) {}

  /** 1-minute bars of `inst` starting in [fromMs, toMs), the one forming at `nowMs` included. */
  minutes(inst: SimInstrument, fromMs: number, toMs: number, nowMs: number): SimBar[] {
    const out: SimBar[] = [];
    const last = Math.min(toMs, nowMs + 1);
    for (let day = istDate(fromMs); istTimeMs(day, 0, 0) < last; day = addDays(day, 1)) {
      if (!this.universe.isTradingDay(inst.exchange, day)) continue;
      for (const bar of this.day(inst, day, nowMs)) {
        const ms = bar.t * 1000;
        if (ms >= fromMs && ms < last) out.push(bar);
      }
    }
    return out;
  }

  /** Bars of `interval` minutes, aligned to the session open, from the 1-minute bars. */
  intraday(
    inst: SimInstrument,
    fromMs: number,
    toMs: number,
    nowMs: number,
    interval: number,
  ): SimBar[] {
    const s = session(inst);
    const out: SimBar[] = [];
    let current: SimBar | undefined;
    let bucketStart = -1;
    for (const bar of this.minutes(inst, fromMs, toMs, nowMs)) {
      const day = istDate(bar.t * 1000);
      const open = istTimeMs(day, s.openHour, s.openMinute) / 1000;
      const start = open + Math.floor((bar.t - open) / (interval * 60)) * interval * 60;
      if (current && start === bucketStart) {
        current.h = Math.max(current.h, bar.h);
        current.l = Math.min(current.l, bar.l);
        current.c = bar.c;
        current.v += bar.v;
        current.oi = bar.oi;
      } else {
        current = { ...bar, t: start };
        bucketStart = start;
        out.push(current);
      }
    }
    return out;
  }

  /** Daily bars (stamped at IST midnight) of trading days in [fromDate, toDate). */
  daily(inst: SimInstrument, fromDate: string, toDate: string, nowMs: number): SimBar[] {
    const out: SimBar[] = [];
    for (let day = fromDate; day < toDate; day = addDays(day, 1)) {
      if (!this.universe.isTradingDay(inst.exchange, day)) continue;
      const bars = this.day(inst, day, nowMs);
      if (bars.length === 0) continue;
      out.push({
        t: istTimeMs(day, 0, 0) / 1000,
        o: bars[0].o,
        h: Math.max(...bars.map((b) => b.h)),
        l: Math.min(...bars.map((b) => b.l)),
        c: bars[bars.length - 1].c,
        v: bars.reduce((n, b) => n + b.v, 0),
        oi: bars[bars.length - 1].oi,
      });
    }
    return out;
  }

  /** One trading day's 1-minute bars (today: up to the current minute). */
  private day(inst: SimInstrument, day: string, nowMs: number): SimBar[] {
    const today = istDate(nowMs);
    if (day > today) return [];
    if (inst.expiryMs !== undefined && istTimeMs(day, 0, 0) > inst.expiryMs) return [];
    const s = session(inst);
    const openMs = istTimeMs(day, s.openHour, s.openMinute);
    let minutes = s.minutes;
    if (day === today) minutes = Math.min(minutes, Math.floor((nowMs - openMs) / 60_000) + 1);
    if (minutes <= 0) return [];
    const walk = this.universe.walks[inst.walk];
    const rng = new Prng(this.seed).fork(`chart:${inst.key}:${day}`);
    // Levels at each minute boundary: a bridge between the day's open and close levels.
    let from: number;
    let to: number;
    if (day === today) {
      const state = this.market.mark(inst, nowMs);
      from = state.open;
      to = state.ltp;
    } else {
      const close = this.closeLevel(inst.walk, day);
      const prev = this.closeLevel(inst.walk, this.previousTradingDay(inst, day));
      const gap = new Prng(this.seed).fork(`gap:${inst.walk}:${day}`).normal() * 0.003;
      from = prev * Math.exp(gap);
      to = close;
    }
    const perMinute = walk.vol / Math.sqrt(TRADING_DAYS_PER_YEAR * s.minutes);
    const path = new Float64Array(minutes + 1);
    for (let k = 1; k <= minutes; k++) path[k] = path[k - 1] + perMinute * rng.normal();
    const drift = Math.log(to / from) - path[minutes];
    const bars: SimBar[] = [];
    const price = (k: number): number => {
      const level = from * Math.exp(path[k] + (drift * k) / minutes);
      const value = day === today ? level : this.market.fairValue(inst, openMs + k * 60_000, level);
      return day === today ? value : Math.max(roundTick(value, inst.tickSize), inst.tickSize);
    };
    let prevClose = day === today ? from : price(0);
    for (let k = 1; k <= minutes; k++) {
      const c = day === today ? roundTick(price(k), inst.tickSize) : price(k);
      const o = prevClose;
      const wiggle = Math.abs(rng.normal()) * perMinute * 0.5;
      bars.push({
        t: (openMs + (k - 1) * 60_000) / 1000,
        o,
        h: roundTick(Math.max(o, c) * (1 + wiggle), inst.tickSize),
        l: roundTick(Math.min(o, c) * (1 - wiggle), inst.tickSize),
        c,
        v: inst.kind === 'INDEX' ? 0 : inst.lotSize * (1 + rng.int(0, 40)),
        oi: 0,
      });
      prevClose = c;
    }
    if (day === today && bars.length > 0) {
      // Today ends exactly at the current price (the model's, on the tick grid).
      bars[bars.length - 1].c = to;
      const b = bars[bars.length - 1];
      b.h = Math.max(b.h, b.c);
      b.l = Math.min(b.l, b.c);
    }
    return bars;
  }

  private previousTradingDay(inst: SimInstrument, day: string): string {
    let d = addDays(day, -1);
    while (!this.universe.isTradingDay(inst.exchange, d)) d = addDays(d, -1);
    return d;
  }

  /**
   * A walk's level at the close of a past trading day: the walk's previous close for the last
   * trading day before today, stepped back one seeded daily move per earlier day.
   */
  private closeLevel(walkIndex: number, day: string): number {
    let byDay = this.closes.get(walkIndex);
    if (!byDay) {
      byDay = new Map();
      this.closes.set(walkIndex, byDay);
    }
    const hit = byDay.get(day);
    if (hit !== undefined) return hit;
    const walk = this.universe.walks[walkIndex];
    const exchange = walk.kind === 'commodity' ? 'MCX' : 'NSE';
    let d = addDays(this.universe.today, -1);
    while (!this.universe.isTradingDay(exchange, d)) d = addDays(d, -1);
    let level = walk.level;
    const daily = walk.vol / Math.sqrt(TRADING_DAYS_PER_YEAR);
    for (let n = 0; n < MAX_HISTORY_DAYS; n++) {
      byDay.set(d, level);
      if (d <= day) break;
      const z = new Prng(this.seed).fork(`close:${walkIndex}:${d}`).normal();
      level = level / Math.exp(daily * z);
      do d = addDays(d, -1);
      while (!this.universe.isTradingDay(exchange, d));
    }
    return byDay.get(day) ?? level;
  }
}
