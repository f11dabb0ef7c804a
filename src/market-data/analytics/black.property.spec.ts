import fc from 'fast-check';
import {
  IvStatus,
  MAX_VOL,
  analyseOption,
  black76Price,
  emptyAnalytics,
  type OptionAnalytics,
  type OptionInput,
} from './black';

function input(over: Partial<OptionInput>): OptionInput {
  return {
    isCall: true,
    price: 1,
    spot: 100,
    forward: 100,
    strike: 100,
    years: 0.1,
    rate: 0.065,
    onFuture: false,
    ...over,
  };
}

function allFinite(a: OptionAnalytics): boolean {
  return [a.iv, a.price, a.delta, a.gamma, a.theta, a.vega, a.rho].every(Number.isFinite);
}

describe('implied volatility: properties', () => {
  it('IV(price(sigma)) = sigma over a grid of moneyness, expiry, volatility and rate', () => {
    let solved = 0;
    for (const isCall of [true, false]) {
      for (const moneyness of [0.7, 0.85, 0.95, 0.99, 1, 1.01, 1.05, 1.15, 1.3]) {
        for (const years of [1 / 365, 7 / 365, 30 / 365, 0.25, 1, 3]) {
          for (const vol of [0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 3]) {
            for (const rate of [0, 0.065]) {
              const forward = 24_000;
              const strike = forward * moneyness;
              const price = black76Price(isCall, forward, strike, years, rate, vol);
              const intrinsic =
                Math.exp(-rate * years) * Math.max(isCall ? forward - strike : strike - forward, 0);
              // Only prices that carry the volatility in double precision (time value not lost
              // in rounding): 1e-7 of the forward.
              if (price - intrinsic < 1e-7 * forward) continue;
              const a = analyseOption(
                emptyAnalytics(),
                input({ isCall, price, forward, spot: forward, strike, years, rate }),
              );
              expect([isCall, moneyness, years, vol, rate, a.status]).toEqual([
                isCall,
                moneyness,
                years,
                vol,
                rate,
                IvStatus.OK,
              ]);
              expect(Math.abs(a.iv - vol)).toBeLessThan(1e-6);
              solved++;
            }
          }
        }
      }
    }
    expect(solved).toBeGreaterThan(800);
  });

  it('IV(price(sigma)) = sigma for random inputs (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.double({ min: 0.6, max: 1.6, noNaN: true }),
        fc.double({ min: 0.5 / 365, max: 2, noNaN: true }),
        fc.double({ min: 0.03, max: 2, noNaN: true }),
        (isCall, moneyness, years, vol) => {
          const forward = 1_000;
          const strike = forward * moneyness;
          const price = black76Price(isCall, forward, strike, years, 0.065, vol);
          const intrinsic =
            Math.exp(-0.065 * years) * Math.max(isCall ? forward - strike : strike - forward, 0);
          fc.pre(price - intrinsic > 1e-6 * forward);
          const a = analyseOption(
            emptyAnalytics(),
            input({ isCall, price, forward, spot: forward, strike, years }),
          );
          return a.status === IvStatus.OK && Math.abs(a.iv - vol) < 1e-5;
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('price rises with volatility; IV rises with price; call delta in [0, 1], put in [-1, 0]', () => {
    for (const isCall of [true, false]) {
      let lastPrice = -1;
      let lastIv = -1;
      for (let vol = 0.05; vol <= 2; vol += 0.05) {
        const price = black76Price(isCall, 100, 105, 0.2, 0.065, vol);
        expect(price).toBeGreaterThan(lastPrice);
        lastPrice = price;
        const a = analyseOption(
          emptyAnalytics(),
          input({ isCall, price, strike: 105, years: 0.2 }),
        );
        expect(a.status).toBe(IvStatus.OK);
        expect(a.iv).toBeGreaterThan(lastIv);
        lastIv = a.iv;
        if (isCall) expect(a.delta >= 0 && a.delta <= 1).toBe(true);
        else expect(a.delta >= -1 && a.delta <= 0).toBe(true);
        expect(a.gamma).toBeGreaterThan(0);
        expect(a.vega).toBeGreaterThan(0);
      }
    }
  });

  it('call prices fall and put prices rise with the strike; deltas fall with the strike', () => {
    let lastCall = Infinity;
    let lastPut = -Infinity;
    let lastDelta = Infinity;
    for (let strike = 80; strike <= 120; strike += 1) {
      const call = black76Price(true, 100, strike, 0.1, 0.065, 0.25);
      const put = black76Price(false, 100, strike, 0.1, 0.065, 0.25);
      expect(call).toBeLessThan(lastCall);
      expect(put).toBeGreaterThan(lastPut);
      lastCall = call;
      lastPut = put;
      const a = analyseOption(emptyAnalytics(), input({ price: call, strike }));
      expect(a.delta).toBeLessThan(lastDelta);
      lastDelta = a.delta;
    }
  });

  it('never returns NaN or an infinity, whatever the input (zero, negative, huge, NaN)', () => {
    const weird = fc.oneof(
      fc.double(),
      fc.constantFrom(0, -0, -1, 1e-300, 1e300, Number.MAX_VALUE, Number.MIN_VALUE, NaN),
      fc.constantFrom(Infinity, -Infinity),
    );
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        weird,
        weird,
        weird,
        weird,
        weird,
        weird,
        (isCall, onFuture, price, spot, forward, strike, years, rate) => {
          const a = analyseOption(emptyAnalytics(), {
            isCall,
            onFuture,
            price,
            spot,
            forward,
            strike,
            years,
            rate,
          });
          return (
            allFinite(a) && (a.status === IvStatus.OK ? a.iv > 0 && a.iv <= MAX_VOL : a.iv === 0)
          );
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('names why there is no IV', () => {
    const status = (over: Partial<OptionInput>) =>
      analyseOption(emptyAnalytics(), input(over)).status;
    expect(status({ years: 0 })).toBe(IvStatus.EXPIRED);
    expect(status({ years: -0.01 })).toBe(IvStatus.EXPIRED);
    expect(status({ price: 0 })).toBe(IvStatus.NO_PRICE);
    expect(status({ price: NaN })).toBe(IvStatus.NO_PRICE);
    expect(status({ forward: NaN })).toBe(IvStatus.NO_UNDERLYING);
    expect(status({ forward: 0 })).toBe(IvStatus.NO_UNDERLYING);
    // Deep in the money below intrinsic: call 80 strike on 100 priced 19.
    expect(status({ strike: 80, price: 19 })).toBe(IvStatus.BELOW_INTRINSIC);
    expect(status({ strike: 80, price: 20 * Math.exp(-0.065 * 0.1) })).toBe(
      IvStatus.BELOW_INTRINSIC,
    );
    // A call worth more than the forward: no volatility gives that.
    expect(status({ price: 150 })).toBe(IvStatus.ABOVE_MAXIMUM);
    expect(status({ strike: -5 })).toBe(IvStatus.INVALID_INPUT);
    expect(status({ rate: NaN })).toBe(IvStatus.INVALID_INPUT);
  });
});
