import fc from 'fast-check';
import { ExchangeSegment, FeedMode } from '@app/dhan/types';
import { MarketDataError, MarketDataErrorCode } from '../market-data.errors';
import {
  FeedInstrument,
  FeedPort,
  ReferenceKind,
  SubscriptionReference,
  SubscriptionRegistry,
} from './subscription-registry';

const LIMITS = { connections: 3, perConnection: 4, total: 10, perMessage: 2 };

/** Replays the registry's messages the way the exchange would hold them. */
class SimulatedFeed implements FeedPort {
  readonly conns = Array.from({ length: LIMITS.connections }, () => new Map<string, FeedMode>());
  oversized = 0;

  subscribe(conn: number, mode: FeedMode, list: readonly FeedInstrument[]): void {
    if (list.length > LIMITS.perMessage) this.oversized++;
    for (const i of list) {
      if (this.conns[conn].has(i.securityId)) throw new Error(`double subscribe ${i.securityId}`);
      this.conns[conn].set(i.securityId, mode);
    }
  }

  unsubscribe(conn: number, mode: FeedMode, list: readonly FeedInstrument[]): void {
    if (list.length > LIMITS.perMessage) this.oversized++;
    for (const i of list) {
      if (this.conns[conn].get(i.securityId) !== mode) throw new Error(`bad unsubscribe`);
      this.conns[conn].delete(i.securityId);
    }
  }
}

const refArb: fc.Arbitrary<SubscriptionReference> = fc.record({
  segment: fc.constant(ExchangeSegment.NSE_FNO),
  securityId: fc.integer({ min: 1, max: 16 }).map(String),
  kind: fc.constantFrom(...Object.values(ReferenceKind)),
  holderId: fc.constantFrom('a', 'b', 'c'),
  mode: fc.constantFrom(FeedMode.TICKER, FeedMode.QUOTE, FeedMode.FULL),
});

const opArb = fc.record({
  release: fc.boolean(),
  refs: fc.array(refArb, { minLength: 1, maxLength: 4 }),
});

describe('SubscriptionRegistry invariants (property)', () => {
  it('limits hold, the feed matches the replay sets, failures change nothing, Tier B stays', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const feed = new SimulatedFeed();
        const registry = new SubscriptionRegistry(feed, LIMITS);
        // Tier B holders per instrument, as the model sees them.
        const tierB = new Map<string, Set<string>>();
        for (const op of ops) {
          if (op.release) {
            registry.release(op.refs);
            for (const r of op.refs) {
              if (r.kind === ReferenceKind.TIER_B) tierB.get(r.securityId)?.delete(r.holderId);
            }
          } else {
            const before = registry.stats();
            try {
              registry.acquire(op.refs);
              for (const r of op.refs) {
                if (r.kind !== ReferenceKind.TIER_B) continue;
                const holders = tierB.get(r.securityId) ?? new Set<string>();
                holders.add(r.holderId);
                tierB.set(r.securityId, holders);
              }
            } catch (e) {
              expect((e as MarketDataError).code).toBe(MarketDataErrorCode.CAPACITY_EXCEEDED);
              expect(registry.stats()).toEqual(before);
            }
          }
          const stats = registry.stats();
          expect(stats.total).toBeLessThanOrEqual(LIMITS.total);
          for (const n of stats.byConnection) expect(n).toBeLessThanOrEqual(LIMITS.perConnection);
          for (let c = 0; c < LIMITS.connections; c++) {
            const replay = registry.replaySet(c);
            const expected = new Map<string, FeedMode>();
            for (const mode of Object.values(FeedMode)) {
              for (const i of replay[mode]) expected.set(i.securityId, mode);
            }
            expect(feed.conns[c]).toEqual(expected);
          }
          for (const [id, holders] of tierB) {
            if (holders.size > 0) expect(registry.has(key({ securityId: id }))).toBe(true);
          }
        }
        expect(feed.oversized).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

function key(r: { securityId: string }): number {
  return 2 * 0x1_0000_0000 + Number(r.securityId);
}
