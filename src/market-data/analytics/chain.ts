/*
 * Per-chain figures from per-strike inputs: the forward (put-call parity at the ATM strike),
 * ATM IV, PCR by OI and by volume, max pain and the 25-delta IV skew. Framework-free.
 */

import { IvStatus, YEAR_MS, type OptionAnalytics } from './black';

/** What one side (call or put) of a strike brings to the chain figures. */
export interface ChainSide {
  /** Option price used for IV (mid, else last); NaN or <= 0 when none. */
  price: number;
  oi: number;
  volume: number;
  analytics: OptionAnalytics;
}

export interface ChainPoint {
  strike: number;
  call: ChainSide | null;
  put: ChainSide | null;
}

/** Where the forward of a chain came from. */
export enum ForwardSource {
  /** Put-call parity at the strike nearest the spot: F = K + (C - P) / D. */
  PARITY = 'PARITY',
  /** The future the options are written on (MCX, Black-76). */
  FUTURE = 'FUTURE',
  /** The spot carried at the configured rate and dividend yield: S e^{(r-q)T}. */
  CARRY = 'CARRY',
}

/** Years from `nowMs` to the expiry instant (ACT/365); <= 0 once expired. */
export function yearsToExpiry(expiryMs: number, nowMs: number): number {
  return (expiryMs - nowMs) / YEAR_MS;
}

/** Index of the strike nearest `price` (ties to the lower strike); -1 when empty. */
export function nearestStrike(points: readonly ChainPoint[], price: number): number {
  let best = -1;
  let bestGap = Infinity;
  for (let i = 0; i < points.length; i++) {
    const gap = Math.abs(points[i].strike - price);
    if (gap < bestGap) {
      best = i;
      bestGap = gap;
    }
  }
  return best;
}

/**
 * The synthetic forward from put-call parity at the strike nearest `spot` that has both a call
 * and a put price (searching outwards, at most `maxSteps` strikes away): F = K + (C - P) / D.
 * NaN when no strike qualifies or the result is not positive.
 */
export function parityForward(
  points: readonly ChainPoint[],
  spot: number,
  discount: number,
  maxSteps = 3,
): number {
  const atm = nearestStrike(points, spot);
  if (atm < 0 || !(discount > 0)) return NaN;
  for (let step = 0; step <= maxSteps; step++) {
    for (const i of step === 0 ? [atm] : [atm - step, atm + step]) {
      const p = points[i];
      if (!p?.call || !p.put) continue;
      const c = p.call.price;
      const q = p.put.price;
      if (!(c > 0) || !(q > 0)) continue;
      const f = p.strike + (c - q) / discount;
      return f > 0 && Number.isFinite(f) ? f : NaN;
    }
  }
  return NaN;
}

export interface ChainStats {
  /** Mean IV of the ATM call and put (those solved), as a fraction; NaN when neither. */
  atmIv: number;
  /** Sum of put OI / sum of call OI; NaN when no call OI. */
  pcrOi: number;
  /** Sum of put volume / sum of call volume; NaN when no call volume. */
  pcrVolume: number;
  /** Strike where option holders' total payoff at expiry is least; NaN without OI. */
  maxPain: number;
  /** IV of the 25-delta put minus IV of the 25-delta call (fractions); NaN when missing. */
  ivSkew: number;
  totalCallOi: number;
  totalPutOi: number;
}

function finitePositive(x: number): number {
  return x > 0 && Number.isFinite(x) ? x : 0;
}

/**
 * Chain figures over the given strikes (those with data): ATM by the forward (else the spot).
 * O(n) except max pain, O(n) with running sums.
 */
export function chainStats(points: readonly ChainPoint[], forward: number): ChainStats {
  let callOi = 0;
  let putOi = 0;
  let callVol = 0;
  let putVol = 0;
  let best25Call: OptionAnalytics | null = null;
  let best25Put: OptionAnalytics | null = null;
  for (const p of points) {
    if (p.call) {
      callOi += finitePositive(p.call.oi);
      callVol += finitePositive(p.call.volume);
      const a = p.call.analytics;
      if (
        a.status === IvStatus.OK &&
        (!best25Call || Math.abs(a.delta - 0.25) < Math.abs(best25Call.delta - 0.25))
      ) {
        best25Call = a;
      }
    }
    if (p.put) {
      putOi += finitePositive(p.put.oi);
      putVol += finitePositive(p.put.volume);
      const a = p.put.analytics;
      if (
        a.status === IvStatus.OK &&
        (!best25Put || Math.abs(a.delta + 0.25) < Math.abs(best25Put.delta + 0.25))
      ) {
        best25Put = a;
      }
    }
  }
  let atmIv = NaN;
  const atm = nearestStrike(points, forward);
  if (atm >= 0) {
    const ivs: number[] = [];
    const { call, put } = points[atm];
    if (call?.analytics.status === IvStatus.OK) ivs.push(call.analytics.iv);
    if (put?.analytics.status === IvStatus.OK) ivs.push(put.analytics.iv);
    if (ivs.length > 0) atmIv = ivs.reduce((a, b) => a + b, 0) / ivs.length;
  }
  return {
    atmIv,
    pcrOi: callOi > 0 ? putOi / callOi : NaN,
    pcrVolume: callVol > 0 ? putVol / callVol : NaN,
    maxPain: maxPain(points),
    ivSkew: best25Call && best25Put ? best25Put.iv - best25Call.iv : NaN,
    totalCallOi: callOi,
    totalPutOi: putOi,
  };
}

/**
 * Max pain: the strike (of those given, ascending) at which the total intrinsic value of all
 * open calls and puts at expiry is least. Running sums make it O(n). NaN without OI.
 */
export function maxPain(points: readonly ChainPoint[]): number {
  const n = points.length;
  if (n === 0) return NaN;
  // Calls below the settlement pay (S - K) each: sum over K_i < S of oi_i (S - K_i).
  const callPay = new Float64Array(n);
  let oiBelow = 0;
  let weightedBelow = 0;
  let any = false;
  for (let i = 0; i < n; i++) {
    const s = points[i].strike;
    callPay[i] = oiBelow * s - weightedBelow;
    const oi = finitePositive(points[i].call?.oi ?? 0);
    if (oi > 0) any = true;
    oiBelow += oi;
    weightedBelow += oi * s;
  }
  // Puts above the settlement pay (K - S) each.
  let oiAbove = 0;
  let weightedAbove = 0;
  let best = NaN;
  let bestPay = Infinity;
  for (let i = n - 1; i >= 0; i--) {
    const s = points[i].strike;
    const pay = callPay[i] + (weightedAbove - oiAbove * s);
    const oi = finitePositive(points[i].put?.oi ?? 0);
    if (oi > 0) any = true;
    oiAbove += oi;
    weightedAbove += oi * s;
    if (pay <= bestPay) {
      bestPay = pay;
      best = s;
    }
  }
  return any ? best : NaN;
}
