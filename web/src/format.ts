const money = new Intl.NumberFormat('en-IN', {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
const whole = new Intl.NumberFormat('en-IN', { maximumFractionDigits: 0 });

export const fmtPrice = (value: number | null | undefined): string =>
  value === null || value === undefined ? '-' : money.format(value);

export const fmtQty = (value: number | null | undefined): string =>
  value === null || value === undefined ? '-' : whole.format(value);

export const fmtSigned = (value: number | null | undefined): string =>
  value === null || value === undefined ? '-' : `${value > 0 ? '+' : ''}${money.format(value)}`;

export const fmtPercent = (value: number | null | undefined): string =>
  value === null || value === undefined ? '-' : `${value > 0 ? '+' : ''}${value.toFixed(2)}%`;

export const fmtTime = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleTimeString('en-IN', { hour12: false }) : '-';

/** An instant in IST as a trader reads it: the time today, else the weekday and time. */
export function fmtIstWhen(iso: string | null | undefined): string {
  if (!iso) return '-';
  const at = new Date(iso);
  const ist = { timeZone: 'Asia/Kolkata' } as const;
  const sameDay =
    at.toLocaleDateString('en-IN', ist) === new Date().toLocaleDateString('en-IN', ist);
  return at.toLocaleString('en-IN', {
    ...ist,
    hour12: false,
    hour: '2-digit',
    minute: '2-digit',
    ...(sameDay ? {} : { weekday: 'short', day: 'numeric', month: 'short' }),
  });
}

export const signClass = (value: number | null | undefined): string =>
  value === null || value === undefined || value === 0 ? '' : value > 0 ? 'up' : 'down';

/** Risk denial codes (Order.rejectionReason) in a trader's words. */
const REASONS: Record<string, string> = {
  INSUFFICIENT_FUNDS: 'Not enough funds for this order',
  PRICE_OUTSIDE_COLLAR: 'Price is too far from the market (outside the allowed price band)',
  NO_FRESH_PRICE: 'No recent price for this instrument: try again when it is trading',
  ORDER_VALUE_ABOVE_MAX: 'Order value is above your per-order limit',
  MAX_OPEN_ORDERS: 'Too many open orders: cancel some first',
  POSITION_LIMIT: 'This order would take the position above your limit',
  EXPOSURE_LIMIT: 'This order would take your total exposure above your limit',
  DAILY_LOSS_LIMIT: "Today's loss limit is reached",
  RATE_LIMIT: 'Too many orders in a short time: wait a moment',
  QTY_INVALID: 'Quantity is not valid',
  QTY_NOT_LOT_MULTIPLE: 'Quantity must be a whole number of lots',
  QTY_ABOVE_MAX: 'Quantity is above the per-order maximum',
  QTY_ABOVE_FREEZE: "Quantity is above the exchange's freeze limit",
  PRICE_REQUIRED: 'This order type needs a price',
  PRICE_NOT_ALLOWED: 'This order type takes no price',
  PRICE_OFF_TICK: 'Price must be a multiple of the tick size',
  TRIGGER_REQUIRED: 'This order type needs a trigger price',
  TRIGGER_NOT_ALLOWED: 'This order type takes no trigger price',
  TRIGGER_INVALID: 'Trigger price is on the wrong side of the price',
  PRODUCT_NOT_ALLOWED: 'This product is not allowed for this instrument',
  VALIDITY_NOT_ALLOWED: 'This validity is not allowed here',
  TRADING_HALTED: 'Trading is halted by the operator',
  REDUCE_ONLY: 'Only orders that reduce an open position are accepted now',
  INSTRUMENT_NOT_TRADABLE: 'This instrument cannot be traded',
};

/** "Human text (CODE)" for a denial code, the code alone when unknown. */
export function reasonText(code: string | null | undefined): string {
  if (!code) return '';
  const text = REASONS[code];
  return text ? `${text} (${code})` : code;
}
