import { instrumentKey } from '@app/dhan/types';
import { InstrumentKeyMap } from './instrument-key-map';

describe('InstrumentKeyMap', () => {
  it('keeps keys of different segments with the same security id apart', () => {
    const map = new InstrumentKeyMap<string>();
    map.set(instrumentKey(0, 13), 'NIFTY index');
    map.set(instrumentKey(2, 13), 'an NSE_FNO contract');
    expect(map.get(instrumentKey(0, 13))).toBe('NIFTY index');
    expect(map.getParts(2, 13)).toBe('an NSE_FNO contract');
    expect(map.get(instrumentKey(1, 13))).toBeUndefined();
    expect(map.size).toBe(2);
  });

  it('counts an overwrite once and a delete of a missing key not at all', () => {
    const map = new InstrumentKeyMap<number>();
    map.set(instrumentKey(5, 1), 1);
    map.set(instrumentKey(5, 1), 2);
    expect(map.size).toBe(1);
    expect(map.delete(instrumentKey(5, 2))).toBe(false);
    expect(map.delete(instrumentKey(5, 1))).toBe(true);
    expect(map.size).toBe(0);
    expect(map.has(instrumentKey(5, 1))).toBe(false);
  });

  it('handles security ids beyond the small-integer range', () => {
    const map = new InstrumentKeyMap<string>();
    const big = instrumentKey(8, 0xffff_fffe);
    map.set(big, 'x');
    expect(map.get(big)).toBe('x');
    expect([...map.values()]).toEqual(['x']);
  });
});
