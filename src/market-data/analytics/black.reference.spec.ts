import {
  IvStatus,
  analyseOption,
  black76Price,
  blackScholesPrice,
  emptyAnalytics,
  greeksAt,
  normCdf,
  type OptionInput,
} from './black';

/*
 * Textbook cases (J. Hull, "Options, Futures, and Other Derivatives"; E. G. Haug, "The Complete
 * Guide to Option Pricing Formulas"). The books print 2-4 decimals (in the names); the expected
 * values are the same closed forms evaluated at 40 significant digits (mpmath), printed to 15, so they round to
 * the printed figures and let us hold prices and greeks to 1e-6. `carry` is b = r - q
 * (0 for Black-76). Theta per calendar day, vega and rho per percentage point.
 */
const CASES = [
  {
    name: 'Hull: BS call S=42 K=40 r=10% sigma=20% T=0.5 (4.76)',
    isCall: true,
    spot: 42,
    strike: 40,
    years: 0.5,
    rate: 0.1,
    carry: 0.1,
    vol: 0.2,
    onFuture: false,
    expected: {
      price: 4.75942239287153,
      delta: 0.779131290942669,
      gamma: 0.0499626704059119,
      theta: -0.0124906635468291,
      vega: 0.0881341505960285,
      rho: 0.139820459133603,
    },
  },
  {
    name: 'Hull: BS put S=42 K=40 r=10% sigma=20% T=0.5 (0.81)',
    isCall: false,
    spot: 42,
    strike: 40,
    years: 0.5,
    rate: 0.1,
    carry: 0.1,
    vol: 0.2,
    onFuture: false,
    expected: {
      price: 0.808599372900094,
      delta: -0.220868709057331,
      gamma: 0.0499626704059119,
      theta: -0.00206623149750622,
      vega: 0.0881341505960285,
      rho: -0.05042542576654,
    },
  },
  {
    name: 'Hull: greeks call S=49 K=50 r=5% sigma=20% T=20/52 (2.40; delta 0.522 gamma 0.066 theta -4.31/yr vega 12.1 rho 8.91)',
    isCall: true,
    spot: 49,
    strike: 50,
    years: 0.38461538461538464,
    rate: 0.05,
    carry: 0.05,
    vol: 0.2,
    onFuture: false,
    expected: {
      price: 2.40052732327171,
      delta: 0.521604661066396,
      gamma: 0.0655440393478444,
      theta: -0.011795424172418,
      vega: 0.121054798826288,
      rho: 0.0890696194960835,
    },
  },
  {
    name: 'Hull: index call S=930 K=900 r=8% q=3% sigma=20% T=2/12 (51.83)',
    isCall: true,
    spot: 930,
    strike: 900,
    years: 0.16666666666666666,
    rate: 0.08,
    carry: 0.05,
    vol: 0.2,
    onFuture: false,
    expected: {
      price: 51.8329567964908,
      delta: 0.703418008601192,
      gamma: 0.00450740386169434,
      theta: -0.291866774947465,
      vega: 1.29948453332648,
      rho: 1.00390965200436,
    },
  },
  {
    name: 'Haug: GBSM put S=75 K=70 T=0.5 r=10% b=5% sigma=35% (4.0870)',
    isCall: false,
    spot: 75,
    strike: 70,
    years: 0.5,
    rate: 0.1,
    carry: 0.05,
    vol: 0.35,
    onFuture: false,
    expected: {
      price: 4.08695382863535,
      delta: -0.299707917561591,
      gamma: 0.0184663838262898,
      theta: -0.0132319074765258,
      vega: 0.181778465790041,
      rho: -0.132825238228773,
    },
  },
  {
    name: 'Haug: Black-76 call F=19 K=19 T=0.75 r=10% sigma=28% (1.7011)',
    isCall: true,
    spot: 19,
    strike: 19,
    years: 0.75,
    rate: 0.1,
    carry: 0,
    vol: 0.28,
    onFuture: true,
    expected: {
      price: 1.70105072523627,
      delta: 0.508636235933652,
      gamma: 0.0797450346791211,
      theta: -0.00262570647185631,
      vega: 0.0604547107902417,
      rho: -0.012757880439272,
    },
  },
  {
    name: 'Haug: Black-76 put F=19 K=19 T=0.75 r=10% sigma=28% (1.7011)',
    isCall: false,
    spot: 19,
    strike: 19,
    years: 0.75,
    rate: 0.1,
    carry: 0,
    vol: 0.28,
    onFuture: true,
    expected: {
      price: 1.70105072523627,
      delta: -0.419107250394901,
      gamma: 0.0797450346791211,
      theta: -0.00262570647185631,
      vega: 0.0604547107902417,
      rho: -0.012757880439272,
    },
  },
  {
    name: 'Hull: Black-76 put F=20 K=20 r=9% sigma=25% T=4/12 (1.12)',
    isCall: false,
    spot: 20,
    strike: 20,
    years: 0.3333333333333333,
    rate: 0.09,
    carry: 0,
    vol: 0.25,
    onFuture: true,
    expected: {
      price: 1.11664145655894,
      delta: -0.457306730360281,
      gamma: 0.133764502661346,
      theta: -0.00430563986897675,
      vega: 0.0445881675537819,
      rho: -0.00372213818852981,
    },
  },
];

function inputOf(c: (typeof CASES)[number], price = 0): OptionInput {
  return {
    isCall: c.isCall,
    price,
    spot: c.spot,
    forward: c.spot * Math.exp(c.carry * c.years),
    strike: c.strike,
    years: c.years,
    rate: c.rate,
    onFuture: c.onFuture,
  };
}

describe('Black-Scholes and Black-76 against published values', () => {
  it('the normal CDF is accurate to double precision', () => {
    // Values of Phi(x) at 20 digits (mpmath).
    expect(normCdf(0)).toBe(0.5);
    expect(Math.abs(normCdf(1) - 0.841344746068543)).toBeLessThan(1e-15);
    expect(Math.abs(normCdf(-1.96) - 0.0249978951482204)).toBeLessThan(1e-15);
    // Far tail: relative error below 1e-7.
    expect(Math.abs(normCdf(-8) / 6.22096057427178e-16 - 1)).toBeLessThan(1e-7);
    expect(normCdf(40)).toBe(1);
    expect(normCdf(-40)).toBe(0);
  });

  it.each(CASES)('$name: price within 1e-6', (c) => {
    const price = c.onFuture
      ? black76Price(c.isCall, c.spot, c.strike, c.years, c.rate, c.vol)
      : blackScholesPrice(c.isCall, c.spot, c.strike, c.years, c.rate, c.rate - c.carry, c.vol);
    expect(Math.abs(price - c.expected.price)).toBeLessThan(1e-6);
  });

  it.each(CASES)('$name: greeks within 1e-6', (c) => {
    const g = greeksAt(emptyAnalytics(), inputOf(c), c.vol);
    expect(g.status).toBe(IvStatus.OK);
    for (const k of ['price', 'delta', 'gamma', 'theta', 'vega', 'rho'] as const) {
      expect([k, Math.abs(g[k] - c.expected[k]) < 1e-6]).toEqual([k, true]);
    }
  });

  it.each(CASES)('$name: implied volatility of the published price within 1e-4', (c) => {
    const g = analyseOption(emptyAnalytics(), inputOf(c, c.expected.price));
    expect(g.status).toBe(IvStatus.OK);
    expect(Math.abs(g.iv - c.vol)).toBeLessThan(1e-4);
    // Greeks at the solved volatility are the published ones.
    expect(Math.abs(g.delta - c.expected.delta)).toBeLessThan(1e-6);
    expect(Math.abs(g.vega - c.expected.vega)).toBeLessThan(1e-6);
  });

  it('the printed (rounded) prices still give the printed volatility to the book precision', () => {
    // Hull: c = 4.76 for sigma = 20 %: IV of the rounded price is within 0.2 vol point.
    const hull = CASES[0];
    const g = analyseOption(emptyAnalytics(), inputOf(hull, 4.76));
    expect(g.status).toBe(IvStatus.OK);
    expect(Math.abs(g.iv - 0.2)).toBeLessThan(2e-3);
  });
});
