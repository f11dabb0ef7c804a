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
});
