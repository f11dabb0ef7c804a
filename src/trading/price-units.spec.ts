import { applyBps, orderValuePaise, rupeesToUnits, tickSizeToUnits } from './price-units';

describe('price units and paise', () => {
  it.each([
    [100, 1_000_000],
    [100.05, 1_000_500],
    [0.1 + 0.2, 3_000],
    [83.1225, 831_225],
    [0, 0],
  ])('converts Rs %p to %p units exactly', (rupees, units) => {
    expect(rupeesToUnits(rupees)).toBe(units);
  });

  it.each([-1, 100.00001, Number.NaN, Number.POSITIVE_INFINITY, 1e9])('refuses Rs %p', (rupees) => {
    expect(rupeesToUnits(rupees)).toBeUndefined();
  });

  it('values whole-paisa prices exactly and rounds quarter-paisa values up to the paisa', () => {
    expect(orderValuePaise(3, 1_000_500)).toBe(30_015);
    expect(orderValuePaise(1, 831_225)).toBe(8_313);
  });

  it('refuses a value that would leave safe integers', () => {
    expect(orderValuePaise(Number.MAX_SAFE_INTEGER, 10_000)).toBeUndefined();
  });

  it('rounds percentages up to the paisa and falls back to one paisa for a missing tick', () => {
    expect(applyBps(1_001, 2_000)).toBe(201);
    expect(tickSizeToUnits(0)).toBe(100);
    expect(tickSizeToUnits(0.0025)).toBe(25);
  });
});
