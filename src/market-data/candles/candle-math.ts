import { ExchangeSegment } from '@app/dhan';

/** Candle intervals (GraphQL `CandleInterval`): minutes, or one trading day. */
export enum CandleInterval {
  M1 = 'M1',
  M5 = 'M5',
  M15 = 'M15',
  M25 = 'M25',
  M60 = 'M60',
  D1 = 'D1',
}

/** Minutes per bar; 0 for daily. */
export const INTERVAL_MINUTES: Readonly<Record<CandleInterval, 0 | 1 | 5 | 15 | 25 | 60>> = {
  [CandleInterval.M1]: 1,
  [CandleInterval.M5]: 5,
  [CandleInterval.M15]: 15,
  [CandleInterval.M25]: 25,
  [CandleInterval.M60]: 60,
  [CandleInterval.D1]: 0,
};

/** One bar; `time` is its start, true UTC epoch seconds (daily: IST midnight of the date). */
export interface Bar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  oi: number | null;
}

export const IST_OFFSET_S = 19_800;
const DAY_S = 86_400;

/** IST calendar date (YYYY-MM-DD) of an epoch second. */
export function istDateOf(epochS: number): string {
  return new Date((epochS + IST_OFFSET_S) * 1000).toISOString().slice(0, 10);
}

/** Epoch seconds of IST midnight starting a date. */
export function istMidnight(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) / 1000 - IST_OFFSET_S;
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_S * 1000).toISOString().slice(0, 10);
}

/** Minutes after IST midnight the segment's session opens: bars are aligned to it (DhanHQ). */
export function sessionOpenMinute(segment: ExchangeSegment): number {
  return segment === ExchangeSegment.MCX_COMM ? 9 * 60 : 9 * 60 + 15;
}

/** Start of the bar holding `epochS`. */
export function bucketStart(
  epochS: number,
  interval: CandleInterval,
  segment: ExchangeSegment,
): number {
  const midnight = istMidnight(istDateOf(epochS));
  const minutes = INTERVAL_MINUTES[interval];
  if (minutes === 0) return midnight;
  const open = midnight + sessionOpenMinute(segment) * 60;
  const step = minutes * 60;
  return open + Math.floor((epochS - open) / step) * step;
}

/** Bars of a finer interval (time-ordered) rolled up into `interval`. */
export function aggregate(
  bars: readonly Bar[],
  interval: CandleInterval,
  segment: ExchangeSegment,
): Bar[] {
  const out: Bar[] = [];
  let current: Bar | undefined;
  for (const b of bars) {
    const start = bucketStart(b.time, interval, segment);
    if (current && current.time === start) {
      if (b.high > current.high) current.high = b.high;
      if (b.low < current.low) current.low = b.low;
      current.close = b.close;
      current.volume += b.volume;
      if (b.oi !== null) current.oi = b.oi;
    } else {
      current = { ...b, time: start };
      out.push(current);
    }
  }
  return out;
}

/**
 * Today's bars from DhanHQ overlaid with the ones built live: live bars win from the first one
 * on, and the first live bar (begun mid-bucket, when tracking started) keeps DhanHQ's open and
 * the wider range of the two.
 */
export function overlay(rest: readonly Bar[], live: readonly Bar[]): Bar[] {
  if (live.length === 0) return [...rest];
  const firstLive = live[0].time;
  const out = rest.filter((b) => b.time < firstLive);
  const same = rest.find((b) => b.time === firstLive);
  const head = { ...live[0] };
  if (same) {
    head.open = same.open;
    head.high = Math.max(same.high, head.high);
    head.low = Math.min(same.low, head.low);
    head.volume = Math.max(same.volume, head.volume);
  }
  out.push(head, ...live.slice(1).map((b) => ({ ...b })));
  return out;
}
