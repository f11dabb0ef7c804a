import { Market } from './market';
import { black76 } from './pricing';
import { Universe } from './universe';

describe('Market', () => {
  const universe = new Universe({ seed: 3, today: '2026-11-25' });
  let now = Date.parse('2026-11-25T05:00:00Z');
  const clock = { now: () => now };
  const market = new Market(universe, { seed: 3, clock });
  const nifty = universe.get('IDX_I', 13)!;
  const [expiry] = universe.expiries(nifty);
  const chain = universe.chain(nifty, expiry);

  it('prices calls down and puts up across strikes, on the tick grid', () => {
    const calls = chain.map((s) => market.mark(s.ce!).ltp);
    const puts = chain.map((s) => market.mark(s.pe!).ltp);
    for (let k = 1; k < chain.length; k++) {
      expect(calls[k]).toBeLessThanOrEqual(calls[k - 1]);
      expect(puts[k]).toBeGreaterThanOrEqual(puts[k - 1]);
    }
    for (const p of [...calls, ...puts]) {
      expect(Math.abs(Math.round(p / 0.05) * 0.05 - p)).toBeLessThan(1e-6);
      expect(p).toBeGreaterThanOrEqual(0.05);
    }
  });

  it('keeps options consistent with the underlying (put-call parity near the money)', () => {
    const spot = market.mark(nifty).ltp;
    const atm = chain.reduce((a, b) =>
      Math.abs(b.strike - spot) < Math.abs(a.strike - spot) ? b : a,
    );
    const c = market.mark(atm.ce!).ltp;
    const p = market.mark(atm.pe!).ltp;
    // C - P ~ forward - strike (discounting over a week is negligible here)
    expect(Math.abs(c - p - (spot - atm.strike))).toBeLessThan(spot * 0.003);
  });

  it('moves option prices with the underlying', () => {
    const atm = chain[Math.floor(chain.length / 2)];
    const before = market.mark(atm.ce!).ltp;
    market.setLevel('NIFTY', market.level('NIFTY')! * 1.02);
    expect(market.mark(atm.ce!).ltp).toBeGreaterThan(before);
  });

  it('gives greeks with the right signs', () => {
    const atm = chain[Math.floor(chain.length / 2)];
    const call = market.greeks(atm.ce!)!;
    const put = market.greeks(atm.pe!)!;
    expect(call.delta).toBeGreaterThan(0);
    expect(put.delta).toBeLessThan(0);
    expect(call.gamma).toBeGreaterThan(0);
    expect(call.vega).toBeGreaterThan(0);
    expect(call.theta).toBeLessThan(0);
    expect(call.vol).toBeGreaterThan(0.05);
  });

  it('has a smile: far strikes carry more volatility than the money', () => {
    const atm = chain[Math.floor(chain.length / 2)];
    const far = chain[5];
    expect(market.greeks(far.pe!)!.vol).toBeGreaterThan(market.greeks(atm.pe!)!.vol);
  });

  it('trades accumulate volume and keep day high/low around LTP', () => {
    const stock = universe.get('NSE_EQ', 2885)!;
    for (let i = 0; i < 20; i++) {
      now += 1000;
      market.trade(stock, now);
    }
    const s = market.mark(stock, now);
    expect(s.volume).toBeGreaterThan(0);
    expect(s.high).toBeGreaterThanOrEqual(s.ltp);
    expect(s.low).toBeLessThanOrEqual(s.ltp);
    expect(s.prevClose).toBeGreaterThan(0);
  });

  it('skews activity: ATM strikes tick faster than far ones, near expiries faster than far', () => {
    const atm = chain[Math.floor(chain.length / 2)].ce!;
    const far = chain[0].ce!;
    expect(market.tickRate(atm)).toBeGreaterThan(market.tickRate(far) * 5);
    const nextExpiry = universe.chain(nifty, universe.expiries(nifty)[3])[
      Math.floor(chain.length / 2)
    ];
    expect(market.tickRate(atm)).toBeGreaterThan(market.tickRate(nextExpiry.ce!));
  });

  it('black76 matches a reference value', () => {
    // F=100, K=100, T=1, vol=20%, r=6.5%: ATM call = e^{-rT} F (2N(0.1)-1)
    const g = black76(true, 100, 100, 1, 0.2);
    expect(g.price).toBeCloseTo(Math.exp(-0.065) * 100 * (2 * 0.539827837 - 1), 3);
  });
});
