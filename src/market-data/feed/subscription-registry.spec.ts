import { ExchangeSegment, FeedMode, SEGMENT_CODE, instrumentKey } from '@app/dhan/types';
import { MarketDataError, MarketDataErrorCode } from '../market-data.errors';
import {
  EvictionEvent,
  FeedInstrument,
  FeedPort,
  ReferenceKind,
  RegistryLimits,
  SubscriptionReference,
  SubscriptionRegistry,
} from './subscription-registry';

interface Message {
  op: 'sub' | 'unsub';
  conn: number;
  mode: FeedMode;
  ids: string[];
}

class RecordingPort implements FeedPort {
  messages: Message[] = [];
  subscribe(conn: number, mode: FeedMode, list: readonly FeedInstrument[]): void {
    this.messages.push({ op: 'sub', conn, mode, ids: list.map((i) => i.securityId) });
  }
  unsubscribe(conn: number, mode: FeedMode, list: readonly FeedInstrument[]): void {
    this.messages.push({ op: 'unsub', conn, mode, ids: list.map((i) => i.securityId) });
  }
  take(): Message[] {
    const out = this.messages;
    this.messages = [];
    return out;
  }
}

function aRef(
  securityId: number | string,
  overrides: Partial<SubscriptionReference> = {},
): SubscriptionReference {
  return {
    segment: ExchangeSegment.NSE_FNO,
    securityId: String(securityId),
    kind: ReferenceKind.CLIENT,
    holderId: 'c1',
    mode: FeedMode.QUOTE,
    ...overrides,
  };
}

function range(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

const key = (id: number) => instrumentKey(SEGMENT_CODE[ExchangeSegment.NSE_FNO], id);

function setup(limits?: Partial<RegistryLimits>) {
  const port = new RecordingPort();
  const registry = new SubscriptionRegistry(port, limits);
  const evictions: EvictionEvent[] = [];
  registry.onEviction((e) => evictions.push(e));
  return { port, registry, evictions };
}

function expectError(fn: () => unknown, code: MarketDataErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(MarketDataError);
  expect((caught as MarketDataError).code).toBe(code);
}

describe('SubscriptionRegistry', () => {
  describe('references and modes', () => {
    it('puts an instrument on the feed once however many holders reference it', () => {
      const { port, registry } = setup();
      registry.acquire([aRef(100, { holderId: 'a' })]);
      registry.acquire([aRef(100, { holderId: 'b' })]);
      expect(port.take()).toEqual([{ op: 'sub', conn: 0, mode: FeedMode.QUOTE, ids: ['100'] }]);
      expect(registry.stats().total).toBe(1);
      expect(registry.stats().byKind.CLIENT).toEqual({ instruments: 1, references: 2 });
    });

    it('keeps the instrument while any holder remains and unsubscribes after the last leaves', () => {
      const { port, registry } = setup();
      registry.acquire([aRef(100, { holderId: 'a' }), aRef(100, { holderId: 'b' })]);
      port.take();
      expect(registry.release([aRef(100, { holderId: 'a' })])).toEqual({ released: 1, removed: 0 });
      expect(port.take()).toEqual([]);
      expect(registry.release([aRef(100, { holderId: 'b' })])).toEqual({ released: 1, removed: 1 });
      expect(port.take()).toEqual([{ op: 'unsub', conn: 0, mode: FeedMode.QUOTE, ids: ['100'] }]);
      expect(registry.has(key(100))).toBe(false);
    });

    it('upgrades to the highest mode asked for: unsubscribe the old mode, subscribe the new', () => {
      const { port, registry } = setup();
      registry.acquire([aRef(100, { holderId: 'a', mode: FeedMode.TICKER })]);
      port.take();
      registry.acquire([aRef(100, { holderId: 'b', mode: FeedMode.FULL })]);
      expect(port.take()).toEqual([
        { op: 'unsub', conn: 0, mode: FeedMode.TICKER, ids: ['100'] },
        { op: 'sub', conn: 0, mode: FeedMode.FULL, ids: ['100'] },
      ]);
      expect(registry.placement(key(100))).toEqual({ connIndex: 0, mode: FeedMode.FULL });
    });

    it('does not downgrade while a high-mode holder remains, and downgrades when the last leaves', () => {
      const { port, registry } = setup();
      registry.acquire([
        aRef(100, { holderId: 'a', mode: FeedMode.FULL }),
        aRef(100, { holderId: 'b', mode: FeedMode.FULL }),
        aRef(100, { holderId: 'c', mode: FeedMode.TICKER }),
      ]);
      expect(port.take()).toEqual([{ op: 'sub', conn: 0, mode: FeedMode.FULL, ids: ['100'] }]);
      registry.release([aRef(100, { holderId: 'a', mode: FeedMode.FULL })]);
      expect(port.take()).toEqual([]);
      registry.release([aRef(100, { holderId: 'b', mode: FeedMode.FULL })]);
      expect(port.take()).toEqual([
        { op: 'unsub', conn: 0, mode: FeedMode.FULL, ids: ['100'] },
        { op: 'sub', conn: 0, mode: FeedMode.TICKER, ids: ['100'] },
      ]);
      expect(registry.stats().byMode).toEqual({ TICKER: 1, QUOTE: 0, FULL: 0 });
    });

    it('re-acquiring the same reference with another mode changes its mode, not its count', () => {
      const { port, registry } = setup();
      registry.acquire([aRef(100, { mode: FeedMode.FULL })]);
      registry.acquire([aRef(100, { mode: FeedMode.TICKER })]);
      expect(port.take().slice(1)).toEqual([
        { op: 'unsub', conn: 0, mode: FeedMode.FULL, ids: ['100'] },
        { op: 'sub', conn: 0, mode: FeedMode.TICKER, ids: ['100'] },
      ]);
      expect(registry.stats().byKind.CLIENT.references).toBe(1);
    });

    it('ignores releases of references that do not exist', () => {
      const { port, registry } = setup();
      registry.acquire([aRef(100)]);
      port.take();
      expect(registry.release([aRef(100, { holderId: 'other' }), aRef(999)])).toEqual({
        released: 0,
        removed: 0,
      });
      expect(port.take()).toEqual([]);
      expect(registry.has(key(100))).toBe(true);
    });

    it('releaseHolder drops every reference of one holder and nothing else', () => {
      const { registry } = setup();
      registry.acquire([
        aRef(1, { holderId: 'gone' }),
        aRef(2, { holderId: 'gone' }),
        aRef(2, { holderId: 'stays' }),
        aRef(3, { holderId: 'gone', kind: ReferenceKind.WATCHLIST }),
      ]);
      expect(registry.releaseHolder(ReferenceKind.CLIENT, 'gone')).toEqual({
        released: 2,
        removed: 1,
      });
      expect(registry.has(key(1))).toBe(false);
      expect(registry.holdersOf(key(2))).toEqual([
        { kind: ReferenceKind.CLIENT, holderId: 'stays', mode: FeedMode.QUOTE },
      ]);
      expect(registry.has(key(3))).toBe(true);
    });

    it('rejects a malformed reference before changing anything', () => {
      const { port, registry } = setup();
      expectError(
        () => registry.acquire([aRef(1), aRef('12abc')]),
        MarketDataErrorCode.INVALID_ARGUMENT,
      );
      expectError(
        () => registry.acquire([aRef(1, { segment: 'NOPE' as ExchangeSegment })]),
        MarketDataErrorCode.INVALID_ARGUMENT,
      );
      expect(port.take()).toEqual([]);
      expect(registry.stats().total).toBe(0);
    });
  });

  describe('batching and placement', () => {
    it('sends at most 100 instruments per (connection, mode) message', () => {
      const { port, registry } = setup();
      registry.acquire(range(1, 1234).map((id) => aRef(id)));
      const messages = port.take();
      expect(messages.every((m) => m.op === 'sub' && m.ids.length <= 100)).toBe(true);
      expect(messages.reduce((n, m) => n + m.ids.length, 0)).toBe(1234);
      const perConn = [0, 1, 2, 3, 4].map((c) =>
        messages.filter((m) => m.conn === c).reduce((n, m) => n + m.ids.length, 0),
      );
      expect(Math.max(...perConn) - Math.min(...perConn)).toBeLessThanOrEqual(1);
      // 1234 over 5 connections: 247 each (one with 246) -> 3 messages per connection.
      expect(messages).toHaveLength(15);
    });

    it('fills 25,000 instruments balanced over 5 connections (spread <= 1), none over 5,000', () => {
      const { port, registry } = setup();
      for (let i = 0; i < 25_000; i += 500) {
        registry.acquire(range(i + 1, 500).map((id) => aRef(id, { holderId: `h${i}` })));
      }
      const stats = registry.stats();
      expect(stats.total).toBe(25_000);
      expect(stats.byConnection).toEqual([5000, 5000, 5000, 5000, 5000]);
      expect(port.take().every((m) => m.ids.length <= 100)).toBe(true);
    });

    it('stays balanced within one as single instruments are added one by one', () => {
      const { registry } = setup();
      for (let id = 1; id <= 2_003; id++) {
        registry.acquire([aRef(id)]);
        const by = registry.stats().byConnection;
        expect(Math.max(...by) - Math.min(...by)).toBeLessThanOrEqual(1);
      }
    });

    it('spills past a full connection: per-connection limit binds before the total', () => {
      const { registry } = setup({ connections: 2, perConnection: 3, total: 100 });
      registry.acquire(range(1, 6).map((id) => aRef(id)));
      expect(registry.stats().byConnection).toEqual([3, 3]);
      expect(registry.stats().capacity).toBe(6);
      expectError(() => registry.acquire([aRef(7)]), MarketDataErrorCode.CAPACITY_EXCEEDED);
    });

    it("a port that throws does not leak that operation's messages into the next one", () => {
      const port = new RecordingPort();
      const registry = new SubscriptionRegistry(port, { connections: 2 });
      const subscribe = port.subscribe.bind(port);
      port.subscribe = () => {
        throw new Error('socket closed');
      };
      expect(() => registry.acquire([aRef(1), aRef(2)])).toThrow('socket closed');
      port.subscribe = subscribe;
      registry.acquire([aRef(3)]);
      expect(port.take()).toEqual([{ op: 'sub', conn: 0, mode: FeedMode.QUOTE, ids: ['3'] }]);
    });

    it('replays per connection and mode what that connection should carry', () => {
      const { registry } = setup({ connections: 2 });
      registry.acquire([
        aRef(1, { mode: FeedMode.TICKER }),
        aRef(2, { mode: FeedMode.FULL }),
        aRef(3, { mode: FeedMode.QUOTE }),
        aRef(4, { mode: FeedMode.FULL }),
      ]);
      const ids = (l: readonly FeedInstrument[]) => l.map((i) => i.securityId);
      const r0 = registry.replaySet(0);
      const r1 = registry.replaySet(1);
      expect([ids(r0.TICKER), ids(r0.QUOTE), ids(r0.FULL)]).toEqual([['1'], ['3'], []]);
      expect([ids(r1.TICKER), ids(r1.QUOTE), ids(r1.FULL)]).toEqual([[], [], ['2', '4']]);
      expect(registry.keysOnConnection(1)).toEqual([key(2), key(4)]);
    });

    it('counts by kind, connection, mode and tag', () => {
      const { registry } = setup({ connections: 2 });
      registry.acquire([
        aRef(1, { kind: ReferenceKind.TIER_B, holderId: 'NIFTY', tag: 'NIFTY' }),
        aRef(2, { kind: ReferenceKind.TIER_B, holderId: 'NIFTY', tag: 'NIFTY' }),
        aRef(2, { kind: ReferenceKind.WATCHLIST, holderId: 'w1' }),
        aRef(3, { kind: ReferenceKind.ORDER, holderId: 'o1', mode: FeedMode.FULL }),
      ]);
      const stats = registry.stats();
      expect(stats.byTag).toEqual({ NIFTY: 2 });
      expect(stats.byKind.TIER_B).toEqual({ instruments: 2, references: 2 });
      expect(stats.byKind.WATCHLIST).toEqual({ instruments: 1, references: 1 });
      expect(stats.byKind.ORDER).toEqual({ instruments: 1, references: 1 });
      expect(stats.byConnection).toEqual([2, 1]);
      expect(stats.byMode).toEqual({ TICKER: 0, QUOTE: 2, FULL: 1 });
      registry.releaseHolder(ReferenceKind.TIER_B, 'NIFTY');
      expect(registry.stats().byTag).toEqual({});
      expect(registry.stats().byKind.TIER_B).toEqual({ instruments: 0, references: 0 });
    });
  });

  describe('capacity and eviction', () => {
    const limits = { connections: 2, perConnection: 2, total: 4 };

    it('fails atomically with CAPACITY_EXCEEDED: no message, no reference, no count changes', () => {
      const { port, registry, evictions } = setup(limits);
      registry.acquire(range(1, 3).map((id) => aRef(id, { kind: ReferenceKind.TIER_B })));
      port.take();
      const before = registry.stats();
      expectError(
        () =>
          registry.acquire([
            aRef(1, { kind: ReferenceKind.CLIENT, mode: FeedMode.FULL }),
            aRef(10),
            aRef(11),
          ]),
        MarketDataErrorCode.CAPACITY_EXCEEDED,
      );
      expect(port.take()).toEqual([]);
      expect(evictions).toEqual([]);
      expect(registry.stats()).toEqual(before);
      expect(registry.holdersOf(key(1)).map((h) => h.kind)).toEqual([ReferenceKind.TIER_B]);
    });

    it('evicts the least recently used instrument of the lowest priority and tells its holders', () => {
      const { port, registry, evictions } = setup(limits);
      registry.acquire([aRef(1, { kind: ReferenceKind.WATCHLIST, holderId: 'w1' })]);
      registry.acquire([aRef(2, { kind: ReferenceKind.WATCHLIST, holderId: 'w1' })]);
      registry.acquire([aRef(3, { kind: ReferenceKind.CLIENT, holderId: 'c1' })]);
      registry.acquire([aRef(4, { kind: ReferenceKind.WATCHLIST, holderId: 'w2' })]);
      registry.touch(key(1));
      port.take();

      const result = registry.acquire([aRef(5, { kind: ReferenceKind.CLIENT, holderId: 'c2' })]);
      expect(result.evicted.map((e) => e.instrument.securityId)).toEqual(['2']);
      expect(evictions).toHaveLength(1);
      expect(evictions[0]).toEqual({
        instrument: { key: key(2), segment: ExchangeSegment.NSE_FNO, securityId: '2' },
        holders: [{ kind: ReferenceKind.WATCHLIST, holderId: 'w1', mode: FeedMode.QUOTE }],
        forPriority: 2,
      });
      // The freed slot is on the victim's connection, so the newcomer lands there.
      expect(port.take()).toEqual([
        { op: 'unsub', conn: 1, mode: FeedMode.QUOTE, ids: ['2'] },
        { op: 'sub', conn: 1, mode: FeedMode.QUOTE, ids: ['5'] },
      ]);
    });

    it('takes the lowest priority first, then LRU within the next level', () => {
      const { registry } = setup(limits);
      registry.acquire([aRef(1, { kind: ReferenceKind.CLIENT })]);
      registry.acquire([aRef(2, { kind: ReferenceKind.CLIENT })]);
      registry.acquire([aRef(3, { kind: ReferenceKind.WATCHLIST })]);
      registry.acquire([aRef(4, { kind: ReferenceKind.POSITION })]);
      const r = registry.acquire([
        aRef(5, { kind: ReferenceKind.ORDER, holderId: 'o' }),
        aRef(6, { kind: ReferenceKind.ORDER, holderId: 'o' }),
      ]);
      expect(r.evicted.map((e) => e.instrument.securityId)).toEqual(['3', '1']);
    });

    it('never evicts an instrument of equal priority: CLIENT cannot displace CLIENT', () => {
      const { registry, evictions } = setup(limits);
      registry.acquire(range(1, 4).map((id) => aRef(id, { kind: ReferenceKind.CLIENT })));
      expectError(() => registry.acquire([aRef(5)]), MarketDataErrorCode.CAPACITY_EXCEEDED);
      expect(evictions).toEqual([]);
    });

    it('never evicts Tier B, not even for Tier B', () => {
      const { registry } = setup(limits);
      registry.acquire(range(1, 4).map((id) => aRef(id, { kind: ReferenceKind.TIER_B })));
      expectError(
        () => registry.acquire([aRef(5, { kind: ReferenceKind.TIER_B })]),
        MarketDataErrorCode.CAPACITY_EXCEEDED,
      );
      expectError(
        () => registry.acquire([aRef(5, { kind: ReferenceKind.POSITION })]),
        MarketDataErrorCode.CAPACITY_EXCEEDED,
      );
      expect(registry.stats().byKind.TIER_B.instruments).toBe(4);
    });

    it('an instrument also held by a higher kind is protected at that higher priority', () => {
      const { registry } = setup(limits);
      registry.acquire([aRef(1, { kind: ReferenceKind.WATCHLIST })]);
      registry.acquire([aRef(1, { kind: ReferenceKind.POSITION, holderId: 'p' })]);
      registry.acquire(range(2, 3).map((id) => aRef(id, { kind: ReferenceKind.CLIENT })));
      expectError(
        () => registry.acquire([aRef(9, { kind: ReferenceKind.CLIENT, holderId: 'x' })]),
        MarketDataErrorCode.CAPACITY_EXCEEDED,
      );
      const r = registry.acquire([aRef(9, { kind: ReferenceKind.POSITION, holderId: 'x' })]);
      expect(r.evicted.map((e) => e.instrument.securityId)).toEqual(['2']);
    });

    it('does not evict an instrument that the same request references', () => {
      const { registry } = setup(limits);
      registry.acquire(range(1, 4).map((id) => aRef(id, { kind: ReferenceKind.WATCHLIST })));
      const r = registry.acquire([
        aRef(1, { kind: ReferenceKind.CLIENT, holderId: 'c' }),
        aRef(5, { kind: ReferenceKind.CLIENT, holderId: 'c' }),
      ]);
      expect(r.evicted.map((e) => e.instrument.securityId)).toEqual(['2']);
      expect(registry.has(key(1))).toBe(true);
    });

    it('fails atomically when only some of the newcomers could find a victim', () => {
      const { registry, port } = setup(limits);
      registry.acquire([aRef(1, { kind: ReferenceKind.WATCHLIST })]);
      registry.acquire(range(2, 3).map((id) => aRef(id, { kind: ReferenceKind.CLIENT })));
      port.take();
      // Two newcomers need two victims; only one (the WATCHLIST) is strictly lower than CLIENT.
      expectError(
        () => registry.acquire([aRef(8, { holderId: 'n' }), aRef(9, { holderId: 'n' })]),
        MarketDataErrorCode.CAPACITY_EXCEEDED,
      );
      expect(port.take()).toEqual([]);
      expect(registry.has(key(1))).toBe(true);
    });

    it('a touched instrument becomes the most recent of its level', () => {
      const { registry } = setup(limits);
      registry.acquire(range(1, 4).map((id) => aRef(id, { kind: ReferenceKind.WATCHLIST })));
      registry.touch(key(1));
      registry.touch(key(2));
      const r = registry.acquire([aRef(5, { kind: ReferenceKind.CLIENT })]);
      expect(r.evicted[0].instrument.securityId).toBe('3');
    });

    it('at 25,000 the next request evicts by priority or fails; Tier B stays', () => {
      const { registry } = setup();
      registry.acquire(range(1, 5_000).map((id) => aRef(id, { kind: ReferenceKind.TIER_B })));
      registry.acquire(range(5_001, 20_000).map((id) => aRef(id, { kind: ReferenceKind.CLIENT })));
      expect(registry.stats().total).toBe(25_000);
      expectError(
        () => registry.acquire([aRef(90_000, { kind: ReferenceKind.CLIENT, holderId: 'z' })]),
        MarketDataErrorCode.CAPACITY_EXCEEDED,
      );
      const r = registry.acquire([aRef(90_000, { kind: ReferenceKind.ORDER, holderId: 'z' })]);
      expect(r.evicted.map((e) => e.instrument.securityId)).toEqual(['5001']);
      expect(registry.stats().byKind.TIER_B.instruments).toBe(5_000);
    });
  });
  describe('list and hasHolder', () => {
    it('lists the feed by connection then key, with mode, priority and holders; filters by kind', () => {
      const { registry } = setup({ connections: 2, perConnection: 10, total: 20 });
      registry.acquire([
        aRef(7, { kind: ReferenceKind.WATCHLIST, holderId: 'w', mode: FeedMode.TICKER }),
        aRef(3, { kind: ReferenceKind.CLIENT, holderId: 'ticks' }),
        aRef(5, { kind: ReferenceKind.TIER_B, holderId: 'NIFTY', tag: 'NIFTY' }),
      ]);
      registry.acquire([
        aRef(7, { kind: ReferenceKind.ORDER, holderId: 'o1', mode: FeedMode.FULL }),
      ]);
      const rows = registry.list();
      expect(rows.map((r) => [r.connIndex, r.securityId])).toEqual([
        [0, '5'],
        [0, '7'],
        [1, '3'],
      ]);
      expect(rows[1]).toMatchObject({
        mode: FeedMode.FULL,
        priority: ReferenceKind.ORDER,
        holders: [
          { kind: ReferenceKind.WATCHLIST, holderId: 'w', mode: FeedMode.TICKER },
          { kind: ReferenceKind.ORDER, holderId: 'o1', mode: FeedMode.FULL },
        ],
      });
      expect(registry.list(ReferenceKind.WATCHLIST).map((r) => r.securityId)).toEqual(['7']);
      expect(registry.list(ReferenceKind.POSITION)).toEqual([]);
      expect(registry.hasHolder(key(3), ReferenceKind.CLIENT, 'ticks')).toBe(true);
      expect(registry.hasHolder(key(3), ReferenceKind.CLIENT, 'other')).toBe(false);
      expect(registry.hasHolder(key(99), ReferenceKind.CLIENT, 'ticks')).toBe(false);
    });
  });
});

describe('SubscriptionRegistry per-owner quotas (WATCHLIST references of one user)', () => {
  const QUOTA = { limit: 3, name: 'MAX_WATCHLIST_INSTRUMENTS_PER_USER' };
  const w = (id: number, holderId: string, owner: string) =>
    aRef(id, { kind: ReferenceKind.WATCHLIST, holderId, owner });
  const quotaSetup = () => setup({ perOwner: { [ReferenceKind.WATCHLIST]: QUOTA } });

  it('counts distinct instruments per owner across holders, and refuses past the quota holding nothing', () => {
    const { registry, port } = quotaSetup();
    registry.acquire([w(1, 'u1/a/1', 'u1'), w(2, 'u1/a/2', 'u1')]);
    registry.acquire([w(2, 'u1/b/2', 'u1')]); // the same instrument from another list
    expect(registry.ownerUsage(ReferenceKind.WATCHLIST, 'u1')).toBe(2);
    port.take();
    const before = registry.stats();

    let error: unknown;
    try {
      registry.acquire([w(3, 'u1/b/3', 'u1'), w(4, 'u1/b/4', 'u1')]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MarketDataError);
    const e = error as MarketDataError;
    expect(e.code).toBe(MarketDataErrorCode.CAPACITY_EXCEEDED);
    expect(e.message).toMatch(/MAX_WATCHLIST_INSTRUMENTS_PER_USER.*at most 3.*hold 2.*adds 2/);
    expect(e.details).toEqual({ quota: QUOTA.name, limit: 3, used: 2, requested: 2 });
    expect(registry.stats()).toEqual(before);
    expect(port.take()).toEqual([]);

    // Another user, and references without an owner, are not held back.
    registry.acquire([w(3, 'u2/a/3', 'u2'), w(4, 'u2/a/4', 'u2'), w(5, 'u2/a/5', 'u2')]);
    registry.acquire([aRef(6, { kind: ReferenceKind.WATCHLIST, holderId: 'x' })]);
    // Instruments already on the feed count for u1 once u1 holds them.
    registry.acquire([w(3, 'u1/b/3', 'u1')]);
    expect(registry.ownerUsage(ReferenceKind.WATCHLIST, 'u1')).toBe(3);
    expect(() => registry.acquire([w(4, 'u1/b/4', 'u1')])).toThrow(MarketDataError);
  });

  it('frees the quota on release, releaseHolder and eviction', () => {
    const { registry } = setup({
      connections: 1,
      perConnection: 4,
      total: 4,
      perOwner: { [ReferenceKind.WATCHLIST]: QUOTA },
    });
    registry.acquire([w(1, 'u1/a/1', 'u1'), w(2, 'u1/a/2', 'u1'), w(3, 'u1/a/3', 'u1')]);
    registry.release([w(1, 'u1/a/1', 'u1')]);
    expect(registry.ownerUsage(ReferenceKind.WATCHLIST, 'u1')).toBe(2);
    registry.releaseHolder(ReferenceKind.WATCHLIST, 'u1/a/2');
    expect(registry.ownerUsage(ReferenceKind.WATCHLIST, 'u1')).toBe(1);
    // A full feed evicts u1's remaining WATCHLIST instrument for a CLIENT one.
    registry.acquire([aRef(10), aRef(11), aRef(12)]);
    registry.acquire([aRef(13)]);
    expect(registry.has(key(3))).toBe(false);
    expect(registry.ownerUsage(ReferenceKind.WATCHLIST, 'u1')).toBe(0);
  });

  it('rejects a quota below 1', () => {
    expect(() =>
      setup({ perOwner: { [ReferenceKind.WATCHLIST]: { limit: 0, name: 'Q' } } }),
    ).toThrow(MarketDataError);
  });
});
