import { ExchangeSegment } from '@app/dhan/types';
import { PositionBook } from '../position';
import { aPosition, aPositionKey, aTrade, buy } from '../__tests__/factories';

describe('scenario: a trade arriving twice (socket and reconciliation) counts once', () => {
  it('reports the duplicate and leaves the position unchanged', () => {
    const fill = buy(10, 100);
    const position = aPosition(fill);
    expect(position.applyTrade(fill)).toEqual({ kind: 'DUPLICATE', tradeId: fill.tradeId });
    expect(position.view()).toMatchObject({ netQuantity: 10, buyQuantity: 10 });
  });

  it('deduplicates across the book by segment and exchange trade id', () => {
    const book = new PositionBook();
    const fill = aTrade({ tradeId: 'X1', quantity: 5 });
    expect(book.applyTrade(aPositionKey(), fill).kind).toBe('APPLIED');
    expect(book.applyTrade(aPositionKey(), { ...fill }).kind).toBe('DUPLICATE');
    const otherSegment = aPositionKey({ segment: ExchangeSegment.BSE_EQ, securityId: '500325' });
    expect(book.applyTrade(otherSegment, fill).kind).toBe('APPLIED');
    expect(book.get(aPositionKey())?.netQuantity).toBe(5);
    expect(book.all()).toHaveLength(2);
  });

  it('does not mark an invalid trade as seen', () => {
    const position = aPosition();
    expect(position.applyTrade(aTrade({ tradeId: 'Z', quantity: 0 })).kind).toBe('INVALID');
    expect(position.applyTrade(aTrade({ tradeId: 'Z', quantity: 1 })).kind).toBe('APPLIED');
  });
});
