import { TickRecord } from '../market-data/ticks/tick-store';
import { AlertBook, AlertRule, type AlertSink } from './alert-book';
import { AlertCondition, AlertMetric } from './alert-vocabulary';

const KEY = 1_000_123;

function record(ltp: number, stale = false): TickRecord {
  const rec = new TickRecord(KEY, 1);
  rec.ltp = ltp;
  rec.stale = stale;
  return rec;
}

function sink() {
  const fired: number[] = [];
  const rearmed: number[] = [];
  const s: AlertSink = {
    fired: (_rule, v) => fired.push(v),
    rearmed: (_rule, v) => rearmed.push(v),
  };
  return { s, fired, rearmed };
}

const rule = (over: Partial<{ oneShot: boolean; condition: AlertCondition; band: number }> = {}) =>
  new AlertRule(
    'a1',
    'u1',
    KEY,
    AlertMetric.LTP,
    over.condition ?? AlertCondition.ABOVE,
    100,
    over.band ?? 1,
    over.oneShot ?? false,
    true,
  );

const noIv = () => NaN;

describe('AlertBook', () => {
  it('fires once at the crossing and again only after the value went back past the band', () => {
    const book = new AlertBook();
    book.add(rule());
    const { s, fired, rearmed } = sink();
    for (const v of [99, 100, 101, 99.5, 100.5, 99.1, 101]) book.evaluate([record(v)], noIv, s);
    expect(fired).toEqual([100]);
    expect(rearmed).toEqual([]);
    for (const v of [98.9, 100.2]) book.evaluate([record(v)], noIv, s);
    expect(rearmed).toEqual([98.9]);
    expect(fired).toEqual([100, 100.2]);
  });

  it('BELOW mirrors ABOVE', () => {
    const book = new AlertBook();
    book.add(rule({ condition: AlertCondition.BELOW }));
    const { s, fired, rearmed } = sink();
    for (const v of [101, 100, 100.9, 101.1, 99]) book.evaluate([record(v)], noIv, s);
    expect(fired).toEqual([100, 99]);
    expect(rearmed).toEqual([101.1]);
  });

  it('a stale record fires nothing, whatever its price', () => {
    const book = new AlertBook();
    const r = rule();
    book.add(r);
    const { s, fired } = sink();
    book.evaluate([record(150, true)], noIv, s);
    book.evaluateOne(r, record(150, true), noIv, s);
    expect(fired).toEqual([]);
    expect(r.armed).toBe(true);
  });

  it('a one-shot alert never re-arms; an unknown value (NaN) is skipped', () => {
    const book = new AlertBook();
    book.add(rule({ oneShot: true }));
    const { s, fired, rearmed } = sink();
    for (const v of [NaN, 101, 50, 101]) book.evaluate([record(v)], noIv, s);
    expect(fired).toEqual([101]);
    expect(rearmed).toEqual([]);
  });

  it('IV reads the source; a removed alert is not evaluated', () => {
    const book = new AlertBook();
    const iv = new AlertRule(
      'i',
      'u',
      KEY,
      AlertMetric.IV,
      AlertCondition.ABOVE,
      20,
      0.5,
      false,
      true,
    );
    book.add(iv);
    book.add(rule());
    const { s, fired } = sink();
    book.evaluate([record(50)], () => 21, s);
    expect(fired).toEqual([21]);
    book.remove('a1');
    book.remove('i');
    book.evaluate([record(150)], () => 30, s);
    expect(fired).toEqual([21]);
    expect(book.size).toBe(0);
  });

  // The other metrics read their own field of the record; the price is set far beyond every
  // level, so an alert that read the LTP instead would fire on the first record.
  type Field = 'changePercent' | 'volume' | 'oi';
  const other = (field: Field, value: number): TickRecord => {
    const rec = record(1_000_000);
    rec[field] = value;
    return rec;
  };
  const metricRule = (
    metric: AlertMetric,
    condition: AlertCondition,
    level: number,
    band: number,
    id = 'm1',
  ) => new AlertRule(id, 'u1', KEY, metric, condition, level, band, false, true);

  it.each([
    // Day change rising through +2 % (band 0.25 points).
    [
      AlertMetric.CHANGE_PERCENT,
      'changePercent',
      AlertCondition.ABOVE,
      2,
      0.25,
      [1.5, 2, 2.4, 1.9, 2.1, 1.8, 2.6],
      [1.7, 2.05],
    ],
    // Day change falling through -3 % (a drop alert).
    [
      AlertMetric.CHANGE_PERCENT,
      'changePercent',
      AlertCondition.BELOW,
      -3,
      0.5,
      [-1, -3.2, -2.8, -3.4, -2.6, -3.1],
      [-2.4, -3],
    ],
    // Volume (the session's running total) crossing a level.
    [
      AlertMetric.VOLUME,
      'volume',
      AlertCondition.ABOVE,
      500_000,
      1_000,
      [120_000, 499_999, 500_000, 650_000, 499_500, 900_000],
      [4_000, 510_000],
    ],
    // Open interest crossing a level, both ways.
    [
      AlertMetric.OI,
      'oi',
      AlertCondition.ABOVE,
      2_000_000,
      10_000,
      [1_950_000, 2_000_050, 1_995_000, 2_004_000],
      [1_985_000, 2_000_000],
    ],
    [
      AlertMetric.OI,
      'oi',
      AlertCondition.BELOW,
      1_000_000,
      10_000,
      [1_200_000, 999_000, 1_005_000, 990_000],
      [1_020_000, 1_000_000],
    ],
  ] as const)(
    '%s from %s %s %d: fires once at the crossing, re-arms only past the band (band %d)',
    (metric, field, condition, level, band, hovering, backAndAgain) => {
      const book = new AlertBook();
      const r = metricRule(metric, condition, level, band);
      book.add(r);
      const { s, fired, rearmed } = sink();
      for (const v of hovering) book.evaluate([other(field, v)], noIv, s);
      // The first value at or beyond the level, and nothing more while it hovers within the band.
      const crossing = hovering.find((v) =>
        condition === AlertCondition.ABOVE ? v >= level : v <= level,
      );
      expect(fired).toEqual([crossing]);
      expect(rearmed).toEqual([]);
      expect(r.armed).toBe(false);
      const [back, again] = backAndAgain;
      book.evaluate([other(field, back)], noIv, s);
      expect(rearmed).toEqual([back]);
      expect(r.armed).toBe(true);
      book.evaluate([other(field, again)], noIv, s);
      expect(fired).toEqual([crossing, again]);
    },
  );

  it('CHANGE_PERCENT, VOLUME and OI not yet known (NaN) are skipped, not taken as zero', () => {
    const book = new AlertBook();
    // Each would fire at once on a zero (or on the price).
    const rules = [
      metricRule(AlertMetric.CHANGE_PERCENT, AlertCondition.BELOW, 1, 0.1, 'c'),
      metricRule(AlertMetric.VOLUME, AlertCondition.ABOVE, 10, 1, 'v'),
      metricRule(AlertMetric.OI, AlertCondition.BELOW, 10, 1, 'o'),
    ];
    for (const r of rules) book.add(r);
    const { s, fired } = sink();
    // An LTP-only record (a ticker packet before any quote): the other fields are NaN.
    book.evaluate([record(1_000_000)], noIv, s);
    expect(fired).toEqual([]);
    expect(rules.map((r) => r.armed)).toEqual([true, true, true]);
  });
});
