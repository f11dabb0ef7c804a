import { ExchangeSegment, Instrument } from '@app/dhan/types';
import { applyBps, orderValuePaise, rupeesToUnits } from '../trading/price-units';
import { MarginRules, RiskLimits } from './risk-limits';
import { OrderTerms, PositionSnapshot, RiskContext, RiskOrder } from './risk.types';

export type InstrumentKind = 'EQUITY' | 'FUTURE' | 'OPTION' | 'INDEX' | 'OTHER';

export function instrumentKind(instrument: Instrument): InstrumentKind {
  const type = instrument.instrumentType.toUpperCase();
  if (type === 'INDEX' || instrument.segment === ExchangeSegment.IDX_I) return 'INDEX';
  if (type.startsWith('OPT')) return 'OPTION';
  if (type.startsWith('FUT')) return 'FUTURE';
  if (type === 'EQUITY' || type === 'ES' || type === 'ETF') return 'EQUITY';
  return instrument.segment === ExchangeSegment.NSE_EQ ||
    instrument.segment === ExchangeSegment.BSE_EQ
    ? 'EQUITY'
    : 'OTHER';
}

/**
 * Facts derived once per check from the order and the context, so each check stays a small
 * comparison. Prices in price units (1/10,000 rupee), money in paise (see price-units.ts);
 * `undefined` means "not known" or "did not convert".
 */
export interface RiskOrderFacts {
  kind: InstrumentKind;
  priceUnits: number | undefined;
  triggerUnits: number | undefined;
  ltpUnits: number | undefined;
  freshLtp: boolean;
  /** Price the order is valued at: its limit price, its trigger, or LTP plus the buffer. */
  referenceUnits: number | undefined;
  /** Value of the quantity still to trade (for a modify: new quantity minus filled). */
  valuePaise: number | undefined;
  /** Value the order had before a modify (0 for a new order). */
  previousValuePaise: number;
  /** The order only closes (part of) an existing position, net of other working orders. */
  reducing: boolean;
  /** Placing, or a modify that raises the order's value, of an order that is not reducing. */
  raisesExposure: boolean;
  /** Margin the order needs in total (0 for a reducing order); `undefined` if not computable. */
  marginPaise: number | undefined;
}

export function deriveFacts(order: RiskOrder, ctx: RiskContext): RiskOrderFacts {
  const { limits, market, instrument } = ctx;
  const kind = instrument === undefined ? 'OTHER' : instrumentKind(instrument);
  const priceUnits = order.price === undefined ? undefined : rupeesToUnits(order.price);
  const triggerUnits =
    order.triggerPrice === undefined ? undefined : rupeesToUnits(order.triggerPrice);
  const ltpUnits = market.ltp === undefined ? undefined : rupeesToUnits(market.ltp);
  const freshLtp =
    ltpUnits !== undefined &&
    ltpUnits > 0 &&
    market.stale !== true &&
    market.lastTickAt !== undefined &&
    ctx.now - market.lastTickAt <= limits.staleAfterMs;

  const referenceUnits = referencePrice(order, priceUnits, triggerUnits, ltpUnits, limits);
  const remaining = order.quantity - (order.filledQuantity ?? 0);
  const valuePaise =
    referenceUnits === undefined || remaining < 0
      ? undefined
      : orderValuePaise(remaining, referenceUnits);

  let previousValuePaise = 0;
  if (order.action === 'MODIFY' && order.previous !== undefined) {
    const prev = order.previous;
    const prevRef = referencePrice(
      prev,
      prev.price === undefined ? undefined : rupeesToUnits(prev.price),
      prev.triggerPrice === undefined ? undefined : rupeesToUnits(prev.triggerPrice),
      ltpUnits,
      limits,
    );
    const prevRemaining = prev.quantity - (order.filledQuantity ?? 0);
    previousValuePaise =
      prevRef === undefined || prevRemaining <= 0
        ? 0
        : (orderValuePaise(prevRemaining, prevRef) ?? 0);
  }

  const reducing = isReducing(order, remaining, ctx.position);
  const raisesExposure =
    !reducing &&
    (order.action === 'PLACE' ||
      (order.action === 'MODIFY' && (valuePaise === undefined || valuePaise > previousValuePaise)));
  const marginPaise = reducing
    ? 0
    : valuePaise === undefined || instrument === undefined
      ? undefined
      : marginFor(order, kind, remaining, valuePaise, instrument, limits.margin);

  return {
    kind,
    priceUnits,
    triggerUnits,
    ltpUnits,
    freshLtp,
    referenceUnits,
    valuePaise,
    previousValuePaise,
    reducing,
    raisesExposure,
    marginPaise,
  };
}

function referencePrice(
  terms: OrderTerms,
  priceUnits: number | undefined,
  triggerUnits: number | undefined,
  ltpUnits: number | undefined,
  limits: RiskLimits,
): number | undefined {
  switch (terms.orderType) {
    case 'LIMIT':
    case 'STOP_LOSS':
      return priceUnits;
    case 'STOP_LOSS_MARKET':
      return triggerUnits === undefined ? undefined : withBuffer(triggerUnits, terms, limits);
    case 'MARKET':
      return ltpUnits === undefined ? undefined : withBuffer(ltpUnits, terms, limits);
  }
}

/** Market-priced orders are valued pessimistically: buys above, sells at the price. */
function withBuffer(units: number, terms: OrderTerms, limits: RiskLimits): number {
  if (terms.side === 'SELL') return units;
  return units + Math.ceil((units * limits.marketOrderBufferBps) / 10_000);
}

/**
 * An order reduces exposure when it trades against the current net position and, together
 * with the user's other working orders on the same side, cannot take it through zero.
 */
export function isReducing(
  order: Pick<OrderTerms, 'side'>,
  quantity: number,
  position: PositionSnapshot,
): boolean {
  if (quantity <= 0) return false;
  if (order.side === 'SELL') {
    return position.netQuantity > 0 && quantity + position.openSellQuantity <= position.netQuantity;
  }
  return position.netQuantity < 0 && quantity + position.openBuyQuantity <= -position.netQuantity;
}

/** Paper margin (see MarginRules); `undefined` if the arithmetic would leave safe integers. */
export function marginFor(
  order: Pick<OrderTerms, 'side' | 'productType'>,
  kind: InstrumentKind,
  quantity: number,
  valuePaise: number,
  instrument: Instrument,
  rules: MarginRules,
): number | undefined {
  const intraday =
    order.productType === 'INTRADAY' || order.productType === 'CO' || order.productType === 'BO';
  if (kind === 'OPTION') {
    if (order.side === 'BUY') return applyBps(valuePaise, rules.optionBuyBps);
    const strikeUnits =
      instrument.strike === undefined ? undefined : rupeesToUnits(instrument.strike);
    const notional =
      strikeUnits === undefined || strikeUnits === 0
        ? valuePaise
        : orderValuePaise(quantity, strikeUnits);
    return notional === undefined ? undefined : applyBps(notional, rules.optionSellBps);
  }
  if (kind === 'FUTURE') {
    return applyBps(valuePaise, intraday ? rules.futuresIntradayBps : rules.futuresBps);
  }
  return applyBps(valuePaise, rules.productBps[order.productType]);
}
