import { rupeesToUnits } from '../trading/price-units';
import { RiskOrderFacts } from './risk-order-facts';
import {
  CheckResult,
  PASS,
  RiskContext,
  RiskDenialCode as Code,
  RiskOrder,
  TradingState,
  deny,
} from './risk.types';
import {
  instrumentTradable,
  lotMultiple,
  pricesOnTerms,
  productAndValidity,
  wholeQuantity,
  type TermsInput,
} from './terms-checks';

/** What every check reads. The checks are pure: they only compare, never mutate. */
export interface CheckInput {
  order: RiskOrder;
  ctx: RiskContext;
  facts: RiskOrderFacts;
  /** Orders (place and modify) this user sent within the rate window, counted by the engine. */
  recentOrderCount: number;
}

export type RiskCheck = (input: CheckInput) => CheckResult;

/** The part of a check's input the terms rules (terms-checks.ts) read. */
function termsInput({ order, ctx, facts }: CheckInput): TermsInput {
  return { order, instrument: ctx.instrument, today: ctx.today, facts };
}

const rupees = (paise: number): string => `Rs ${(paise / 100).toFixed(2)}`;

export function effectiveTradingState(ctx: RiskContext): TradingState {
  const rank = { ACTIVE: 0, REDUCING: 1, HALTED: 2 } as const;
  return rank[ctx.globalState] >= rank[ctx.userState] ? ctx.globalState : ctx.userState;
}

export const checkTradingState: RiskCheck = ({ order, ctx, facts }) => {
  const state = effectiveTradingState(ctx);
  const scope = state === ctx.globalState && state !== ctx.userState ? 'globally' : 'for this user';
  if (state === TradingState.HALTED) {
    return deny(Code.TRADING_HALTED, `Trading is halted ${scope}`);
  }
  if (state === TradingState.REDUCING) {
    const allowed = order.action === 'PLACE' ? facts.reducing : !facts.raisesExposure;
    if (!allowed) {
      return deny(Code.REDUCE_ONLY, `Only orders that reduce a position are accepted ${scope}`);
    }
  }
  return PASS;
};

export const checkInstrumentTradable: RiskCheck = (input) => instrumentTradable(termsInput(input));

export const checkQuantity: RiskCheck = (input) => {
  const { order, ctx } = input;
  const { quantity } = order;
  const whole = wholeQuantity(termsInput(input));
  if (!whole.pass) return whole;
  if (order.action === 'MODIFY' && quantity <= (order.filledQuantity ?? 0)) {
    return deny(Code.QTY_INVALID, 'Quantity must stay above the quantity already filled');
  }
  const lotRule = lotMultiple(termsInput(input));
  if (!lotRule.pass) return lotRule;
  const lot = ctx.instrument?.lotSize ?? 1;
  if (quantity > ctx.limits.maxQuantityPerOrder) {
    return deny(
      Code.QTY_ABOVE_MAX,
      `Quantity ${quantity} is above the limit of ${ctx.limits.maxQuantityPerOrder} per order`,
    );
  }
  const freeze = ctx.freezeQuantity;
  if (freeze !== undefined && quantity > freeze) {
    // DhanHQ slices only new orders; a modification above the freeze quantity cannot be sliced.
    if (ctx.limits.freezePolicy === 'DENY' || order.action !== 'PLACE') {
      return deny(
        Code.QTY_ABOVE_FREEZE,
        `Quantity is above the exchange freeze quantity ${freeze}`,
      );
    }
    if (Math.floor(freeze / lot) === 0) {
      return deny(Code.QTY_ABOVE_FREEZE, `Freeze quantity ${freeze} is below one lot`);
    }
  }
  return PASS;
};

export const checkPrices: RiskCheck = (input) => pricesOnTerms(termsInput(input));

/**
 * Stop-loss entries trigger on the far side of the market: a BUY stop triggers above (its limit
 * at or above the trigger), a SELL stop below. A cover order's trigger is the protective stop of
 * the position it opens, so it sits on the other side of its price.
 */
export const checkTrigger: RiskCheck = ({ order, facts }) => {
  const trigger = facts.triggerUnits;
  if (trigger === undefined) return PASS;
  const buy = order.side === 'BUY';
  if (order.productType === 'CO') {
    const ref = order.orderType === 'MARKET' ? facts.ltpUnits : facts.priceUnits;
    if (ref !== undefined && (buy ? trigger >= ref : trigger <= ref)) {
      return deny(
        Code.TRIGGER_INVALID,
        `A cover ${order.side} order's stop must be ${buy ? 'below' : 'above'} its price`,
      );
    }
    return PASS;
  }
  if (order.orderType === 'STOP_LOSS' && facts.priceUnits !== undefined) {
    if (buy ? trigger > facts.priceUnits : trigger < facts.priceUnits) {
      return deny(
        Code.TRIGGER_INVALID,
        `A stop-loss ${order.side} needs its trigger ${buy ? 'at or below' : 'at or above'} its price`,
      );
    }
  }
  if (facts.freshLtp && facts.ltpUnits !== undefined) {
    if (buy ? trigger <= facts.ltpUnits : trigger >= facts.ltpUnits) {
      return deny(
        Code.TRIGGER_INVALID,
        `A stop-loss ${order.side} needs its trigger ${buy ? 'above' : 'below'} the last price`,
      );
    }
  }
  return PASS;
};

export const checkProductAndValidity: RiskCheck = (input) => productAndValidity(termsInput(input));

export const checkFreshPrice: RiskCheck = ({ order, ctx, facts }) => {
  if (order.orderType !== 'MARKET' || facts.freshLtp) return PASS;
  const age =
    ctx.market.lastTickAt === undefined
      ? 'no price yet'
      : `last price ${ctx.now - ctx.market.lastTickAt} ms old`;
  return deny(Code.NO_FRESH_PRICE, `A market order needs a live price (${age})`);
};

export const checkPriceCollar: RiskCheck = ({ order, ctx, facts }) => {
  const price = facts.priceUnits;
  if (price === undefined || (order.orderType !== 'LIMIT' && order.orderType !== 'STOP_LOSS')) {
    return PASS;
  }
  const { upperCircuit, lowerCircuit } = ctx.market;
  const upper = upperCircuit === undefined ? undefined : rupeesToUnits(upperCircuit);
  const lower = lowerCircuit === undefined ? undefined : rupeesToUnits(lowerCircuit);
  if (upper !== undefined && price > upper) {
    return deny(Code.PRICE_OUTSIDE_COLLAR, `Price is above the upper circuit ${upperCircuit}`);
  }
  if (lower !== undefined && price < lower) {
    return deny(Code.PRICE_OUTSIDE_COLLAR, `Price is below the lower circuit ${lowerCircuit}`);
  }
  const ltp = facts.ltpUnits;
  if (ltp === undefined || ltp === 0) return PASS;
  if (Math.abs(price - ltp) * 10_000 > ltp * ctx.limits.priceCollarBps) {
    return deny(
      Code.PRICE_OUTSIDE_COLLAR,
      `Price is more than ${ctx.limits.priceCollarBps / 100}% away from the last price ${ctx.market.ltp}`,
    );
  }
  return PASS;
};

export const checkOrderValue: RiskCheck = ({ order, ctx, facts }) => {
  if (order.action === 'MODIFY' && !facts.raisesExposure) return PASS;
  const max = ctx.limits.maxOrderValuePaise;
  if (facts.valuePaise === undefined || facts.valuePaise > max) {
    return deny(Code.ORDER_VALUE_ABOVE_MAX, `Order value is above the limit of ${rupees(max)}`);
  }
  return PASS;
};

export const checkOpenOrders: RiskCheck = ({ order, ctx }) => {
  if (order.action !== 'PLACE') return PASS;
  if (ctx.account.openOrderCount >= ctx.limits.maxOpenOrders) {
    return deny(Code.MAX_OPEN_ORDERS, `At most ${ctx.limits.maxOpenOrders} working orders`);
  }
  return PASS;
};

export const checkPositionLimit: RiskCheck = ({ order, ctx, facts }) => {
  if (!facts.raisesExposure || facts.referenceUnits === undefined) return PASS;
  const { netQuantity, openBuyQuantity, openSellQuantity } = ctx.position;
  const remaining = order.quantity - (order.filledQuantity ?? 0);
  const projected =
    order.side === 'BUY'
      ? netQuantity + openBuyQuantity + remaining
      : netQuantity - openSellQuantity - remaining;
  const value = Math.abs(projected) * Math.ceil(facts.referenceUnits / 100);
  if (!Number.isSafeInteger(value) || value > ctx.limits.maxPositionValuePaise) {
    return deny(
      Code.POSITION_LIMIT,
      `Position would exceed ${rupees(ctx.limits.maxPositionValuePaise)} in this instrument`,
    );
  }
  return PASS;
};

export const checkGrossExposure: RiskCheck = ({ ctx, facts }) => {
  if (!facts.raisesExposure) return PASS;
  const added = (facts.valuePaise ?? Number.POSITIVE_INFINITY) - facts.previousValuePaise;
  if (ctx.account.grossExposurePaise + added > ctx.limits.maxGrossExposurePaise) {
    return deny(
      Code.EXPOSURE_LIMIT,
      `Gross exposure would exceed ${rupees(ctx.limits.maxGrossExposurePaise)}`,
    );
  }
  return PASS;
};

export function dailyLossHit(ctx: RiskContext): boolean {
  return ctx.account.dayPnlPaise <= -ctx.limits.maxDailyLossPaise;
}

export const checkDailyLoss: RiskCheck = ({ ctx, facts }) => {
  if (!facts.raisesExposure || !dailyLossHit(ctx)) return PASS;
  return deny(
    Code.DAILY_LOSS_LIMIT,
    `Day loss ${rupees(-ctx.account.dayPnlPaise)} reached the limit of ${rupees(ctx.limits.maxDailyLossPaise)}`,
  );
};

export const checkOrderRate: RiskCheck = ({ order, ctx, recentOrderCount }) => {
  if (order.action === 'CANCEL') return PASS;
  if (recentOrderCount >= ctx.limits.maxOrdersPerWindow) {
    return deny(
      Code.RATE_LIMIT,
      `At most ${ctx.limits.maxOrdersPerWindow} orders per ${ctx.limits.rateWindowMs} ms`,
    );
  }
  return PASS;
};

/** Read-only: the engine makes the reservation itself, atomically, after every check passed. */
export const checkFunds: RiskCheck = ({ order, ctx, facts }) => {
  const needed = facts.marginPaise;
  if (needed === undefined) {
    return deny(Code.INSUFFICIENT_FUNDS, 'The margin for this order cannot be computed');
  }
  // Against what the order holds for the units this margin covers (a modification's unfilled
  // ones): the share of filled units stays held until their trades settle.
  const increase = needed - ctx.funds.reservationFrom(order.orderId, order.filledQuantity ?? 0);
  const available = ctx.funds.available();
  if (increase > available) {
    return deny(
      Code.INSUFFICIENT_FUNDS,
      `Margin ${rupees(needed)} needed, ${rupees(Math.max(0, available))} available`,
    );
  }
  return PASS;
};

/** The checks in the order they run; the first denial wins. */
export const RISK_CHECKS: readonly RiskCheck[] = Object.freeze([
  checkTradingState,
  checkInstrumentTradable,
  checkQuantity,
  checkPrices,
  checkTrigger,
  checkProductAndValidity,
  checkFreshPrice,
  checkPriceCollar,
  checkOrderValue,
  checkOpenOrders,
  checkPositionLimit,
  checkGrossExposure,
  checkDailyLoss,
  checkOrderRate,
  checkFunds,
]);
