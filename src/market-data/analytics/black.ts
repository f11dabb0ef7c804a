/*
 * Option pricing, implied volatility and greeks: Black-Scholes (options on a spot with a
 * forward) and Black-76 (options on a future), written once as the generalised model on a
 * forward F and a discount factor D = exp(-rT):
 *
 *   call = D (F N(d1) - K N(d2)),  put = D (K N(-d2) - F N(-d1)),
 *   d1 = (ln(F/K) + s^2/2) / s,    d2 = d1 - s,   s = sigma sqrt(T).
 *
 * Black-Scholes is F = S exp((r - q) T); Black-76 is F = the future (S = F). Greeks are taken
 * against the underlying S the trader watches (the index or stock for Black-Scholes, the future
 * for Black-76), with the carry b = ln(F/S)/T held (Haug, "The Complete Guide to Option Pricing
 * Formulas", generalised Black-Scholes-Merton).
 *
 * Framework-free and allocation-free on the hot path: results are written into an object the
 * caller owns. Nothing here ever returns NaN or an infinity: every failure is a status.
 */

/** Why an option has (or has no) implied volatility. */
export enum IvStatus {
  OK = 'OK',
  /** At or past the expiry instant. */
  EXPIRED = 'EXPIRED',
  /** No bid/ask and no last price. */
  NO_PRICE = 'NO_PRICE',
  /** No price for the underlying (no forward). */
  NO_UNDERLYING = 'NO_UNDERLYING',
  /** Price at or below the intrinsic value on the forward: no volatility fits. */
  BELOW_INTRINSIC = 'BELOW_INTRINSIC',
  /** Price at or above what any volatility up to the solver's bound gives. */
  ABOVE_MAXIMUM = 'ABOVE_MAXIMUM',
  /** Strike, rate or another input not a usable number. */
  INVALID_INPUT = 'INVALID_INPUT',
}

/** Highest implied volatility the solver returns (1,000 %); a price above it is ABOVE_MAXIMUM. */
export const MAX_VOL = 10;
/** Calendar year used for time to expiry and theta per day (ACT/365). */
export const DAYS_PER_YEAR = 365;
export const YEAR_MS = DAYS_PER_YEAR * 86_400_000;

const SQRT_2PI = 2.5066282746310002;
const INV_SQRT_2PI = 0.3989422804014327;

/** exp(-x^2/2) of the last normCdf argument: lets callers get the density without a second exp. */
let lastGauss = 0;

/**
 * Standard normal CDF to double precision (Hart 1968 as given by G. West, "Better
 * approximations to cumulative normal functions", 2005; absolute error < 1e-14).
 */
export function normCdf(x: number): number {
  const a = x < 0 ? -x : x;
  if (!(a <= 37)) {
    lastGauss = 0;
    if (x !== x) return 0.5;
    return x > 0 ? 1 : 0;
  }
  const e = Math.exp(-0.5 * a * a);
  lastGauss = e;
  let c: number;
  if (a < 7.07106781186547) {
    let n = 3.52624965998911e-2 * a + 0.700383064443688;
    n = n * a + 6.37396220353165;
    n = n * a + 33.912866078383;
    n = n * a + 112.079291497871;
    n = n * a + 221.213596169931;
    n = n * a + 220.206867912376;
    let d = 8.83883476483184e-2 * a + 1.75566716318264;
    d = d * a + 16.064177579207;
    d = d * a + 86.7807322029461;
    d = d * a + 296.564248779674;
    d = d * a + 637.333633378831;
    d = d * a + 793.826512519948;
    d = d * a + 440.413735824752;
    c = (e * n) / d;
  } else {
    let b = a + 0.65;
    b = a + 4 / b;
    b = a + 3 / b;
    b = a + 2 / b;
    b = a + 1 / b;
    c = e / b / SQRT_2PI;
  }
  return x > 0 ? 1 - c : c;
}

export function normPdf(x: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

/**
 * Undiscounted Black value of a call or put on forward F, strike K, total volatility
 * s = sigma sqrt(T) (s > 0, F > 0, K > 0).
 */
export function blackUndiscounted(isCall: boolean, f: number, k: number, s: number): number {
  const d1 = Math.log(f / k) / s + 0.5 * s;
  const d2 = d1 - s;
  return isCall ? f * normCdf(d1) - k * normCdf(d2) : k * normCdf(-d2) - f * normCdf(-d1);
}

/** Black-76: an option on a future F, discounted at rate r over T years. */
export function black76Price(
  isCall: boolean,
  forward: number,
  strike: number,
  years: number,
  rate: number,
  vol: number,
): number {
  if (!(years > 0) || !(vol > 0)) {
    const intrinsic = isCall ? forward - strike : strike - forward;
    return Math.exp(-rate * Math.max(years, 0)) * Math.max(intrinsic, 0);
  }
  return (
    Math.exp(-rate * years) * blackUndiscounted(isCall, forward, strike, vol * Math.sqrt(years))
  );
}

/** Black-Scholes(-Merton): an option on a spot S with dividend yield q (forward S e^{(r-q)T}). */
export function blackScholesPrice(
  isCall: boolean,
  spot: number,
  strike: number,
  years: number,
  rate: number,
  dividendYield: number,
  vol: number,
): number {
  const forward = spot * Math.exp((rate - dividendYield) * Math.max(years, 0));
  return black76Price(isCall, forward, strike, years, rate, vol);
}

/** What the solver and the greeks need about one option. */
export interface OptionInput {
  isCall: boolean;
  /** Option price (mid, else last). */
  price: number;
  /** Price of the underlying the greeks are taken against (spot, or the future for Black-76). */
  spot: number;
  /** Forward to expiry (the future for Black-76; S e^{(r-q)T} or put-call parity otherwise). */
  forward: number;
  strike: number;
  /** Time to the expiry instant, years (ACT/365). */
  years: number;
  /** Continuously compounded risk-free rate (0.065 = 6.5 %). */
  rate: number;
  /**
   * True for options on futures (Black-76): rho with the future held (-T x price). False for
   * options on a spot: rho with the carry's dividend yield held (K T D N(d2)).
   */
  onFuture: boolean;
}

/** Result of `analyseOption`; every number is finite (0 when the status is not OK). */
export interface OptionAnalytics {
  status: IvStatus;
  /** Implied volatility, annualised, as a fraction (0.15 = 15 %). */
  iv: number;
  /** Model price at `iv` (equals the input price within the solver's tolerance). */
  price: number;
  delta: number;
  gamma: number;
  /** Per calendar day (ACT/365), as the option's value changes when a day passes. */
  theta: number;
  /** Per one volatility point (1 %). */
  vega: number;
  /** Per one percentage point of the rate. */
  rho: number;
}

export function emptyAnalytics(): OptionAnalytics {
  return {
    status: IvStatus.NO_PRICE,
    iv: 0,
    price: 0,
    delta: 0,
    gamma: 0,
    theta: 0,
    vega: 0,
    rho: 0,
  };
}

function fail(out: OptionAnalytics, status: IvStatus): OptionAnalytics {
  out.status = status;
  out.iv = 0;
  out.price = 0;
  out.delta = 0;
  out.gamma = 0;
  out.theta = 0;
  out.vega = 0;
  out.rho = 0;
  return out;
}

/**
 * Greeks at volatility `vol` (sigma > 0), written into `out` with status OK. Theta per
 * calendar day, vega per vol point, rho per rate point.
 */
export function greeksAt(out: OptionAnalytics, o: OptionInput, vol: number): OptionAnalytics {
  return greeksWith(
    out,
    o,
    vol,
    Math.sqrt(o.years),
    Math.exp(-o.rate * o.years),
    Math.log(o.forward) - Math.log(o.strike),
  );
}

/** `greeksAt` with sqrt(T), the discount factor and ln(F/K) already known (the solver's). */
function greeksWith(
  out: OptionAnalytics,
  o: OptionInput,
  vol: number,
  sqrtT: number,
  df: number,
  x: number,
): OptionAnalytics {
  const { isCall, forward: f, strike: k, years: t, rate: r, spot } = o;
  const sd = vol * sqrtT;
  const d1 = x / sd + 0.5 * sd;
  const d2 = d1 - sd;
  const nd1 = normCdf(d1);
  const pdf1 = lastGauss * INV_SQRT_2PI;
  const nd2 = normCdf(d2);
  const s = spot > 0 ? spot : f;
  // e^{(b-r)T} = D F / S: the discounted carry from the underlying to the forward.
  const carryDf = (df * f) / s;
  const b = Math.log(f / s) / t;
  const call = df * (f * nd1 - k * nd2);
  const price = isCall ? call : call - df * (f - k);
  const decay = (-df * f * pdf1 * vol) / (2 * sqrtT);
  let theta: number;
  let rho: number;
  if (isCall) {
    out.delta = carryDf * nd1;
    theta = decay - (b - r) * df * f * nd1 - r * k * df * nd2;
    rho = o.onFuture ? -t * price : k * t * df * nd2;
  } else {
    out.delta = carryDf * (nd1 - 1);
    theta = decay + (b - r) * df * f * (1 - nd1) + r * k * df * (1 - nd2);
    rho = o.onFuture ? -t * price : -k * t * df * (1 - nd2);
  }
  out.status = IvStatus.OK;
  out.iv = vol;
  out.price = price > 0 ? price : 0;
  out.gamma = (carryDf * pdf1) / (s * sd);
  out.theta = theta / DAYS_PER_YEAR;
  out.vega = (df * f * pdf1 * sqrtT) / 100;
  out.rho = rho / 100;
  if (
    !Number.isFinite(out.delta) ||
    !Number.isFinite(out.gamma) ||
    !Number.isFinite(out.theta) ||
    !Number.isFinite(out.vega) ||
    !Number.isFinite(out.rho) ||
    !Number.isFinite(out.price)
  ) {
    return fail(out, IvStatus.INVALID_INPUT);
  }
  return out;
}

/** Iterations of the last `solveTotalVol` call (for tests and the benchmark). */
export let lastIterations = 0;
/** ln(F/K) of the last `solveTotalVol` call: the greeks reuse it. */
let lastLogMoneyness = 0;

/**
 * Implied total volatility s = sigma sqrt(T) of an out-of-the-money option's undiscounted
 * value `v` on forward f, strike k (f, k > 0, 0 < v). Halley steps on the logarithm of the
 * price (nearly linear in s even for far out-of-the-money prices, as in Jaeckel's "By
 * Implication"), started at Corrado-Miller's estimate (near the money) or the inflection point
 * s = sqrt(2 |ln(F/K)|), inside a bracket that shrinks every iteration; a step that leaves the
 * bracket is replaced by bisection. Returns -1 when no s up to `sMax` fits (ABOVE_MAXIMUM).
 */
export function solveTotalVol(
  isCall: boolean,
  v: number,
  f: number,
  k: number,
  sMax: number,
): number {
  // An out-of-the-money call is worth less than F, a put less than K, whatever the volatility.
  if (v >= (isCall ? f : k)) return -1;
  const x = Math.log(f) - Math.log(k);
  lastLogMoneyness = x;
  const lnV = Math.log(v);
  let lo = 0;
  let hi = sMax;
  // Corrado-Miller (1996), on the forward.
  const half = v - (isCall ? f - k : k - f) / 2;
  const disc = half * half - ((f - k) * (f - k)) / Math.PI;
  let s = disc > 0 ? (SQRT_2PI / (f + k)) * (half + Math.sqrt(disc)) : 0;
  if (!(s > 0 && s < sMax)) {
    // Far from the money: ln(v / sqrt(FK)) ~ -x^2 / (2 s^2), a start below the root, from
    // which Newton on the (concave) log price climbs without overshooting.
    const beta = lnV - 0.5 * (Math.log(f) + Math.log(k));
    s = beta < -1 ? Math.abs(x) / Math.sqrt(-2 * beta) : Math.sqrt(2 * Math.abs(x)) || 0.1;
    if (!(s < sMax)) s = 0.5 * sMax;
  }
  let i = 0;
  for (; i < 100; i++) {
    const d1 = x / s + 0.5 * s;
    const d2 = d1 - s;
    const nd1 = normCdf(isCall ? d1 : -d1);
    const pdf1 = lastGauss * INV_SQRT_2PI;
    const nd2 = normCdf(isCall ? d2 : -d2);
    const value = isCall ? f * nd1 - k * nd2 : k * nd2 - f * nd1;
    if (value > v) hi = s;
    else lo = s;
    let next: number;
    if (Math.abs(value - v) <= 1e-11 * v) break;
    if (value > 0) {
      // g = ln(value) - ln(v); g' = vega / value; g'' / g' = volga / vega - g'.
      const g = Math.log(value) - lnV;
      const g1 = (f * pdf1) / value;
      const newton = g / g1;
      const denom = 1 - 0.5 * newton * ((d1 * d2) / s - g1);
      next = s - (denom > 0.5 && denom < 2 ? newton / denom : newton);
    } else {
      next = NaN;
    }
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    // A Halley step this small leaves an error of about its cube: far below double precision
    // of the price, so the step is taken without evaluating the price once more to confirm.
    if (Math.abs(next - s) <= 1e-7 * s) {
      s = next;
      break;
    }
    s = next;
    if (hi - lo <= 1e-15 * hi) break;
  }
  lastIterations = i + 1;
  return s >= sMax * (1 - 1e-9) ? -1 : s;
}

/**
 * Implied volatility and greeks of one option, written into `out`. A status other than OK
 * leaves every number 0: expired, no price, no underlying, a price at or below intrinsic (on
 * the forward) or above the model's maximum, or unusable inputs.
 */
export function analyseOption(out: OptionAnalytics, o: OptionInput): OptionAnalytics {
  const { isCall, price, forward: f, strike: k, years: t, rate: r } = o;
  if (!(k > 0) || !Number.isFinite(k) || !Number.isFinite(r) || Math.abs(r) > 1) {
    return fail(out, IvStatus.INVALID_INPUT);
  }
  if (!(t > 0)) return fail(out, t === t ? IvStatus.EXPIRED : IvStatus.INVALID_INPUT);
  if (!Number.isFinite(t) || t > 100) return fail(out, IvStatus.INVALID_INPUT);
  if (!(f > 0) || !Number.isFinite(f)) return fail(out, IvStatus.NO_UNDERLYING);
  if (!(price > 0) || !Number.isFinite(price)) return fail(out, IvStatus.NO_PRICE);
  const ratio = f / k;
  if (!(ratio > 1e-12 && ratio < 1e12)) return fail(out, IvStatus.INVALID_INPUT);
  const df = Math.exp(-r * t);
  const v = price / df;
  // Solve on the out-of-the-money side (put-call parity): its value is all time value.
  const intrinsic = isCall ? f - k : k - f;
  const timeValue = intrinsic > 0 ? v - intrinsic : v;
  if (!(timeValue > 1e-12 * (f > k ? f : k))) return fail(out, IvStatus.BELOW_INTRINSIC);
  const sqrtT = Math.sqrt(t);
  const s = solveTotalVol(k >= f, timeValue, f, k, MAX_VOL * sqrtT);
  if (s < 0) return fail(out, IvStatus.ABOVE_MAXIMUM);
  const vol = s / sqrtT;
  if (!(vol > 0) || !Number.isFinite(vol)) return fail(out, IvStatus.BELOW_INTRINSIC);
  return greeksWith(out, o, vol, sqrtT, df, lastLogMoneyness);
}
