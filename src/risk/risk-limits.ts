import { ProductType } from '../trading/order-vocabulary';

export type FreezePolicy = 'SLICE' | 'DENY';

/**
 * Paper margin rules, in basis points of the order value (10,000 = 100%). A SPAN-like
 * percentage stands in for the exchange's SPAN + exposure margin; option buyers pay the premium.
 */
export interface MarginRules {
  /** Equity delivery and anything not listed below. */
  productBps: Readonly<Record<ProductType, number>>;
  /** Futures and option writing under MARGIN (carry forward): percentage of notional. */
  futuresBps: number;
  /** Futures intraday. */
  futuresIntradayBps: number;
  /** Option writing: percentage of strike x quantity. */
  optionSellBps: number;
  /** Option buying pays this share of the premium value (10,000: the full premium). */
  optionBuyBps: number;
}

/**
 * Per-user limits. Money in paise, quantities in units (shares or contracts x lot), times in ms.
 * Admins edit them (admin issue); the defaults suit a small retail account.
 */
export interface RiskLimits {
  /** Largest quantity in one order (before slicing). Default 100,000. */
  maxQuantityPerOrder: number;
  /** Orders above the exchange freeze quantity: slice (DhanHQ /orders/slicing) or deny. Default SLICE. */
  freezePolicy: FreezePolicy;
  /** Largest order value. Default Rs 50 lakh. */
  maxOrderValuePaise: number;
  /** Limit price distance from the LTP, in basis points. Default 1,000 (10%). */
  priceCollarBps: number;
  /** A tick older than this is stale: market orders are denied (RELIABILITY F11). Default 30 s. */
  staleAfterMs: number;
  /** Market orders are valued at LTP plus this buffer for limits and margin. Default 300 (3%). */
  marketOrderBufferBps: number;
  /** Working orders per user. Default 50. */
  maxOpenOrders: number;
  /** |projected net position| x price per instrument and product. Default Rs 25 lakh. */
  maxPositionValuePaise: number;
  /** Gross exposure across the account including working orders. Default Rs 1 crore. */
  maxGrossExposurePaise: number;
  /** Loss (positive number) at which the user is flipped to REDUCING. Default Rs 50,000. */
  maxDailyLossPaise: number;
  /** Orders (place and modify) per user per window. Default 10 per 1,000 ms (DhanHQ v2: rate limits). */
  maxOrdersPerWindow: number;
  rateWindowMs: number;
  margin: MarginRules;
}

const RUPEE = 100;

export const DEFAULT_MARGIN_RULES: MarginRules = Object.freeze({
  productBps: Object.freeze({
    CNC: 10_000,
    MTF: 2_500,
    INTRADAY: 2_000,
    MARGIN: 10_000,
    CO: 2_000,
    BO: 2_000,
  }),
  futuresBps: 1_500,
  futuresIntradayBps: 750,
  optionSellBps: 1_500,
  optionBuyBps: 10_000,
});

export const DEFAULT_RISK_LIMITS: RiskLimits = Object.freeze({
  maxQuantityPerOrder: 100_000,
  freezePolicy: 'SLICE',
  maxOrderValuePaise: 5_000_000 * RUPEE,
  priceCollarBps: 1_000,
  staleAfterMs: 30_000,
  marketOrderBufferBps: 300,
  maxOpenOrders: 50,
  maxPositionValuePaise: 2_500_000 * RUPEE,
  maxGrossExposurePaise: 10_000_000 * RUPEE,
  maxDailyLossPaise: 50_000 * RUPEE,
  maxOrdersPerWindow: 10,
  rateWindowMs: 1_000,
  margin: DEFAULT_MARGIN_RULES,
});

/**
 * Problems with a set of limits (for the admin mutation that edits them); empty when valid.
 * Every number must be a non-negative safe integer and the rate window positive.
 */
export function validateRiskLimits(limits: RiskLimits): string[] {
  const problems: string[] = [];
  const whole = (name: string, value: number) => {
    if (!Number.isSafeInteger(value) || value < 0)
      problems.push(`${name} must be a whole number >= 0`);
  };
  whole('maxQuantityPerOrder', limits.maxQuantityPerOrder);
  whole('maxOrderValuePaise', limits.maxOrderValuePaise);
  whole('priceCollarBps', limits.priceCollarBps);
  whole('staleAfterMs', limits.staleAfterMs);
  whole('marketOrderBufferBps', limits.marketOrderBufferBps);
  whole('maxOpenOrders', limits.maxOpenOrders);
  whole('maxPositionValuePaise', limits.maxPositionValuePaise);
  whole('maxGrossExposurePaise', limits.maxGrossExposurePaise);
  whole('maxDailyLossPaise', limits.maxDailyLossPaise);
  whole('maxOrdersPerWindow', limits.maxOrdersPerWindow);
  whole('rateWindowMs', limits.rateWindowMs);
  if (limits.rateWindowMs === 0) problems.push('rateWindowMs must be above 0');
  if (limits.freezePolicy !== 'SLICE' && limits.freezePolicy !== 'DENY') {
    problems.push('freezePolicy must be SLICE or DENY');
  }
  const m = limits.margin;
  for (const [product, bps] of Object.entries(m.productBps))
    whole(`margin.productBps.${product}`, bps);
  whole('margin.futuresBps', m.futuresBps);
  whole('margin.futuresIntradayBps', m.futuresIntradayBps);
  whole('margin.optionSellBps', m.optionSellBps);
  whole('margin.optionBuyBps', m.optionBuyBps);
  return problems;
}
