import { istTimeMs } from './calendar';
import { ChartHistory } from './charts';
import { Market } from './market';
import { Universe } from './universe';

describe('ChartHistory', () => {
  // Wednesday 2026-11-25, 11:00 IST: the session has run 105 minutes.
  const universe = new Universe({ seed: 3, today: '2026-11-25' });
  const now = istTimeMs('2026-11-25', 11, 0);
  const market = new Market(universe, { seed: 3, clock: { now: () => now } });
  const charts = new ChartHistory(universe, market, 3);
  const nifty = universe.get('IDX_I', 13)!;
  const stock = universe.instruments.find((i) => i.kind === 'EQUITY')!;

  it('daily bars: trading days only, stamped at IST midnight, the last one closing at the previous close', () => {
    const bars = charts.daily(stock, '2026-11-16', '2026-11-25', now);
    const days = bars.map((b) => new Date(b.t * 1000 + 19_800_000).toISOString().slice(0, 10));
    // 21-22 Nov are a weekend; toDate (the 25th) is not included.
    expect(days).toEqual([
      '2026-11-16',
      '2026-11-17',
      '2026-11-18',
      '2026-11-19',
      '2026-11-20',
      '2026-11-23',
      '2026-11-24',
    ]);
    for (const b of bars) {
      expect(b.h).toBeGreaterThanOrEqual(Math.max(b.o, b.c));
      expect(b.l).toBeLessThanOrEqual(Math.min(b.o, b.c));
      expect(b.v).toBeGreaterThan(0);
    }
    const prevClose = market.mark(stock, now).prevClose;
    expect(Math.abs(bars[bars.length - 1].c - prevClose)).toBeLessThanOrEqual(stock.tickSize);
  });

  it("today's minutes run from the session open to the current minute and end at the current price", () => {
    const bars = charts.minutes(stock, istTimeMs('2026-11-25', 0, 0), now + 3_600_000, now);
    expect(bars).toHaveLength(106);
    expect(bars[0].t * 1000).toBe(istTimeMs('2026-11-25', 9, 15));
    const state = market.mark(stock, now);
    expect(bars[0].o).toBe(state.open);
    expect(bars[bars.length - 1].c).toBe(state.ltp);
  });

  it('intraday bars aggregate minutes on the session grid (09:15, 09:40, ... for 25 minutes)', () => {
    const from = istTimeMs('2026-11-24', 0, 0);
    const to = istTimeMs('2026-11-25', 0, 0);
    const minutes = charts.minutes(nifty, from, to, now);
    const bars = charts.intraday(nifty, from, to, now, 25);
    expect(minutes).toHaveLength(375);
    expect(bars).toHaveLength(15);
    expect(bars.map((b) => b.t * 1000).slice(0, 2)).toEqual([
      istTimeMs('2026-11-24', 9, 15),
      istTimeMs('2026-11-24', 9, 40),
    ]);
    expect(bars[0].o).toBe(minutes[0].o);
    expect(bars[0].c).toBe(minutes[24].c);
    expect(bars[0].h).toBe(Math.max(...minutes.slice(0, 25).map((m) => m.h)));
    // The day's minutes close where its daily bar closes.
    const [day] = charts.daily(nifty, '2026-11-24', '2026-11-25', now);
    expect(day.c).toBe(minutes[374].c);
  });

  it('is deterministic: the same question gets the same bars', () => {
    const again = new ChartHistory(universe, market, 3);
    expect(again.daily(stock, '2026-10-01', '2026-11-25', now)).toEqual(
      charts.daily(stock, '2026-10-01', '2026-11-25', now),
    );
  });
});
