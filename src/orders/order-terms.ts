import type { ExchangeSegment, Instrument } from '@app/dhan/types';
import { BadUserInputError } from '../common/errors/domain-error';
import { rupeesToUnits, tickSizeToUnits, UNITS_PER_RUPEE } from '../trading/price-units';
import { SEGMENT_PRODUCTS } from '../risk/risk-checks';
import { instrumentKind } from '../risk/risk-order-facts';
import {
  ORDER_SIDES,
  ORDER_TYPES,
  PRODUCT_TYPES,
  VALIDITIES,
  type OrderSide,
  type OrderType,
  type ProductType,
  type Validity,
} from '../trading/order-vocabulary';
import type { OrderTerms } from '../risk/risk.types';

/** `clientOrderId`: the caller's idempotency key. */
export const CLIENT_ORDER_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** What placeOrder asks for (prices in rupees; null or absent = none). */
export interface PlaceOrderCommand {
  clientOrderId: string;
  segment: ExchangeSegment;
  securityId: string;
  side: OrderSide;
  quantity: number;
  orderType: OrderType;
  productType: ProductType;
  validity: Validity;
  price?: number | null;
  triggerPrice?: number | null;
}

/** What modifyOrder may change; absent fields keep their value. */
export interface ModifyOrderCommand {
  quantity?: number | null;
  orderType?: OrderType | null;
  validity?: Validity | null;
  price?: number | null;
  triggerPrice?: number | null;
}

/** Terms after validation: prices as exact decimal strings for storage and numbers for RMS. */
export interface ValidTerms extends OrderTerms {
  priceText: string | null;
  triggerText: string | null;
}

/** A price in rupees as the shortest exact decimal string (its units are whole). */
export function priceText(units: number): string {
  return (units / UNITS_PER_RUPEE).toString();
}

/**
 * Checks the terms against the instrument before anything is stored: tradable, quantity a
 * positive lot multiple, prices on the tick, LIMIT/STOP_LOSS with a price, stop-loss (and CO)
 * with a trigger, product offered on the segment, validity allowed. BAD_USER_INPUT otherwise.
 * Bracket orders need target/stop-loss offsets the API does not carry yet: refused.
 */
export function validateTerms(
  terms: Omit<PlaceOrderCommand, 'clientOrderId' | 'segment' | 'securityId'>,
  instrument: Instrument | undefined,
  today: string,
): ValidTerms {
  if (!instrument) throw new BadUserInputError('Unknown instrument');
  if (instrumentKind(instrument) === 'INDEX') {
    throw new BadUserInputError(`${instrument.symbol} is an index and cannot be traded`);
  }
  if (instrument.expiry !== undefined && instrument.expiry < today) {
    throw new BadUserInputError(`${instrument.symbol} expired on ${instrument.expiry}`);
  }
  if (!ORDER_SIDES.includes(terms.side)) throw new BadUserInputError('side must be BUY or SELL');
  if (!ORDER_TYPES.includes(terms.orderType)) throw new BadUserInputError('Unknown orderType');
  if (!PRODUCT_TYPES.includes(terms.productType))
    throw new BadUserInputError('Unknown productType');
  if (!VALIDITIES.includes(terms.validity)) throw new BadUserInputError('Unknown validity');
  const { quantity } = terms;
  if (!Number.isSafeInteger(quantity) || quantity <= 0) {
    throw new BadUserInputError('quantity must be a whole number above zero');
  }
  const lot = instrument.lotSize > 0 ? instrument.lotSize : 1;
  if (quantity % lot !== 0) {
    throw new BadUserInputError(`quantity must be a multiple of the lot size ${lot}`);
  }
  if (!SEGMENT_PRODUCTS[instrument.segment].includes(terms.productType)) {
    throw new BadUserInputError(`${terms.productType} is not offered on ${instrument.segment}`);
  }
  if (terms.productType === 'BO') {
    throw new BadUserInputError('Bracket orders (BO) need target and stop-loss offsets');
  }
  const stop = terms.orderType === 'STOP_LOSS' || terms.orderType === 'STOP_LOSS_MARKET';
  if (terms.productType === 'CO' && terms.orderType !== 'LIMIT' && terms.orderType !== 'MARKET') {
    throw new BadUserInputError('CO orders are LIMIT or MARKET');
  }
  if (terms.validity === 'IOC' && (stop || terms.productType === 'CO')) {
    throw new BadUserInputError(`${stop ? 'Stop-loss' : 'CO'} orders cannot be IOC`);
  }

  const tick = tickSizeToUnits(instrument.tickSize);
  const needsPrice = terms.orderType === 'LIMIT' || terms.orderType === 'STOP_LOSS';
  const needsTrigger = stop || terms.productType === 'CO';
  const price = onTick('price', terms.price, tick, instrument.tickSize);
  const trigger = onTick('triggerPrice', terms.triggerPrice, tick, instrument.tickSize);
  if (needsPrice && price === undefined) {
    throw new BadUserInputError(`A ${terms.orderType} order needs a price`);
  }
  if (!needsPrice && price !== undefined) {
    throw new BadUserInputError(`A ${terms.orderType} order takes no price`);
  }
  if (needsTrigger && trigger === undefined) {
    throw new BadUserInputError(
      `A ${terms.orderType} ${terms.productType} order needs a triggerPrice`,
    );
  }
  if (!needsTrigger && trigger !== undefined) {
    throw new BadUserInputError(`A ${terms.orderType} order takes no triggerPrice`);
  }
  return {
    side: terms.side,
    quantity,
    orderType: terms.orderType,
    productType: terms.productType,
    validity: terms.validity,
    price: price === undefined ? undefined : price / UNITS_PER_RUPEE,
    triggerPrice: trigger === undefined ? undefined : trigger / UNITS_PER_RUPEE,
    priceText: price === undefined ? null : priceText(price),
    triggerText: trigger === undefined ? null : priceText(trigger),
  };
}

/** Price units of a positive price on the tick; undefined when absent (null, undefined or 0). */
function onTick(
  name: string,
  rupees: number | null | undefined,
  tick: number,
  tickSize: number,
): number | undefined {
  if (rupees === null || rupees === undefined || rupees === 0) return undefined;
  const units = rupeesToUnits(rupees);
  if (units === undefined || units <= 0) {
    throw new BadUserInputError(`${name} must be a positive price in rupees`);
  }
  if (units % tick !== 0) {
    throw new BadUserInputError(`${name} ${rupees} is not on the tick size ${tickSize}`);
  }
  return units;
}
