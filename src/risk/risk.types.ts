import { ExchangeSegment, Instrument } from '@app/dhan/types';
import type { OrderSide, OrderType, ProductType, Validity } from '../trading/order-vocabulary';
import type { FundsLedger } from './funds-ledger';
import type { RiskLimits } from './risk-limits';

/** Trading state of the whole system (GLOBAL) or of one user (admin kill switch). */
export enum TradingState {
  ACTIVE = 'ACTIVE',
  /** Only orders that reduce an existing position are accepted. */
  REDUCING = 'REDUCING',
  /** New orders and modifications are denied; cancels still pass. */
  HALTED = 'HALTED',
}

/** Reason codes stored as the order's `rejectionReason` when RMS denies it. */
export enum RiskDenialCode {
  TRADING_HALTED = 'TRADING_HALTED',
  REDUCE_ONLY = 'REDUCE_ONLY',
  INSTRUMENT_NOT_TRADABLE = 'INSTRUMENT_NOT_TRADABLE',
  QTY_INVALID = 'QTY_INVALID',
  QTY_NOT_LOT_MULTIPLE = 'QTY_NOT_LOT_MULTIPLE',
  QTY_ABOVE_MAX = 'QTY_ABOVE_MAX',
  QTY_ABOVE_FREEZE = 'QTY_ABOVE_FREEZE',
  PRICE_REQUIRED = 'PRICE_REQUIRED',
  /** A price on an order type that takes none (MARKET, STOP_LOSS_MARKET). */
  PRICE_NOT_ALLOWED = 'PRICE_NOT_ALLOWED',
  PRICE_OFF_TICK = 'PRICE_OFF_TICK',
  TRIGGER_REQUIRED = 'TRIGGER_REQUIRED',
  /** A trigger on an order that takes none (LIMIT and MARKET, except cover orders). */
  TRIGGER_NOT_ALLOWED = 'TRIGGER_NOT_ALLOWED',
  TRIGGER_INVALID = 'TRIGGER_INVALID',
  PRODUCT_NOT_ALLOWED = 'PRODUCT_NOT_ALLOWED',
  VALIDITY_NOT_ALLOWED = 'VALIDITY_NOT_ALLOWED',
  NO_FRESH_PRICE = 'NO_FRESH_PRICE',
  PRICE_OUTSIDE_COLLAR = 'PRICE_OUTSIDE_COLLAR',
  ORDER_VALUE_ABOVE_MAX = 'ORDER_VALUE_ABOVE_MAX',
  MAX_OPEN_ORDERS = 'MAX_OPEN_ORDERS',
  POSITION_LIMIT = 'POSITION_LIMIT',
  EXPOSURE_LIMIT = 'EXPOSURE_LIMIT',
  DAILY_LOSS_LIMIT = 'DAILY_LOSS_LIMIT',
  RATE_LIMIT = 'RATE_LIMIT',
  INSUFFICIENT_FUNDS = 'INSUFFICIENT_FUNDS',
}

export type RiskAction = 'PLACE' | 'MODIFY' | 'CANCEL';

/** Terms of an order as RMS sees them. Prices in rupees, as the API carries them. */
export interface OrderTerms {
  side: OrderSide;
  quantity: number;
  orderType: OrderType;
  productType: ProductType;
  validity: Validity;
  price?: number;
  triggerPrice?: number;
  /** BO target and stop-loss offsets in rupees (DhanHQ v2: place order); required for productType BO. */
  boProfitValue?: number;
  boStopLossValue?: number;
}

/** The order (or modification) under check. */
export interface RiskOrder extends OrderTerms {
  orderId: string;
  userId: string;
  action: RiskAction;
  /** For MODIFY: the order's terms before the modification. */
  previous?: OrderTerms;
  /** For MODIFY: quantity already filled (the modified quantity is the total, DhanHQ v2: modify order). */
  filledQuantity?: number;
}

/** An order as the OMS hands it to RMS: the order under check and where it trades. */
export interface OrderToCheck extends RiskOrder {
  segment: ExchangeSegment;
  securityId: string;
}

/** Latest market state of the instrument, from the tick store. Prices in rupees. */
export interface MarketSnapshot {
  ltp?: number;
  /** Epoch ms of the last tick; with `stale` from the tick store. */
  lastTickAt?: number;
  stale?: boolean;
  upperCircuit?: number;
  lowerCircuit?: number;
}

/** The user's position and working orders in this instrument and product. */
export interface PositionSnapshot {
  netQuantity: number;
  /** Unfilled quantity of the user's other working orders in this instrument, per side. */
  openBuyQuantity: number;
  openSellQuantity: number;
}

/** Aggregates over the whole account, in paise. */
export interface AccountSnapshot {
  openOrderCount: number;
  /** Sum over instruments of |net position| x LTP plus the value of working orders. */
  grossExposurePaise: number;
  /** Realised + unrealised P&L of the day (negative is a loss). */
  dayPnlPaise: number;
}

/**
 * Everything the checks read. Built by the caller from the tick store, positions and orders;
 * `funds` is the user's live ledger (the engine reserves on it when every check passes).
 */
export interface RiskContext {
  now: number;
  globalState: TradingState;
  userState: TradingState;
  instrument: Instrument | undefined;
  /** Exchange freeze quantity for this instrument (units), when known. */
  freezeQuantity?: number;
  limits: RiskLimits;
  market: MarketSnapshot;
  position: PositionSnapshot;
  account: AccountSnapshot;
  funds: FundsLedger;
  /** Today as YYYY-MM-DD in Asia/Kolkata, for the expiry check. */
  today: string;
}

/** Signals the caller must act on, whatever the verdict. */
export type RiskSignal = { kind: 'FLIP_USER_TO_REDUCING'; userId: string; dayPnlPaise: number };

export interface Pass {
  pass: true;
}
export interface Deny {
  pass: false;
  code: RiskDenialCode;
  message: string;
}
export type CheckResult = Pass | Deny;

export const PASS: Pass = Object.freeze({ pass: true });

export function deny(code: RiskDenialCode, message: string): Deny {
  return { pass: false, code, message };
}
