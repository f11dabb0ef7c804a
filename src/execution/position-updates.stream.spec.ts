import { ExchangeSegment } from '@app/dhan/types';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { PositionBook, type PositionKey, type PositionView } from './domain';
import { POSITIONS_UPDATED, type PositionsUpdatedPayload } from './execution.events';
import { positionUpdatesOf } from './position-updates.stream';

const key = (userId: string, securityId: string): PositionKey => ({
  userId,
  segment: ExchangeSegment.NSE_EQ,
  securityId,
  productType: 'INTRADAY',
});

function view(net: number, unrealized: bigint): PositionView {
  return {
    netQuantity: net,
    buyQuantity: net,
    sellQuantity: 0,
    buyAverage: 100,
    sellAverage: 0,
    openAverage: 100,
    realizedPnlPaise: 0n,
    unrealizedPnlPaise: unrealized,
    ltp: 100,
  };
}

describe('positionUpdates stream', () => {
  it('only the subscriber s positions; an unread position keeps only its latest state', async () => {
    const events = new EventEmitter2();
    const stream = positionUpdatesOf(events, 'alice', (p) => ({
      id: PositionBook.keyOf(p.key),
      pnl: p.view.unrealizedPnlPaise,
    }));
    const emit = (payload: PositionsUpdatedPayload) => events.emit(POSITIONS_UPDATED, payload);
    emit({ key: key('alice', '1'), view: view(1, 10n) });
    emit({ key: key('bob', '1'), view: view(1, 99n) });
    emit({ key: key('alice', '2'), view: view(2, 20n) });
    emit({ key: key('alice', '1'), view: view(1, 11n) });

    const first = await stream.next();
    const second = await stream.next();
    expect([first.value, second.value]).toEqual([
      { positionUpdates: { id: PositionBook.keyOf(key('alice', '2')), pnl: 20n } },
      { positionUpdates: { id: PositionBook.keyOf(key('alice', '1')), pnl: 11n } },
    ]);
    // A waiting reader gets the next one at once.
    const waiting = stream.next();
    emit({ key: key('alice', '1'), view: view(1, 12n) });
    expect((await waiting).value).toEqual({
      positionUpdates: { id: PositionBook.keyOf(key('alice', '1')), pnl: 12n },
    });
    await stream.return!();
    expect(events.listenerCount(POSITIONS_UPDATED)).toBe(0);
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });
});
