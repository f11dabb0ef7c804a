import type { ChainAnalyticsService } from './chains/chain-analytics.service';
import type { RestMarketDataService } from './rest/rest-market-data.service';
import {
  ExchangeSegment,
  FeedMode,
  FeedResponseCode,
  SEGMENT_CODE,
  instrumentKey,
} from '@app/dhan/types';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { InstrumentsService } from '../instruments/instruments.service';
import type { FeedPool } from './feed/feed-pool.service';
import { DEFAULT_MARKET_DATA_OPTIONS } from './market-data.options';
import {
  MARKET_DATA_EVICTED,
  MarketDataService,
  TICKS_HOLDER,
  type MarketDataEvictedEvent,
} from './market-data.service';
import {
  ReferenceKind,
  SubscriptionRegistry,
  type FeedInstrument,
  type FeedPort,
  type SubscriptionReference,
} from './feed/subscription-registry';
import { TickFanout } from './ticks/tick-fanout';
import { TickSerializer } from './ticks/tick-serializer';
import { DEFAULT_TICK_CHECKS, TickStore } from './ticks/tick-store';
import { TickTransport } from './ticks/tick-transport';

const SEG = ExchangeSegment.NSE_FNO;
const T0 = 1_790_000_000;
const key = (id: number) => instrumentKey(SEGMENT_CODE[SEG], id);

class RecordingPort implements FeedPort {
  readonly unsubscribed: string[] = [];
  subscribe(): void {}
  unsubscribe(_conn: number, _mode: FeedMode, list: readonly FeedInstrument[]): void {
    this.unsubscribed.push(...list.map((i) => i.securityId));
  }
}

const ref = (id: number, kind: ReferenceKind, holderId: string): SubscriptionReference => ({
  segment: SEG,
  securityId: String(id),
  kind,
  holderId,
  mode: FeedMode.QUOTE,
});

/** The real registry, store and fan-out wired by the real service; the feed pool is inert. */
function setup(capacity: number) {
  let now = (T0 + 60) * 1000;
  const port = new RecordingPort();
  const registry = new SubscriptionRegistry(port, {
    connections: 1,
    perConnection: capacity,
    total: capacity,
  });
  const store = new TickStore({ now: () => now, checks: { ...DEFAULT_TICK_CHECKS } });
  const fanout = new TickFanout(store, new TickSerializer(), { now: () => now });
  const pool = { onDisconnect: () => undefined } as unknown as FeedPool;
  const instruments = { get: () => ({}) } as unknown as InstrumentsService;
  const events = new EventEmitter2();
  const evicted: string[] = [];
  events.on(MARKET_DATA_EVICTED, (e: MarketDataEvictedEvent) =>
    evicted.push(e.instrument.securityId),
  );
  const service = new MarketDataService(
    registry,
    store,
    fanout,
    new TickTransport(fanout),
    pool,
    instruments,
    events,
    DEFAULT_MARKET_DATA_OPTIONS,
    {} as ChainAnalyticsService, // chains are not exercised here
    {} as RestMarketDataService, // REST quotes are not exercised here
  );
  let ltt = T0;
  const tick = (id: number, ltp = 100) =>
    store.apply({ type: FeedResponseCode.TICKER, segment: SEG, securityId: id, ltp, ltt: ++ltt });
  return {
    service,
    registry,
    store,
    port,
    evicted,
    tick,
    /** One second of the store's clock, seen at its next drain (the fan-out flush). */
    nextSecond: () => {
      now += 1_000;
      store.drainDirty();
    },
  };
}

describe('MarketDataService wiring of registry and tick store', () => {
  describe('LRU by real use', () => {
    it('evicts the idle instrument, not the older one that keeps ticking (same priority)', () => {
      const { service, tick, nextSecond, evicted } = setup(2);
      service.acquire([ref(1, ReferenceKind.WATCHLIST, 'w1')]);
      service.acquire([ref(2, ReferenceKind.WATCHLIST, 'w2')]);
      tick(2);
      nextSecond();
      tick(1); // 1 was added first but ticks later than 2 did
      const result = service.acquire([ref(3, ReferenceKind.CLIENT, 'c')]);
      expect(result.evicted.map((e) => e.instrument.securityId)).toEqual(['2']);
      expect(evicted).toEqual(['2']);
    });

    it('without ticks the order of acquisition decides (control)', () => {
      const { service, evicted } = setup(2);
      service.acquire([ref(1, ReferenceKind.WATCHLIST, 'w1')]);
      service.acquire([ref(2, ReferenceKind.WATCHLIST, 'w2')]);
      service.acquire([ref(3, ReferenceKind.CLIENT, 'c')]);
      expect(evicted).toEqual(['1']);
    });

    it('ticks never lift an instrument above its priority: a ticking WATCHLIST still goes before an idle CLIENT', () => {
      const { service, tick, nextSecond, evicted } = setup(2);
      service.acquire([ref(1, ReferenceKind.CLIENT, 'c')]);
      service.acquire([ref(2, ReferenceKind.WATCHLIST, 'w')]);
      nextSecond();
      tick(2);
      service.acquire([ref(3, ReferenceKind.POSITION, 'p')]);
      expect(evicted).toEqual(['2']);
    });
  });

  describe('an evicted CLIENT instrument', () => {
    it('is marked stale once, stays stale while packets are still in flight, and takes data again when back on the feed', () => {
      const { service, registry, store, tick, port } = setup(1);
      service.acquire([ref(1, ReferenceKind.CLIENT, TICKS_HOLDER)]);
      tick(1);
      store.drainDirty();
      service.acquire([ref(2, ReferenceKind.POSITION, 'p')]);
      expect(port.unsubscribed).toEqual(['1']);
      expect(registry.hasHolder(key(1), ReferenceKind.CLIENT, TICKS_HOLDER)).toBe(false);
      const rec = store.get(key(1))!;
      expect(store.drainDirty()).toEqual([rec]);
      expect(rec.stale).toBe(true);
      expect(tick(1)).toBeNull();
      expect(rec.stale).toBe(true);
      expect(store.stats().notOnFeed).toBe(1);

      service.release([ref(2, ReferenceKind.POSITION, 'p')]);
      service.acquire([ref(1, ReferenceKind.CLIENT, TICKS_HOLDER)]);
      expect(tick(1, 101)).toBe(rec);
      expect([rec.stale, rec.ltp]).toEqual([false, 101]);
    });
  });
});
