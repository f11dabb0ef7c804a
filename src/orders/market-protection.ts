import { rupeesToUnits } from '../trading/price-units';
import type { OrderSide, OrderType } from '../trading/order-vocabulary';

/** What a MARKET or SL-M order is sent as: a limit (or stop-loss limit) at the protected price. */
export interface Protection {
  orderType: 'LIMIT' | 'STOP_LOSS';
  /** The limit price sent, rupees, on the tick. */
  price: number;
  percent: number;
}

export interface ProtectionInput {
  side: OrderSide;
  orderType: OrderType;
  /** Last traded price (MARKET), rupees. */
  ltp?: number;
  /** Trigger (SL-M), rupees. */
  triggerPrice?: number;
  tickSize: number;
  percent: number;
  /** The exchange's circuit limits, rupees, when known. */
  lowerCircuit?: number;
  upperCircuit?: number;
}

/**
 * The market price protection of a MARKET or STOP_LOSS_MARKET order (SEBI's API-order rules:
 * no plain market orders): a buy may pay at most `percent` above the reference (the LTP, or the
 * trigger of a stop-loss), a sell take at least `percent` below it; the price is rounded onto
 * the tick towards the reference (never outside the band) and kept within the circuit limits.
 * `undefined` for other order types; `'NO_PRICE'` when a market order has no price to protect.
 * Integer price units (1/10,000 rupee) throughout.
 */
export function marketProtection(input: ProtectionInput): Protection | 'NO_PRICE' | undefined {
  const stop = input.orderType === 'STOP_LOSS_MARKET';
  if (input.orderType !== 'MARKET' && !stop) return undefined;
  const reference = stop ? input.triggerPrice : input.ltp;
  const refUnits = reference === undefined ? undefined : rupeesToUnits(reference);
  const tick = rupeesToUnits(input.tickSize);
  if (refUnits === undefined || refUnits <= 0 || tick === undefined || tick <= 0) {
    return 'NO_PRICE';
  }
  const bandUnits = Math.round((refUnits * Math.round(input.percent * 100)) / 10_000);
  let units =
    input.side === 'BUY'
      ? Math.floor((refUnits + bandUnits) / tick) * tick
      : Math.ceil((refUnits - bandUnits) / tick) * tick;
  const upper = input.upperCircuit === undefined ? undefined : rupeesToUnits(input.upperCircuit);
  const lower = input.lowerCircuit === undefined ? undefined : rupeesToUnits(input.lowerCircuit);
  if (upper !== undefined && upper > 0 && units > upper) units = Math.floor(upper / tick) * tick;
  if (lower !== undefined && lower > 0 && units < lower) units = Math.ceil(lower / tick) * tick;
  if (units <= 0) units = tick;
  return {
    orderType: stop ? 'STOP_LOSS' : 'LIMIT',
    price: units / 10_000,
    percent: input.percent,
  };
}
