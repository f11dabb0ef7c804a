import { Position, type PositionKey } from '../execution/domain';
import { FundsLedger } from './funds-ledger';

/** One stored trade as the funds ledger settles it (money in paise, price in 1/10,000 rupee). */
export interface SettlementTrade {
  /** `segment|exchangeTradeId`: a trade is settled once. */
  tradeKey: string;
  /** The order the trade filled: its reservation's share of these units is released. */
  orderId: string;
  key: PositionKey;
  side: 'BUY' | 'SELL';
  quantity: number;
  priceUnits: number;
}

/** What one trade did to the funds: stored, so a rebuild gives back exactly the same figures. */
export interface SettlementEntry {
  tradeKey: string;
  positionKey: string;
  realizedPaise: number;
  chargesPaise: number;
  /** The position's margin after the trade (0 once flat). */
  marginPaise: number;
}

/** What settlement needs from its caller: the margin of an open position, a trade's charges. */
export interface SettlementRules {
  /** Margin of `|net|` units whose open cost is `openCostPaise`, long when `side` is BUY. */
  marginOf(
    trade: SettlementTrade,
    side: 'BUY' | 'SELL',
    quantity: number,
    openCostPaise: number,
  ): number;
  chargesOf(trade: SettlementTrade, valuePaise: number): number;
}

export function positionKeyOf(key: PositionKey): string {
  return `${key.segment}|${key.securityId}|${key.productType}`;
}

/**
 * One user's funds with the positions they settle against (average cost, as the position book
 * computes it, so realised P&L here is the positions' realised P&L to the paisa). A trade's
 * realised P&L and charges go to the balance; the position's margin, recomputed at the traded
 * prices, replaces its previous margin in `used` (released in full when flat); and, in the same
 * step, the order's reservation stops holding the traded units (FundsLedger.settleUnits).
 */
export class FundsBook {
  readonly ledger: FundsLedger;
  private readonly positions = new Map<string, Position>();
  private readonly settled = new Set<string>();

  constructor(openingPaise: number) {
    this.ledger = new FundsLedger(openingPaise);
  }

  has(tradeKey: string): boolean {
    return this.settled.has(tradeKey);
  }

  /**
   * Settles a trade once. With `stored` (the entry written when it was first settled) its
   * charges and margin are taken as they were; otherwise they are computed by `rules`.
   * Returns the entry, or `undefined` for a trade already settled or one that is invalid.
   */
  settle(
    trade: SettlementTrade,
    rules: SettlementRules,
    stored?: SettlementEntry,
  ): SettlementEntry | undefined {
    if (this.settled.has(trade.tradeKey)) return undefined;
    const positionKey = positionKeyOf(trade.key);
    let position = this.positions.get(positionKey);
    if (position === undefined) {
      position = new Position(trade.key);
      this.positions.set(positionKey, position);
    }
    const applied = position.applyTrade({
      tradeId: trade.tradeKey,
      side: trade.side,
      quantity: trade.quantity,
      price: trade.priceUnits / 10_000,
    });
    if (applied.kind !== 'APPLIED') return undefined;
    this.settled.add(trade.tradeKey);
    const net = position.netQuantity;
    const entry: SettlementEntry = stored ?? {
      tradeKey: trade.tradeKey,
      positionKey,
      realizedPaise: Number(applied.realizedDeltaPaise),
      chargesPaise: rules.chargesOf(trade, valuePaise(trade.quantity, trade.priceUnits)),
      marginPaise:
        net === 0
          ? 0
          : rules.marginOf(
              trade,
              net > 0 ? 'BUY' : 'SELL',
              Math.abs(net),
              Number((position.openCostUnits + 99n) / 100n),
            ),
    };
    this.ledger.settle(entry.realizedPaise, entry.chargesPaise);
    this.ledger.setMargin(positionKey, entry.marginPaise);
    this.ledger.settleUnits(trade.orderId, trade.quantity);
    return entry;
  }

  /** Open positions (net != 0) with their open cost in paise (rounded up). */
  openPositions(): Array<{ key: PositionKey; net: number; openCostPaise: number }> {
    return [...this.positions.values()]
      .filter((p) => p.netQuantity !== 0)
      .map((p) => ({
        key: p.key,
        net: p.netQuantity,
        openCostPaise: Number((p.openCostUnits + 99n) / 100n),
      }));
  }
}

/** Value of a trade in paise, rounded up to the paisa. */
export function valuePaise(quantity: number, priceUnits: number): number {
  return Number((BigInt(quantity) * BigInt(priceUnits) + 99n) / 100n);
}
