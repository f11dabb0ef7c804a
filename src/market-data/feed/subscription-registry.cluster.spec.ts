import { ExchangeSegment, FeedMode, SEGMENT_CODE, instrumentKey } from '@app/dhan/types';
import {
  ReferenceKind,
  REFERENCE_PRIORITY,
  SubscriptionRegistry,
  type EvictionEvent,
  type FeedInstrument,
  type FeedPort,
  type SubscriptionReference,
} from './subscription-registry';

/** The registry's hooks for the cluster's reference relay: change notices and a mirrored eviction. */
describe('SubscriptionRegistry for the reference relay', () => {
  const unsubscribed: string[] = [];
  const port: FeedPort = {
    subscribe: () => undefined,
    unsubscribe: (_conn: number, _mode: FeedMode, list: readonly FeedInstrument[]) => {
      unsubscribed.push(...list.map((i) => i.securityId));
    },
  };
  const ref = (id: string, holderId = 'w1'): SubscriptionReference => ({
    segment: ExchangeSegment.NSE_EQ,
    securityId: id,
    kind: ReferenceKind.WATCHLIST,
    holderId,
    mode: FeedMode.QUOTE,
  });
  const key = (id: number) => instrumentKey(SEGMENT_CODE[ExchangeSegment.NSE_EQ], id);

  it('tells its change listener after each acquire, release and eviction that changed something', () => {
    const registry = new SubscriptionRegistry(port);
    let changes = 0;
    registry.onChange(() => changes++);
    registry.acquire([ref('11'), ref('12')]);
    expect(changes).toBe(1);
    registry.release([ref('99')]);
    expect(changes).toBe(1);
    registry.release([ref('12')]);
    expect(changes).toBe(2);
    registry.evict(key(11), REFERENCE_PRIORITY[ReferenceKind.TIER_B]);
    expect(changes).toBe(3);
    registry.onChange(null);
    registry.acquire([ref('13')]);
    expect(changes).toBe(3);
  });

  it('evicts an instrument with every holder, as the leader did, and tells the eviction listeners', () => {
    unsubscribed.length = 0;
    const registry = new SubscriptionRegistry(port);
    const events: EvictionEvent[] = [];
    registry.onEviction((e) => events.push(e));
    registry.acquire([ref('21', 'w1'), ref('21', 'w2'), ref('22')]);
    const event = registry.evict(key(21), 3);
    expect(event?.holders.map((h) => h.holderId).sort()).toEqual(['w1', 'w2']);
    expect(events).toEqual([event]);
    expect(event?.forPriority).toBe(3);
    expect(registry.has(key(21))).toBe(false);
    expect(registry.has(key(22))).toBe(true);
    expect(unsubscribed).toEqual(['21']);
    // Unknown: nothing happens.
    expect(registry.evict(key(21), 3)).toBeNull();
    expect(events).toHaveLength(1);
  });
});
