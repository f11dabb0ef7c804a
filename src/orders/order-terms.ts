import type { ExchangeSegment, Instrument } from '@app/dhan/types';
import { BadUserInputError, DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { checkTerms } from '../risk/terms-checks';
import { rupeesToUnits, UNITS_PER_RUPEE } from '../trading/price-units';
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
  /** Set by the server on orders it places itself (never from the API). */
  tag?: string;
  /** A basket leg: the id of the funds hold its basket's risk check took for it (server-set). */
  fundedBy?: string;
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
 * Reads placeOrder/modifyOrder input: the words of the order vocabulary, then RMS's terms rules
 * (`checkTerms`, the same rules RMS runs at admission: tradable, quantity a positive lot
 * multiple, prices given where the order type needs them and only there, positive and on the
 * tick, product offered on the segment, CO/BO and IOC rules). A failure is BAD_USER_INPUT with
 * the denial code as `rejectionReason`; nothing is stored. Then converts the prices: rupees to
 * price units, and the exact decimal text stored with the order.
 */
/** An order's terms without its key and the server's own fields. */
export type OrderCommandTerms = Omit<PlaceOrderCommand, 'clientOrderId' | 'tag' | 'fundedBy'>;

/**
 * `validateTerms` of one order among several (a basket leg, an alert's order): a refusal's
 * message starts with `label`. Returns the terms as given, price and trigger null when absent.
 */
export function checkedTerms(
  terms: OrderCommandTerms,
  instrument: Instrument | undefined,
  today: string,
  label: string,
): OrderCommandTerms {
  try {
    validateTerms(terms, instrument, today);
  } catch (e) {
    if (e instanceof Error) e.message = `${label}: ${e.message}`;
    throw e;
  }
  return {
    segment: terms.segment,
    securityId: terms.securityId,
    side: terms.side,
    quantity: terms.quantity,
    orderType: terms.orderType,
    productType: terms.productType,
    validity: terms.validity,
    price: terms.price ?? null,
    triggerPrice: terms.triggerPrice ?? null,
  };
}

export function validateTerms(
  terms: Omit<PlaceOrderCommand, 'clientOrderId' | 'segment' | 'securityId'>,
  instrument: Instrument | undefined,
  today: string,
): ValidTerms {
  if (!ORDER_SIDES.includes(terms.side)) throw new BadUserInputError('side must be BUY or SELL');
  if (!ORDER_TYPES.includes(terms.orderType)) throw new BadUserInputError('Unknown orderType');
  if (!PRODUCT_TYPES.includes(terms.productType))
    throw new BadUserInputError('Unknown productType');
  if (!VALIDITIES.includes(terms.validity)) throw new BadUserInputError('Unknown validity');
  const asked: OrderTerms = {
    side: terms.side,
    quantity: terms.quantity,
    orderType: terms.orderType,
    productType: terms.productType,
    validity: terms.validity,
    price: given(terms.price),
    triggerPrice: given(terms.triggerPrice),
  };
  const verdict = checkTerms(asked, instrument, today);
  if (!verdict.pass) {
    throw new DomainError(ErrorCode.BAD_USER_INPUT, verdict.message, {
      rejectionReason: verdict.code,
    });
  }
  const price = units(asked.price);
  const trigger = units(asked.triggerPrice);
  return {
    ...asked,
    price: price === undefined ? undefined : price / UNITS_PER_RUPEE,
    triggerPrice: trigger === undefined ? undefined : trigger / UNITS_PER_RUPEE,
    priceText: price === undefined ? null : priceText(price),
    triggerText: trigger === undefined ? null : priceText(trigger),
  };
}

/** A price as the API carries it: null, undefined and 0 are no price. */
function given(rupees: number | null | undefined): number | undefined {
  return rupees === null || rupees === undefined || rupees === 0 ? undefined : rupees;
}

/** Price units of a price `checkTerms` passed (so it converts). */
function units(rupees: number | undefined): number | undefined {
  return rupees === undefined ? undefined : rupeesToUnits(rupees);
}
