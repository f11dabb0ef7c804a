import type { TickRecord } from '../market-data/ticks/tick-store';
import { AlertCondition, AlertMetric } from './alert-vocabulary';

const METRIC_CODE: Readonly<Record<AlertMetric, number>> = {
  [AlertMetric.LTP]: 0,
  [AlertMetric.CHANGE_PERCENT]: 1,
  [AlertMetric.VOLUME]: 2,
  [AlertMetric.OI]: 3,
  [AlertMetric.IV]: 4,
};

/** One live alert as the tick path evaluates it (mutable: `armed` moves in place). */
export class AlertRule {
  readonly metricCode: number;
  readonly above: boolean;

  constructor(
    readonly id: string,
    readonly userId: string,
    /** The instrument's key in the tick store. */
    readonly key: number,
    readonly metric: AlertMetric,
    condition: AlertCondition,
    readonly level: number,
    /** How far back across the level the value must go before the alert fires again. */
    readonly band: number,
    /** Fires once only (an alert that places an order or basket). */
    readonly oneShot: boolean,
    public armed: boolean,
  ) {
    this.metricCode = METRIC_CODE[metric];
    this.above = condition === AlertCondition.ABOVE;
  }
}

/** What the evaluation reports; both are rare, so they may allocate. */
export interface AlertSink {
  fired(rule: AlertRule, value: number): void;
  rearmed(rule: AlertRule, value: number): void;
}

/** A watched option's IV in percent by instrument key, NaN when none. */
export type IvSource = (key: number) => number;

/**
 * The live alerts by instrument. `evaluate` runs on the tick path with the records the tick
 * store's drain found changed: one map lookup per changed record, a compare per alert on it,
 * no allocation. A stale record is skipped (a stale feed never fires anything). Hysteresis: an
 * armed alert fires when the value is at or beyond its level and disarms; it re-arms only once
 * the value is back across the level by more than its band, so a value hovering at the level
 * fires once. A one-shot alert never re-arms.
 */
export class AlertBook {
  private readonly byKey = new Map<number, AlertRule[]>();
  private readonly byId = new Map<string, AlertRule>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): AlertRule | undefined {
    return this.byId.get(id);
  }

  /** Ids of the live alerts. */
  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** Instruments with at least one alert. */
  get instruments(): number {
    return this.byKey.size;
  }

  add(rule: AlertRule): void {
    if (this.byId.has(rule.id)) this.remove(rule.id);
    this.byId.set(rule.id, rule);
    const list = this.byKey.get(rule.key);
    if (list) list.push(rule);
    else this.byKey.set(rule.key, [rule]);
  }

  remove(id: string): AlertRule | undefined {
    const rule = this.byId.get(id);
    if (!rule) return undefined;
    this.byId.delete(id);
    const list = this.byKey.get(rule.key);
    if (list) {
      const i = list.indexOf(rule);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byKey.delete(rule.key);
    }
    return rule;
  }

  evaluate(records: readonly TickRecord[], iv: IvSource, sink: AlertSink): void {
    for (let r = 0; r < records.length; r++) {
      const rec = records[r];
      if (rec.stale) continue;
      const rules = this.byKey.get(rec.key);
      if (rules === undefined) continue;
      for (let i = 0; i < rules.length; i++) step(rules[i], rec, iv, sink);
    }
  }

  /** One alert against one record (a new alert is checked at once against the latest state). */
  evaluateOne(rule: AlertRule, rec: TickRecord | undefined, iv: IvSource, sink: AlertSink): void {
    if (rec !== undefined && !rec.stale) step(rule, rec, iv, sink);
  }
}

function step(rule: AlertRule, rec: TickRecord, iv: IvSource, sink: AlertSink): void {
  const v = valueOf(rule.metricCode, rec, iv);
  if (v !== v) return; // NaN: not known yet
  if (rule.armed) {
    if (rule.above ? v >= rule.level : v <= rule.level) {
      rule.armed = false;
      sink.fired(rule, v);
    }
  } else if (!rule.oneShot) {
    if (rule.above ? v < rule.level - rule.band : v > rule.level + rule.band) {
      rule.armed = true;
      sink.rearmed(rule, v);
    }
  }
}

function valueOf(code: number, rec: TickRecord, iv: IvSource): number {
  switch (code) {
    case 0:
      return rec.ltp;
    case 1:
      return rec.changePercent;
    case 2:
      return rec.volume;
    case 3:
      return rec.oi;
    default:
      return iv(rec.key);
  }
}
