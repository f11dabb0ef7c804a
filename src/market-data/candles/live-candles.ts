import type { ExchangeSegment } from '@app/dhan';
import type { TickRecord } from '../ticks/tick-store';
import { aggregate, bucketStart, CandleInterval, istDateOf, type Bar } from './candle-math';

/** Today's 1-minute bars of one instrument, built from its feed state since tracking began. */
export class LiveSeries {
  readonly minutes: Bar[] = [];
  /** Record version last read. */
  seen = -1;
  /** Cumulative day volume at the start of the current minute (NaN until known). */
  private volumeAtMinuteStart = NaN;
  private lastVolume = NaN;
  holders = 0;

  constructor(
    readonly key: number,
    readonly segment: ExchangeSegment,
  ) {}

  /**
   * Folds the record's current state in (trade time, else `nowS`, decides the minute). Returns
   * true when the forming bar changed. REST snapshots and states without a price are skipped.
   */
  update(rec: TickRecord, nowS: number, allowRest = false): boolean {
    if (rec.version === this.seen) return false;
    this.seen = rec.version;
    if (!(rec.ltp > 0) || (rec.fromRest && !allowRest)) return false;
    const at = rec.ltt > 0 && rec.ltt <= nowS + 5 ? rec.ltt : nowS;
    const minute = bucketStart(at, CandleInterval.M1, this.segment);
    let bar: Bar | undefined = this.minutes[this.minutes.length - 1];
    if (bar && istDateOf(bar.time) !== istDateOf(minute)) {
      this.minutes.length = 0; // a new day
      bar = undefined;
    }
    const volume = rec.volume >= 0 ? rec.volume : NaN;
    if (!bar || minute > bar.time) {
      this.volumeAtMinuteStart = Number.isFinite(this.lastVolume) ? this.lastVolume : volume;
      bar = {
        time: minute,
        open: rec.ltp,
        high: rec.ltp,
        low: rec.ltp,
        close: rec.ltp,
        volume: 0,
        oi: rec.oi >= 0 ? rec.oi : null,
      };
      this.minutes.push(bar);
    } else {
      if (rec.ltp > bar.high) bar.high = rec.ltp;
      if (rec.ltp < bar.low) bar.low = rec.ltp;
      bar.close = rec.ltp;
      if (rec.oi >= 0) bar.oi = rec.oi;
    }
    if (Number.isFinite(volume)) {
      this.lastVolume = volume;
      if (Number.isFinite(this.volumeAtMinuteStart)) {
        bar.volume = Math.max(0, volume - this.volumeAtMinuteStart);
      }
    }
    return true;
  }

  /** Starts the series from a known price (a REST snapshot too) before the feed's first state. */
  seed(rec: TickRecord, nowS: number): void {
    if (this.minutes.length > 0 || !(rec.ltp > 0)) return;
    this.seen = -1;
    this.update(rec, nowS, true);
  }

  /** Bars of an intraday interval from the live minutes (the last one forming). */
  bars(interval: CandleInterval): Bar[] {
    return interval === CandleInterval.M1
      ? this.minutes.map((b) => ({ ...b }))
      : aggregate(this.minutes, interval, this.segment);
  }

  /** The forming bar of an intraday interval, or undefined before any price. */
  forming(interval: CandleInterval): Bar | undefined {
    const last = this.minutes[this.minutes.length - 1];
    if (!last) return undefined;
    const start = bucketStart(last.time, interval, this.segment);
    let i = this.minutes.length - 1;
    while (i > 0 && this.minutes[i - 1].time >= start) i--;
    return aggregate(this.minutes.slice(i), interval, this.segment)[0];
  }
}
