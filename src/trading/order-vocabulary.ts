import type { OrderType, ProductType, TransactionType, Validity } from '@app/dhan';

/**
 * The words of an order, as DhanHQ spells them (and so the public API too): one declaration,
 * in the DhanHQ client, used by the OMS, RMS and EMS alike.
 */
export type OrderSide = TransactionType;
export type { OrderType, ProductType, Validity };

export const ORDER_SIDES: readonly OrderSide[] = ['BUY', 'SELL'];
export const ORDER_TYPES: readonly OrderType[] = [
  'LIMIT',
  'MARKET',
  'STOP_LOSS',
  'STOP_LOSS_MARKET',
];
export const PRODUCT_TYPES: readonly ProductType[] = [
  'CNC',
  'INTRADAY',
  'MARGIN',
  'MTF',
  'CO',
  'BO',
];
export const VALIDITIES: readonly Validity[] = ['DAY', 'IOC'];
