import { ExchangeSegment } from '@app/dhan/types';
import { rupeesToUnits } from '../../trading/price-units';

/**
 * Net positions per (user, instrument, product), the way Indian brokers report them.
 *
 * Method: weighted average cost of the *open* quantity, no FIFO lots. A trade in the direction
 * of the position (or from flat) adds its value to the open cost; a trade against it closes
 * min(trade, |net|) at the open average, realising (exit price - open average) x closed quantity
 * (sign flipped for shorts); any remainder opens a position the other way at the trade price
 * (a flip through zero). Unrealised P&L marks the open quantity to the LTP against the open
 * average. Buy/sell quantities and averages are the day's totals, as DhanHQ's positions show.
 *
 * Arithmetic: values are bigint price units (1/10,000 rupee, see risk/price-units.ts), so sums
 * are exact; closing part of a position removes open cost pro rata (rounded to a unit, and the
 * last close removes exactly what is left), so realised + unrealised always equals
 * sell value - buy value + net x LTP. P&L is reported in integer paise, rounded half away from
 * zero; unrealised is derived from the rounded total so the two always add up in paise.
 * Quantity x price is the value: instruments whose contracts carry a price multiplier (MCX,
 * currency) need it applied to the quantity before they reach here.
 */

export type TradeSide = 'BUY' | 'SELL';

export interface PositionKey {
  userId: string;
  segment: ExchangeSegment;
  securityId: string;
  productType: string;
}

export interface TradeFill {
  /** Exchange trade id (DhanHQ v2: trade book exchangeTradeId): unique per trade. */
  tradeId: string;
  side: TradeSide;
  quantity: number;
  /** Rupees, as the broker reports it. */
  price: number;
}

export type ApplyTradeResult =
  | { kind: 'APPLIED'; realizedDeltaPaise: bigint; flipped: boolean }
  | { kind: 'DUPLICATE'; tradeId: string }
  | { kind: 'INVALID'; reason: string };

/** What the Position contract shows (the public contract). Averages in rupees for display. */
export interface PositionView {
  netQuantity: number;
  buyQuantity: number;
  sellQuantity: number;
  buyAverage: number;
  sellAverage: number;
  /** Average price of the open quantity; 0 when flat. */
  openAverage: number;
  realizedPnlPaise: bigint;
  /** `undefined` without an LTP. */
  unrealizedPnlPaise?: bigint;
  ltp?: number;
}

const UNITS_PER_RUPEE = 10_000;
const UNITS_PER_PAISA = 100n;

export class Position {
  private buyQty = 0;
  private sellQty = 0;
  private buyValue = 0n;
  private sellValue = 0n;
  private net = 0;
  /** Cost of the open quantity, positive for both longs and shorts. */
  private openCost = 0n;
  private realized = 0n;
  private readonly seen = new Set<string>();

  constructor(readonly key: PositionKey) {}

  get netQuantity(): number {
    return this.net;
  }

  /** Cost of the open quantity in price units (positive for longs and shorts; 0 when flat). */
  get openCostUnits(): bigint {
    return this.openCost;
  }

  hasTrade(tradeId: string): boolean {
    return this.seen.has(tradeId);
  }

  applyTrade(fill: TradeFill): ApplyTradeResult {
    if (this.seen.has(fill.tradeId)) return { kind: 'DUPLICATE', tradeId: fill.tradeId };
    if (!Number.isSafeInteger(fill.quantity) || fill.quantity <= 0) {
      return { kind: 'INVALID', reason: `bad quantity ${fill.quantity}` };
    }
    const priceUnits = rupeesToUnits(fill.price);
    if (priceUnits === undefined || priceUnits === 0) {
      return { kind: 'INVALID', reason: `bad price ${fill.price}` };
    }
    this.seen.add(fill.tradeId);

    const qty = BigInt(fill.quantity);
    const price = BigInt(priceUnits);
    const signed = fill.side === 'BUY' ? fill.quantity : -fill.quantity;
    if (fill.side === 'BUY') {
      this.buyQty += fill.quantity;
      this.buyValue += qty * price;
    } else {
      this.sellQty += fill.quantity;
      this.sellValue += qty * price;
    }

    const before = this.realized;
    let flipped = false;
    if (this.net === 0 || Math.sign(this.net) === Math.sign(signed)) {
      this.openCost += qty * price;
    } else {
      const open = BigInt(Math.abs(this.net));
      const closing = qty < open ? qty : open;
      const costRemoved =
        closing === open ? this.openCost : divRound(this.openCost * closing, open);
      const exitValue = closing * price;
      this.realized += this.net > 0 ? exitValue - costRemoved : costRemoved - exitValue;
      this.openCost -= costRemoved;
      const opening = qty - closing;
      if (opening > 0n) {
        this.openCost = opening * price;
        flipped = true;
      }
    }
    this.net += signed;
    return {
      kind: 'APPLIED',
      realizedDeltaPaise: toPaise(this.realized) - toPaise(before),
      flipped,
    };
  }

  realizedPnlPaise(): bigint {
    return toPaise(this.realized);
  }

  /** Realised + unrealised at `ltp` (rupees), in paise. */
  totalPnlPaise(ltp: number): bigint | undefined {
    const ltpUnits = rupeesToUnits(ltp);
    if (ltpUnits === undefined) return undefined;
    return toPaise(this.sellValue - this.buyValue + BigInt(this.net) * BigInt(ltpUnits));
  }

  unrealizedPnlPaise(ltp: number): bigint | undefined {
    const total = this.totalPnlPaise(ltp);
    return total === undefined ? undefined : total - this.realizedPnlPaise();
  }

  view(ltp?: number): PositionView {
    const unrealized = ltp === undefined ? undefined : this.unrealizedPnlPaise(ltp);
    return {
      netQuantity: this.net,
      buyQuantity: this.buyQty,
      sellQuantity: this.sellQty,
      buyAverage: average(this.buyValue, this.buyQty),
      sellAverage: average(this.sellValue, this.sellQty),
      openAverage: average(this.openCost, Math.abs(this.net)),
      realizedPnlPaise: this.realizedPnlPaise(),
      ...(unrealized === undefined ? {} : { unrealizedPnlPaise: unrealized, ltp }),
    };
  }
}

/** All of one account's positions, deduplicating trades across them by exchange trade id. */
export class PositionBook {
  private readonly positions = new Map<string, Position>();
  private readonly seen = new Set<string>();

  static keyOf(key: PositionKey): string {
    return `${key.userId}|${key.segment}|${key.securityId}|${key.productType}`;
  }

  get(key: PositionKey): Position | undefined {
    return this.positions.get(PositionBook.keyOf(key));
  }

  all(): Position[] {
    return [...this.positions.values()];
  }

  applyTrade(key: PositionKey, fill: TradeFill): ApplyTradeResult {
    const tradeKey = `${key.segment}|${fill.tradeId}`;
    if (this.seen.has(tradeKey)) return { kind: 'DUPLICATE', tradeId: fill.tradeId };
    const id = PositionBook.keyOf(key);
    let position = this.positions.get(id);
    if (position === undefined) {
      position = new Position(key);
      this.positions.set(id, position);
    }
    const result = position.applyTrade(fill);
    if (result.kind === 'APPLIED') this.seen.add(tradeKey);
    return result;
  }
}

/** Units to paise, rounded half away from zero. */
function toPaise(units: bigint): bigint {
  return divRound(units, UNITS_PER_PAISA);
}

/** a / b rounded half away from zero, b > 0. */
function divRound(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r = a % b;
  if (r === 0n) return q;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice < b) return q;
  return a < 0n ? q - 1n : q + 1n;
}

function average(valueUnits: bigint, quantity: number): number {
  if (quantity === 0) return 0;
  return Number(valueUnits) / quantity / UNITS_PER_RUPEE;
}
