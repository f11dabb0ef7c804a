import { Market, Universe, black76, smileVol } from '@app/dhan-simulator';
import { IvStatus, analyseOption, emptyAnalytics, YEAR_MS, type OptionAnalytics } from './black';
import { chainStats, maxPain, parityForward, type ChainPoint, type ChainSide } from './chain';

function side(
  price: number,
  oi = 0,
  volume = 0,
  analytics: OptionAnalytics = emptyAnalytics(),
): ChainSide {
  return { price, oi, volume, analytics };
}

describe("the simulator's NIFTY chain", () => {
  const universe = new Universe({ seed: 7, today: '2026-11-25' });
  const now = Date.parse('2026-11-25T05:00:00Z');
  const market = new Market(universe, { seed: 7, clock: { now: () => now }, volatilityScale: 0 });
  const nifty = universe.get('IDX_I', 13)!;
  const [expiry] = universe.expiries(nifty);
  const chain = universe.chain(nifty, expiry);
  const RATE = 0.065; // the simulator's discount rate
  const walk = universe.walks[nifty.walk];
  const spot = market.level(walk.name)!;
  const expiryMs = chain[0].ce!.expiryMs!;
  const years = (expiryMs - now) / YEAR_MS;
  const forward = spot * Math.exp(walk.carry * years);
  const df = Math.exp(-RATE * years);
  const atm = chain.reduce((a, b) =>
    Math.abs(b.strike - spot) < Math.abs(a.strike - spot) ? b : a,
  );
  const near = chain.filter((s) => Math.abs(s.strike - atm.strike) <= 10 * 50);

  it('satisfies put-call parity at every strike: C - P = D (F - K) within 1e-6', () => {
    expect(near.length).toBeGreaterThan(15);
    for (const s of near) {
      const c = market.fairValue(s.ce!, now);
      const p = market.fairValue(s.pe!, now);
      expect(Math.abs(c - p - df * (forward - s.strike))).toBeLessThan(1e-6);
    }
  });

  it('gives back its forward by parity at the ATM strike, and its smile volatility as IV', () => {
    const points: ChainPoint[] = near.map((s) => ({
      strike: s.strike,
      call: side(market.fairValue(s.ce!, now)),
      put: side(market.fairValue(s.pe!, now)),
    }));
    const f = parityForward(points, spot, df);
    expect(Math.abs(f - forward)).toBeLessThan(1e-6);
    for (const s of near) {
      const vol = smileVol(walk.vol, forward, s.strike, years);
      for (const isCall of [true, false]) {
        const price = market.fairValue(isCall ? s.ce! : s.pe!, now);
        const a = analyseOption(emptyAnalytics(), {
          isCall,
          price,
          spot,
          forward: f,
          strike: s.strike,
          years,
          rate: RATE,
          onFuture: false,
        });
        expect(a.status).toBe(IvStatus.OK);
        // The simulator's normal CDF is accurate to 7.5e-8, our IV to 1e-4 of its vol.
        expect(Math.abs(a.iv - vol)).toBeLessThan(1e-4);
        // Its own greeks (Black-76 on the forward) agree on vega and gamma x (F/S)^2.
        const sim = black76(isCall, forward, s.strike, years, vol);
        expect(Math.abs(a.vega - sim.vega)).toBeLessThan(1e-3);
      }
    }
  });
});

describe('chain figures', () => {
  const ok = (iv: number, delta: number): OptionAnalytics => ({
    ...emptyAnalytics(),
    status: IvStatus.OK,
    iv,
    delta,
  });

  it('PCR by OI and volume, ATM IV, 25-delta skew', () => {
    const points: ChainPoint[] = [
      { strike: 90, call: side(11, 100, 10, ok(0.25, 0.8)), put: side(1, 300, 40, ok(0.3, -0.24)) },
      { strike: 100, call: side(4, 200, 50, ok(0.2, 0.5)), put: side(4, 200, 50, ok(0.22, -0.5)) },
      {
        strike: 110,
        call: side(1, 300, 40, ok(0.18, 0.26)),
        put: side(11, 100, 10, ok(0.19, -0.8)),
      },
    ];
    const stats = chainStats(points, 101);
    expect(stats.pcrOi).toBeCloseTo(600 / 600, 12);
    expect(stats.pcrVolume).toBeCloseTo(100 / 100, 12);
    expect(stats.atmIv).toBeCloseTo(0.21, 12);
    expect(stats.ivSkew).toBeCloseTo(0.3 - 0.18, 12);
    expect(stats.totalCallOi).toBe(600);
  });

  it('max pain is the strike with the least payout to holders (checked by brute force)', () => {
    const strikes = [100, 110, 120, 130, 140, 150];
    const calls = [500, 50, 900, 30, 10, 700];
    const puts = [20, 800, 40, 600, 300, 5];
    const points: ChainPoint[] = strikes.map((strike, i) => ({
      strike,
      call: side(1, calls[i]),
      put: side(1, puts[i]),
    }));
    const payout = (s: number) =>
      strikes.reduce(
        (sum, k, i) => sum + calls[i] * Math.max(s - k, 0) + puts[i] * Math.max(k - s, 0),
        0,
      );
    const expected = strikes.reduce((a, b) => (payout(b) < payout(a) ? b : a));
    expect(maxPain(points)).toBe(expected);
    expect(maxPain([])).toBeNaN();
    expect(maxPain([{ strike: 100, call: side(1, 0), put: null }])).toBeNaN();
  });

  it('no forward without a call and a put price near the money', () => {
    const points: ChainPoint[] = [{ strike: 100, call: side(5), put: side(NaN) }];
    expect(parityForward(points, 100, 0.99)).toBeNaN();
  });
});
