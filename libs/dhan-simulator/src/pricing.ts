/** Black-76 on a forward with a simple volatility smile: option prices and greeks. */

export interface OptionGreeks {
  price: number;
  delta: number;
  gamma: number;
  /** Per calendar day. */
  theta: number;
  /** Per one volatility point (1%). */
  vega: number;
  /** Annualised volatility used, as a fraction. */
  vol: number;
}

export const YEAR_MS = 365 * 86_400_000;
const RATE = 0.065;

/** Standard normal CDF (Abramowitz-Stegun 26.2.17, error < 7.5e-8). */
export function normCdf(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const poly =
    t *
    (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const tail = normPdf(x) * poly;
  return x >= 0 ? 1 - tail : tail;
}

export function normPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** Volatility at a strike: ATM volatility bent by log-moneyness (puts a little richer). */
export function smileVol(atmVol: number, forward: number, strike: number, years: number): number {
  const m = Math.log(strike / forward) / Math.sqrt(Math.max(years, 1 / 365));
  const vol = atmVol * (1 + 0.08 * m * m - 0.06 * m);
  return Math.min(Math.max(vol, atmVol * 0.6), atmVol * 3);
}

export function black76(
  isCall: boolean,
  forward: number,
  strike: number,
  years: number,
  vol: number,
): OptionGreeks {
  const t = Math.max(years, 1e-6);
  const df = Math.exp(-RATE * t);
  const sd = vol * Math.sqrt(t);
  const d1 = (Math.log(forward / strike) + 0.5 * sd * sd) / sd;
  const d2 = d1 - sd;
  const nd1 = normCdf(d1);
  const nd2 = normCdf(d2);
  const pdf = normPdf(d1);
  const price = isCall
    ? df * (forward * nd1 - strike * nd2)
    : df * (strike * (1 - nd2) - forward * (1 - nd1));
  const delta = isCall ? df * nd1 : df * (nd1 - 1);
  const gamma = (df * pdf) / (forward * sd);
  const vega = (df * forward * pdf * Math.sqrt(t)) / 100;
  const thetaYear = (-df * forward * pdf * vol) / (2 * Math.sqrt(t)) + RATE * price;
  return { price: Math.max(price, 0), delta, gamma, theta: thetaYear / 365, vega, vol };
}

export function forwardPrice(spot: number, carry: number, years: number): number {
  return spot * Math.exp(carry * Math.max(years, 0));
}
