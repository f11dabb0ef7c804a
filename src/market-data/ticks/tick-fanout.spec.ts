import { ExchangeSegment, FeedResponseCode, SEGMENT_CODE, instrumentKey } from '@app/dhan/types';
import { MarketDataError, MarketDataErrorCode } from '../market-data.errors';
import {
  ClientClosedEvent,
  FanoutClient,
  FanoutCloseReason,
  TickFanout,
  TickFanoutOptions,
} from './tick-fanout';
import { TickSerializer } from './tick-serializer';
import { TickStore, TickerUpdate } from './tick-store';

const SEG = ExchangeSegment.NSE_FNO;
const key = (id: number) => instrumentKey(SEGMENT_CODE[SEG], id);
const T0 = 1_790_000_000;

class FakeClient implements FanoutClient {
  unsent = 0;
  batches: Array<Array<Record<string, unknown>>> = [];
  raw: string[] = [];
  closed: { reason: FanoutCloseReason; message: string } | null = null;
  unsentBytes(): number {
    return this.unsent;
  }
  close(reason: FanoutCloseReason, message: string): void {
    this.closed = { reason, message };
  }
  sink = (payload: Buffer, count: number): void => {
    const text = payload.toString('utf8');
    const parsed = JSON.parse(text) as Array<Record<string, unknown>>;
    expect(parsed).toHaveLength(count);
    this.raw.push(text);
    this.batches.push(parsed);
  };
  /** securityId -> ltp of the last batch. */
  last(): Record<string, unknown> {
    const b = this.batches[this.batches.length - 1] ?? [];
    return Object.fromEntries(b.map((t) => [t.securityId, t.ltp]));
  }
}

function setup(options: Partial<TickFanoutOptions> = {}) {
  let now = 0;
  const store = new TickStore({ now: () => now });
  const serializer = new TickSerializer();
  const fanout = new TickFanout(store, serializer, {
    highWaterBytes: 1_000,
    lowWaterBytes: 100,
    hardCapBytes: 10_000,
    maxOverHighMs: 5_000,
    maxInstrumentsPerSubscription: 10,
    maxSubscriptionsPerClient: 2,
    now: () => now,
    ...options,
  });
  const closed: ClientClosedEvent[] = [];
  fanout.onClientClosed((e) => closed.push(e));
  let ltt = T0;
  const tick = (id: number, ltp: number, extra: Partial<TickerUpdate> = {}) =>
    store.apply({
      type: FeedResponseCode.TICKER,
      segment: SEG,
      securityId: id,
      ltp,
      ltt: ++ltt,
      ...extra,
    });
  const client = (id: string, keys: number[] = [], subId = 's1') => {
    const c = new FakeClient();
    fanout.addClient(id, c);
    if (keys.length) fanout.subscribe(id, subId, keys, c.sink);
    return c;
  };
  return {
    store,
    serializer,
    fanout,
    closed,
    tick,
    client,
    advance: (ms: number) => {
      now += ms;
    },
  };
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

describe('TickFanout', () => {
  describe('snapshot then deltas', () => {
    it('first delivers a snapshot of every requested instrument in request order, unknown ones as stale nulls', () => {
      const { fanout, tick, client } = setup();
      tick(1, 100);
      tick(2, 200);
      const c = client('a', [key(2), key(3), key(1)]);
      fanout.flush();
      expect(c.batches).toHaveLength(1);
      expect(c.batches[0].map((t) => [t.securityId, t.ltp, t.stale])).toEqual([
        ['2', 200, false],
        ['3', null, true],
        ['1', 100, false],
      ]);
    });

    it('then sends only what changed, and nothing when nothing changed', () => {
      const { fanout, tick, client } = setup();
      tick(1, 100);
      tick(2, 200);
      const c = client('a', [key(1), key(2)]);
      fanout.flush();
      tick(2, 201);
      tick(9, 900);
      fanout.flush();
      expect(c.batches[1].map((t) => [t.securityId, t.ltp])).toEqual([['2', 201]]);
      fanout.flush();
      expect(c.batches).toHaveLength(2);
    });

    it('conflates: several updates between flushes arrive as one entry with the latest values', () => {
      const { fanout, tick, client } = setup();
      const c = client('a', [key(1)]);
      fanout.flush();
      tick(1, 100);
      tick(1, 101);
      tick(1, 102.5);
      fanout.flush();
      expect(c.batches[1]).toHaveLength(1);
      expect(c.last()).toEqual({ '1': 102.5 });
    });

    it('counts the bytes it hands out, the updates conflated away and each flush s duration', () => {
      const { fanout, tick, client } = setup();
      const durations: number[] = [];
      fanout.onFlush((ms) => durations.push(ms));
      tick(1, 100);
      const c = client('a', [key(1)]);
      fanout.flush();
      tick(1, 101);
      tick(1, 102);
      tick(1, 103);
      fanout.flush();
      const stats = fanout.stats();
      expect(stats.bytes).toBe(c.raw.reduce((n, text) => n + Buffer.byteLength(text), 0));
      // Three changes, one delivered: two conflated away.
      expect(stats.conflated).toBe(2);
      expect(durations).toHaveLength(2);
      expect(durations.every((ms) => ms >= 0)).toBe(true);
    });

    it('emits the GraphQL Tick shape with the true trade time as an ISO string', () => {
      const { fanout, tick, client } = setup();
      const c = client('a', [key(1)]);
      tick(1, 100, { ltt: T0 });
      fanout.flush();
      const t = c.batches[0][0];
      expect(Object.keys(t)).toEqual([
        'segment',
        'securityId',
        'ltp',
        'lastTradeTime',
        'lastTradeQty',
        'avgPrice',
        'volume',
        'totalBuyQty',
        'totalSellQty',
        'open',
        'high',
        'low',
        'close',
        'prevClose',
        'change',
        'changePercent',
        'oi',
        'depth',
        'stale',
      ]);
      expect(t).toMatchObject({ segment: 'NSE_FNO', securityId: '1', ltp: 100, depth: null });
      expect(t.lastTradeTime).toBe(new Date(T0 * 1000).toISOString());
    });
  });

  describe('shared serialisation', () => {
    it('serialises a changed instrument once per flush however many clients want it', () => {
      const { fanout, tick, client, serializer } = setup();
      const clients = ['a', 'b', 'c', 'd'].map((id) => client(id, [key(1), key(2)]));
      fanout.flush();
      expect(serializer.serializations).toBe(2);
      tick(1, 100);
      fanout.flush();
      expect(serializer.serializations).toBe(3);
      expect(new Set(clients.map((c) => c.raw[1])).size).toBe(1);
      expect(clients.every((c) => c.last()['1'] === 100)).toBe(true);
    });

    it('hands every client the same cached fragment bytes, rewritten in place per version', () => {
      const { store, tick, serializer } = setup();
      const rec = tick(1, 100)!;
      const first = serializer.fragment(rec);
      const text = () => first.view.toString('latin1');
      const before = text();
      const built = serializer.serializations;
      expect(serializer.fragment(rec)).toBe(first);
      expect(serializer.serializations).toBe(built);
      tick(1, 101);
      expect(serializer.fragment(store.get(key(1))!)).toBe(first);
      expect(serializer.serializations).toBe(built + 1);
      expect(text()).not.toBe(before);
      expect(JSON.parse(text())).toMatchObject({ ltp: 101 });
    });

    it('wraps each batch in the subscription framing', () => {
      const { fanout, tick, client } = setup();
      client('a');
      const frames: string[] = [];
      fanout.subscribe('a', '7', [key(1)], (p) => frames.push(p.toString()), {
        prefix: '{"id":"7","type":"next","payload":{"data":{"ticks":',
        suffix: '}}}',
      });
      tick(1, 100);
      fanout.flush();
      const message = JSON.parse(frames[0]) as {
        id: string;
        type: string;
        payload: { data: { ticks: Array<{ ltp: number }> } };
      };
      expect([message.id, message.type, message.payload.data.ticks[0].ltp]).toEqual([
        '7',
        'next',
        100,
      ]);
    });

    it('never reuses the memory of a batch already handed to a sink', () => {
      const { fanout, tick, client } = setup({ maxInstrumentsPerSubscription: 1_000 });
      // 500 instruments: a snapshot above the slab range, then 72-update batches inside it.
      const keys = Array.from({ length: 500 }, (_, i) => key(i + 1));
      const kept: Buffer[] = [];
      client('a');
      fanout.subscribe('a', 's', keys, (p) => kept.push(p));
      fanout.flush();
      for (let round = 1; round <= 30; round++) {
        for (let id = 1; id <= 500; id += 7) tick(id, round);
        fanout.flush();
      }
      const snapshots = kept.map((b) => JSON.parse(b.toString()) as Array<{ ltp: number }>);
      expect(snapshots[0]).toHaveLength(500);
      expect(snapshots.slice(1).map((batch) => batch[0].ltp)).toEqual(
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
    });

    it('does not serialise instruments nobody wants', () => {
      const { fanout, tick, client, serializer } = setup();
      client('a', [key(1)]);
      fanout.flush();
      const before = serializer.serializations;
      for (let id = 100; id < 200; id++) tick(id, 50);
      fanout.flush();
      expect(serializer.serializations).toBe(before);
    });
  });

  describe('backpressure', () => {
    it('holds a slow client, keeps the fast one flowing, then delivers only the latest state', () => {
      const { fanout, tick, client } = setup();
      const fast = client('fast', [key(1), key(2)]);
      const slow = client('slow', [key(1), key(2)]);
      fanout.flush();
      slow.unsent = 5_000;
      for (let i = 0; i < 5; i++) {
        tick(1, 100 + i);
        fanout.flush();
      }
      expect(fast.batches).toHaveLength(6);
      expect(fast.last()).toEqual({ '1': 104 });
      expect(slow.batches).toHaveLength(1);
      expect(fanout.stats().heldFlushes).toBe(5);

      slow.unsent = 500; // below high but above low: still held (hysteresis)
      tick(2, 7);
      fanout.flush();
      expect(slow.batches).toHaveLength(1);

      slow.unsent = 50;
      fanout.flush();
      expect(slow.batches).toHaveLength(2);
      expect(slow.last()).toEqual({ '1': 104, '2': 7 });
    });

    it('closes a client above the hard cap with a clear reason while the others keep receiving', () => {
      const { fanout, tick, client, closed } = setup();
      const fast = client('fast', [key(1)]);
      const slow = client('slow', [key(1), key(2)]);
      fanout.flush();
      slow.unsent = 10_001;
      tick(1, 101);
      fanout.flush();
      expect(slow.closed?.reason).toBe(FanoutCloseReason.BACKPRESSURE_HARD_CAP);
      expect(slow.closed?.message).toMatch(/10001 bytes unsent/);
      expect(closed).toEqual([
        expect.objectContaining({
          clientId: 'slow',
          reason: FanoutCloseReason.BACKPRESSURE_HARD_CAP,
          noLongerWanted: [key(2)],
        }),
      ]);
      expect(fast.last()).toEqual({ '1': 101 });
      tick(1, 102);
      fanout.flush();
      expect(fast.last()).toEqual({ '1': 102 });
      expect(slow.batches).toHaveLength(1);
      expect(fanout.stats().clients).toBe(1);
    });

    it('a client that stops reading is skipped, then closed at the cap; the fast one never misses a flush', () => {
      const { fanout, tick, client, advance } = setup();
      const fast = client('fast', [key(1)]);
      const slow = client('slow', [key(1)]);
      fanout.flush();
      for (let i = 1; i <= 20; i++) {
        slow.unsent = Math.min(i * 1_000 + 500, 10_001);
        tick(1, 100 + i);
        advance(100);
        fanout.flush();
        expect(fast.last()).toEqual({ '1': 100 + i });
      }
      expect(slow.batches).toHaveLength(1);
      expect(slow.closed?.reason).toBe(FanoutCloseReason.BACKPRESSURE_HARD_CAP);
      expect(fast.batches).toHaveLength(21);
      expect(fast.closed).toBeNull();
    });

    it('closes a client held above the high-water mark for longer than the time limit', () => {
      const { fanout, client, advance } = setup();
      const slow = client('slow', [key(1)]);
      slow.unsent = 2_000;
      fanout.flush();
      advance(5_000);
      fanout.flush();
      expect(slow.closed).toBeNull();
      advance(1);
      fanout.flush();
      expect(slow.closed?.reason).toBe(FanoutCloseReason.BACKPRESSURE_TIMEOUT);
      expect(fanout.stats().closedClients.BACKPRESSURE_TIMEOUT).toBe(1);
    });

    it('a sink that throws closes only its own client', () => {
      const { fanout, tick, client } = setup();
      const good = client('good', [key(1)]);
      const bad = new FakeClient();
      fanout.addClient('bad', bad);
      fanout.subscribe('bad', 's', [key(1)], () => {
        throw new Error('socket gone');
      });
      const late = client('late', [key(1)]);
      tick(1, 100);
      fanout.flush();
      expect(bad.closed).toEqual({
        reason: FanoutCloseReason.SINK_ERROR,
        message: 'delivery failed: socket gone',
      });
      expect(good.last()).toEqual({ '1': 100 });
      expect(late.last()).toEqual({ '1': 100 });
    });
  });

  describe('subscriptions and caps', () => {
    it('reports instruments newly wanted and no longer wanted across clients', () => {
      const { fanout, client } = setup();
      const a = client('a');
      const b = client('b');
      expect(fanout.subscribe('a', 's1', [key(1), key(2), key(1)], a.sink)).toEqual([
        key(1),
        key(2),
      ]);
      expect(fanout.subscribe('b', 's1', [key(2), key(3)], b.sink)).toEqual([key(3)]);
      expect(fanout.unsubscribe('a', 's1')).toEqual([key(1)]);
      expect(fanout.removeClient('b')).toEqual([key(2), key(3)]);
      expect(fanout.stats()).toMatchObject({ clients: 1, subscriptions: 0, wantedInstruments: 0 });
    });

    it('rejects too many instruments in one subscription without leaking anything', () => {
      const { fanout, client } = setup();
      const a = client('a');
      const keys = Array.from({ length: 11 }, (_, i) => key(i + 1));
      expectError(
        () => fanout.subscribe('a', 's1', keys, a.sink),
        MarketDataErrorCode.TOO_MANY_INSTRUMENTS,
      );
      expect(fanout.stats()).toMatchObject({ subscriptions: 0, wantedInstruments: 0 });
      expect(fanout.subscribe('a', 's1', keys.slice(0, 10), a.sink)).toHaveLength(10);
    });

    it('rejects too many subscriptions on one connection', () => {
      const { fanout, client } = setup();
      const a = client('a', [key(1)], 's1');
      fanout.subscribe('a', 's2', [key(2)], a.sink);
      expectError(
        () => fanout.subscribe('a', 's3', [key(3)], a.sink),
        MarketDataErrorCode.TOO_MANY_SUBSCRIPTIONS,
      );
      expect(fanout.isWanted(key(3))).toBe(false);
    });

    it('rejects an unknown client and a duplicate subscription id', () => {
      const { fanout, client } = setup();
      const a = client('a', [key(1)], 's1');
      expectError(
        () => fanout.subscribe('nobody', 's1', [key(1)], a.sink),
        MarketDataErrorCode.NOT_FOUND,
      );
      expectError(
        () => fanout.subscribe('a', 's1', [key(2)], a.sink),
        MarketDataErrorCode.INVALID_ARGUMENT,
      );
    });

    it('two subscriptions of one client each get their own batches', () => {
      const { fanout, tick, client } = setup();
      const a = client('a', [key(1)], 's1');
      const second: Buffer[] = [];
      fanout.subscribe('a', 's2', [key(1), key(2)], (p) => second.push(p));
      fanout.flush();
      tick(2, 5);
      fanout.flush();
      expect(a.batches).toHaveLength(1);
      expect(second).toHaveLength(2);
    });
  });

  describe('timer', () => {
    afterEach(() => jest.useRealTimers());

    it('runs one interval for all clients and stops cleanly', () => {
      jest.useFakeTimers();
      const spy = jest.spyOn(global, 'setInterval');
      const { fanout, tick, client } = setup({ flushIntervalMs: 50 });
      const clients = ['a', 'b', 'c'].map((id) => client(id, [key(1)]));
      fanout.start();
      fanout.start();
      tick(1, 100);
      jest.advanceTimersByTime(50);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(clients.every((c) => c.last()['1'] === 100)).toBe(true);
      fanout.stop();
      tick(1, 101);
      jest.advanceTimersByTime(500);
      expect(clients.every((c) => c.last()['1'] === 100)).toBe(true);
      spy.mockRestore();
    });

    it('spreads clients over phases of the interval: each flushed once per interval, in turn', () => {
      jest.useFakeTimers();
      const { fanout, tick, client } = setup({ flushIntervalMs: 100, flushPhases: 4 });
      const clients = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((id) => client(id, [key(1)]));
      expect(fanout.stats().phases).toBe(4);
      fanout.start();
      jest.advanceTimersByTime(100);
      expect(clients.map((c) => c.batches.length)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
      tick(1, 100);
      // one phase (25 ms): the two clients of the first phase only
      jest.advanceTimersByTime(25);
      expect(clients.filter((c) => c.last()['1'] === 100)).toHaveLength(2);
      jest.advanceTimersByTime(50);
      expect(clients.filter((c) => c.last()['1'] === 100)).toHaveLength(6);
      // a change after a phase was flushed reaches that phase in its next turn
      tick(1, 101);
      jest.advanceTimersByTime(25);
      expect(clients.every((c) => c.batches.length === 2)).toBe(true);
      jest.advanceTimersByTime(100);
      expect(clients.every((c) => c.last()['1'] === 101)).toBe(true);
      // d and h (the last phase) got 101 in the round it happened in; nothing changed since
      expect(clients.map((c) => c.batches.length)).toEqual([3, 3, 3, 2, 3, 3, 3, 2]);
      expect(fanout.stats().flushes).toBe(3);
      fanout.stop();
    });

    it('catches up when the timer runs late: every phase that came due is flushed at once', () => {
      jest.useFakeTimers();
      const { fanout, client } = setup({ flushIntervalMs: 100, flushPhases: 4 });
      const clients = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((id) => client(id, [key(1)]));
      const clock = jest.spyOn(performance, 'now').mockReturnValue(1_000);
      try {
        fanout.start();
        // the event loop was blocked for a whole interval before the first timer run
        clock.mockReturnValue(1_100);
        jest.advanceTimersByTime(25);
        expect(clients.every((c) => c.batches.length === 1)).toBe(true);
        // far behind: at most one round per run, the missed rounds are not replayed
        clock.mockReturnValue(2_000);
        jest.advanceTimersByTime(25);
        expect(fanout.stats().flushes).toBe(2);
      } finally {
        clock.mockRestore();
        fanout.stop();
      }
    });

    it('keeps a phase at least 5 ms long', () => {
      const { fanout } = setup({ flushIntervalMs: 12, flushPhases: 10 });
      expect(fanout.stats().phases).toBe(2);
    });
  });
});

describe('TickFanout changed-instrument listeners (server-side alerts)', () => {
  it('tells each drain that found changes, each record once; a failing listener stops no delivery', () => {
    const { fanout, tick, client } = setup();
    const seen: number[][] = [];
    fanout.onChanged(() => {
      throw new Error('a broken listener');
    });
    const stop = fanout.onChanged((records) => seen.push(records.map((r) => r.key)));
    const c = client('c1', [key(1), key(2)]);
    tick(1, 100);
    tick(1, 101);
    tick(2, 50);
    fanout.flush();
    fanout.flush();
    expect(seen).toEqual([[key(1), key(2)]]);
    expect(c.last()).toEqual({ '1': 101, '2': 50 });
    stop();
    tick(1, 102);
    fanout.flush();
    expect(seen).toHaveLength(1);
    expect(c.last()).toEqual({ '1': 102 });
  });
});
