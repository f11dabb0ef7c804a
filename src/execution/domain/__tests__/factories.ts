import { ExchangeSegment } from '@app/dhan/types';
import { Position, PositionKey, TradeFill } from '../position';

let seq = 0;

export function aPositionKey(overrides: Partial<PositionKey> = {}): PositionKey {
  return {
    userId: 'user-1',
    segment: ExchangeSegment.NSE_EQ,
    securityId: '2885',
    productType: 'INTRADAY',
    ...overrides,
  };
}

/** A fill with a fresh exchange trade id: BUY 1 at Rs 100 unless told otherwise. */
export function aTrade(overrides: Partial<TradeFill> = {}): TradeFill {
  return { tradeId: `T${++seq}`, side: 'BUY', quantity: 1, price: 100, ...overrides };
}

/** A position with the given trades applied, each required to apply. */
export function aPosition(...fills: TradeFill[]): Position {
  const position = new Position(aPositionKey());
  for (const fill of fills) {
    const result = position.applyTrade(fill);
    if (result.kind !== 'APPLIED')
      throw new Error(`trade ${fill.tradeId} not applied: ${result.kind}`);
  }
  return position;
}

export const buy = (quantity: number, price: number) => aTrade({ side: 'BUY', quantity, price });
export const sell = (quantity: number, price: number) => aTrade({ side: 'SELL', quantity, price });
