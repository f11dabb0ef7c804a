import type { OrderSide, OrderType, Validity } from '../../trading/order-vocabulary';

/** The market as the paper engine sees it: LTP and, when the feed gives depth, the touch. */
export interface PaperQuote {
  ltp?: number;
  bestBid?: number;
  bestAsk?: number;
  /** A stale price never fills. */
  stale?: boolean;
}

export interface PaperWorkingOrder {
  side: OrderSide;
  orderType: OrderType;
  validity: Validity;
  /** Rupees; LIMIT and STOP_LOSS. */
  price?: number;
  /** Rupees; STOP_LOSS and STOP_LOSS_MARKET. */
  triggerPrice?: number;
  remaining: number;
  triggered: boolean;
}

export interface PaperDecision {
  /** The stop fired on this check (or earlier). */
  triggered: boolean;
  fill?: { quantity: number; price: number };
  /** IOC: whatever did not fill now is cancelled. */
  cancelRest: boolean;
}

function usable(price: number | undefined): price is number {
  return price !== undefined && Number.isFinite(price) && price > 0;
}

/**
 * The simulator's matching rules (libs/dhan-simulator/src/orders.ts) on live ticks:
 * a stop order waits until the LTP reaches its trigger (a buy at or above, a sell at or below);
 * MARKET (and a fired SL-M) fills at the touch, LIMIT (and a fired SL) when the touch crosses
 * its price; the touch is the best ask for a buy and the best bid for a sell, the LTP when the
 * feed gives no depth. IOC cancels what did not fill at once. Paper fills the whole remaining
 * quantity at once.
 */
export function decidePaperFill(order: PaperWorkingOrder, quote: PaperQuote): PaperDecision {
  const ltp = usable(quote.ltp) && !quote.stale ? quote.ltp : undefined;
  const buy = order.side === 'BUY';
  const stop = order.orderType === 'STOP_LOSS' || order.orderType === 'STOP_LOSS_MARKET';
  let triggered = order.triggered;
  if (stop && !triggered) {
    if (ltp === undefined || !usable(order.triggerPrice)) {
      return { triggered: false, cancelRest: false };
    }
    if (buy ? ltp < order.triggerPrice : ltp > order.triggerPrice) {
      return { triggered: false, cancelRest: false };
    }
    triggered = true;
  }
  const ioc = order.validity === 'IOC';
  if (ltp === undefined) return { triggered, cancelRest: ioc };
  const touch = buy
    ? usable(quote.bestAsk)
      ? quote.bestAsk
      : ltp
    : usable(quote.bestBid)
      ? quote.bestBid
      : ltp;
  const atMarket = order.orderType === 'MARKET' || order.orderType === 'STOP_LOSS_MARKET';
  const limit = order.price;
  const crosses = atMarket || (usable(limit) && (buy ? touch <= limit : touch >= limit));
  if (!crosses || order.remaining <= 0) return { triggered, cancelRest: ioc };
  return { triggered, fill: { quantity: order.remaining, price: touch }, cancelRest: false };
}
