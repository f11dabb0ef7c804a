import { ExchangeSegment, type Instrument } from '@app/dhan/types';
import type { ProductType } from '../trading/order-vocabulary';
import { rupeesToUnits, tickSizeToUnits } from '../trading/price-units';
import { instrumentKind, type InstrumentKind } from './risk-order-facts';
import {
  PASS,
  RiskDenialCode as Code,
  deny,
  type CheckResult,
  type OrderTerms,
} from './risk.types';

/**
 * The rules on an order's terms and its instrument alone (nothing of the market, the account or
 * the limits). RMS runs them among its checks (risk-checks.ts); the OMS runs them through
 * `checkTerms` before anything is stored, so an order is judged by one rule set in both places.
 */
export interface TermsInput {
  order: OrderTerms;
  instrument: Instrument | undefined;
  /** Today as YYYY-MM-DD in Asia/Kolkata, for the expiry rule. */
  today: string;
  facts: TermsFacts;
}

/** What the rules derive from the terms (price units: 1/10,000 rupee; see price-units.ts). */
export interface TermsFacts {
  kind: InstrumentKind;
  /** `undefined` when absent or when the price does not convert (negative, not finite). */
  priceUnits: number | undefined;
  triggerUnits: number | undefined;
}

export type TermsRule = (input: TermsInput) => CheckResult;

export function termsFacts(order: OrderTerms, instrument: Instrument | undefined): TermsFacts {
  return {
    kind: instrument === undefined ? 'OTHER' : instrumentKind(instrument),
    priceUnits: order.price === undefined ? undefined : rupeesToUnits(order.price),
    triggerUnits: order.triggerPrice === undefined ? undefined : rupeesToUnits(order.triggerPrice),
  };
}

/** Products DhanHQ offers per segment. */
export const SEGMENT_PRODUCTS: Readonly<Record<ExchangeSegment, readonly ProductType[]>> = {
  [ExchangeSegment.NSE_EQ]: ['CNC', 'INTRADAY', 'MTF', 'CO', 'BO'],
  [ExchangeSegment.BSE_EQ]: ['CNC', 'INTRADAY', 'MTF', 'CO', 'BO'],
  [ExchangeSegment.NSE_FNO]: ['INTRADAY', 'MARGIN', 'CO', 'BO'],
  [ExchangeSegment.BSE_FNO]: ['INTRADAY', 'MARGIN', 'CO', 'BO'],
  [ExchangeSegment.NSE_CURRENCY]: ['INTRADAY', 'MARGIN'],
  [ExchangeSegment.BSE_CURRENCY]: ['INTRADAY', 'MARGIN'],
  [ExchangeSegment.MCX_COMM]: ['INTRADAY', 'MARGIN'],
  [ExchangeSegment.IDX_I]: [],
};

/** Known, not an index, not expired, with a lot size. */
export const instrumentTradable: TermsRule = ({ instrument, today, facts }) => {
  if (instrument === undefined) {
    return deny(Code.INSTRUMENT_NOT_TRADABLE, 'Unknown instrument');
  }
  if (facts.kind === 'INDEX') {
    return deny(
      Code.INSTRUMENT_NOT_TRADABLE,
      `${instrument.symbol} is an index and cannot be traded`,
    );
  }
  if (instrument.expiry !== undefined && instrument.expiry < today) {
    return deny(
      Code.INSTRUMENT_NOT_TRADABLE,
      `${instrument.symbol} expired on ${instrument.expiry}`,
    );
  }
  if (!(instrument.lotSize > 0)) {
    return deny(Code.INSTRUMENT_NOT_TRADABLE, `${instrument.symbol} has no lot size`);
  }
  return PASS;
};

export const wholeQuantity: TermsRule = ({ order }) => {
  const { quantity } = order;
  if (!Number.isSafeInteger(quantity) || quantity <= 0) {
    return deny(Code.QTY_INVALID, 'Quantity must be a whole number above zero');
  }
  return PASS;
};

export const lotMultiple: TermsRule = ({ order, instrument }) => {
  const lot = instrument?.lotSize ?? 1;
  if (order.quantity % lot !== 0) {
    return deny(Code.QTY_NOT_LOT_MULTIPLE, `Quantity must be a multiple of the lot size ${lot}`);
  }
  return PASS;
};

/** A price of 0 counts as absent, as the API carries it. */
const given = (rupees: number | undefined): boolean => rupees !== undefined && rupees !== 0;

/**
 * LIMIT and STOP_LOSS carry a price and the others none; stop-loss orders and cover orders
 * carry a trigger and the others none; every price given is positive and on the tick.
 */
export const pricesOnTerms: TermsRule = ({ order, instrument, facts }) => {
  const needsPrice = order.orderType === 'LIMIT' || order.orderType === 'STOP_LOSS';
  const needsTrigger =
    order.orderType === 'STOP_LOSS' ||
    order.orderType === 'STOP_LOSS_MARKET' ||
    order.productType === 'CO';
  const hasPrice = given(order.price);
  const hasTrigger = given(order.triggerPrice);
  if (needsPrice && !hasPrice) {
    return deny(Code.PRICE_REQUIRED, `A ${order.orderType} order needs a price`);
  }
  if (!needsPrice && hasPrice) {
    return deny(Code.PRICE_NOT_ALLOWED, `A ${order.orderType} order takes no price`);
  }
  if (needsTrigger && !hasTrigger) {
    return deny(
      Code.TRIGGER_REQUIRED,
      `A ${order.orderType} ${order.productType} order needs a trigger price`,
    );
  }
  if (!needsTrigger && hasTrigger) {
    return deny(
      Code.TRIGGER_NOT_ALLOWED,
      `A ${order.orderType} ${order.productType} order takes no trigger price`,
    );
  }
  const tick = tickSizeToUnits(instrument?.tickSize ?? 0);
  const tickText = `the tick size ${instrument?.tickSize}`;
  if (hasPrice && (facts.priceUnits === undefined || facts.priceUnits % tick !== 0)) {
    return deny(Code.PRICE_OFF_TICK, `Price ${order.price} is not a positive price on ${tickText}`);
  }
  if (hasTrigger && (facts.triggerUnits === undefined || facts.triggerUnits % tick !== 0)) {
    return deny(
      Code.PRICE_OFF_TICK,
      `Trigger price ${order.triggerPrice} is not a positive price on ${tickText}`,
    );
  }
  return PASS;
};

/** The product is offered on the segment; CO/BO and IOC rules. */
export const productAndValidity: TermsRule = ({ order, instrument }) => {
  const segment = instrument?.segment;
  if (segment !== undefined && !SEGMENT_PRODUCTS[segment].includes(order.productType)) {
    return deny(Code.PRODUCT_NOT_ALLOWED, `${order.productType} is not offered on ${segment}`);
  }
  const bracket = order.productType === 'CO' || order.productType === 'BO';
  if (bracket && order.orderType !== 'LIMIT' && order.orderType !== 'MARKET') {
    return deny(Code.PRODUCT_NOT_ALLOWED, `${order.productType} orders are LIMIT or MARKET`);
  }
  if (
    order.productType === 'BO' &&
    !((order.boProfitValue ?? 0) > 0 && (order.boStopLossValue ?? 0) > 0)
  ) {
    return deny(Code.PRODUCT_NOT_ALLOWED, 'A bracket order needs a target and a stop-loss offset');
  }
  if (order.validity === 'IOC') {
    if (bracket) {
      return deny(Code.VALIDITY_NOT_ALLOWED, `${order.productType} orders are DAY orders`);
    }
    if (order.orderType === 'STOP_LOSS' || order.orderType === 'STOP_LOSS_MARKET') {
      return deny(Code.VALIDITY_NOT_ALLOWED, 'Stop-loss orders cannot be IOC');
    }
  }
  return PASS;
};

/** The terms rules in the order RMS runs them; the first denial wins. */
export const TERMS_RULES: readonly TermsRule[] = Object.freeze([
  instrumentTradable,
  wholeQuantity,
  lotMultiple,
  pricesOnTerms,
  productAndValidity,
]);

/** The first denial of `rules`, or PASS. */
export function firstDenial(rules: readonly TermsRule[], input: TermsInput): CheckResult {
  for (const rule of rules) {
    const result = rule(input);
    if (!result.pass) return result;
  }
  return PASS;
}

/**
 * RMS's pre-store check: the terms rules alone, for a caller that must refuse bad input before
 * anything is stored (the OMS answers BAD_USER_INPUT with the denial code). An order that
 * passes still goes through every check of RMS, these rules included, when it is admitted.
 * Prices in rupees; 0 or absent is no price.
 */
export function checkTerms(
  terms: OrderTerms,
  instrument: Instrument | undefined,
  today: string,
): CheckResult {
  return firstDenial(TERMS_RULES, {
    order: terms,
    instrument,
    today,
    facts: termsFacts(terms, instrument),
  });
}
