/**
 * Prices and money as integers.
 *
 * Prices are carried as integer **price units of 1/10,000 rupee** (1 paisa = 100 units) because
 * NSE/BSE currency derivatives tick in quarter paise (Rs 0.0025); every other segment ticks in
 * whole paise, so their prices are exact multiples of 100 units. Money (order values, margins,
 * funds, P&L) is integer **paise**.
 *
 * Bounds: values stay JavaScript safe integers (|x| <= 2^53 - 1, about Rs 90 lakh crore in paise).
 * A price converts only when it is below Rs 10 crore per unit, and every product of quantity and
 * price is checked with `Number.isSafeInteger`; an order whose value does not fit is denied with
 * ORDER_VALUE_ABOVE_MAX rather than computed inexactly. Positions sum with bigint.
 */

export const UNITS_PER_RUPEE = 10_000;
export const UNITS_PER_PAISA = 100;
export const PAISE_PER_RUPEE = 100;
/** Highest price (in rupees) accepted for conversion: keeps quantity x units far from 2^53. */
export const MAX_PRICE_RUPEES = 100_000_000;

/**
 * Rupees (as the API carries them) to integer price units, or `undefined` when the number is not
 * finite, negative, above the bound, or has more precision than 1/10,000 rupee.
 */
export function rupeesToUnits(rupees: number): number | undefined {
  if (!Number.isFinite(rupees) || rupees < 0 || rupees > MAX_PRICE_RUPEES) return undefined;
  const scaled = rupees * UNITS_PER_RUPEE;
  const units = Math.round(scaled);
  // Binary floats put 123.45 * 10000 at 1234500.0000000002: tolerate representation noise only
  // (below Rs 10 crore the scaled value is under 1e12, whose float spacing is about 1e-4).
  if (Math.abs(scaled - units) > 1e-3) return undefined;
  return units;
}

/** Tick size in rupees (the Instrument record's unit) to price units; at least one paisa if unset. */
export function tickSizeToUnits(tickSizeRupees: number): number {
  const units = rupeesToUnits(tickSizeRupees);
  return units === undefined || units <= 0 ? UNITS_PER_PAISA : units;
}

/** Price units to paise, rounding up: used for values that reserve money (never under-reserve). */
export function unitsToPaiseCeil(units: number): number {
  return Math.ceil(units / UNITS_PER_PAISA);
}

/**
 * Value of `quantity` at `priceUnits`, in paise, rounded up to the paisa; `undefined` when the
 * product is not a safe integer.
 */
export function orderValuePaise(quantity: number, priceUnits: number): number | undefined {
  if (priceUnits % UNITS_PER_PAISA === 0) {
    const value = quantity * (priceUnits / UNITS_PER_PAISA);
    return Number.isSafeInteger(value) ? value : undefined;
  }
  const valueUnits = quantity * priceUnits;
  if (!Number.isSafeInteger(valueUnits)) return undefined;
  return unitsToPaiseCeil(valueUnits);
}

/** `value * bps / 10,000` in integer paise, rounded up; `undefined` if not safe. */
export function applyBps(valuePaise: number, bps: number): number | undefined {
  const product = valuePaise * bps;
  if (!Number.isSafeInteger(product)) return undefined;
  return Math.ceil(product / 10_000);
}
