import type { ChainAnalyticsService } from '../chains/chain-analytics.service';
import { EventEmitter } from 'node:events';
import { ExchangeSegment, FeedMode, SEGMENT_CODE, instrumentKey } from '@app/dhan/types';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { WebSocket } from 'ws';
import { DomainError } from '../../common/errors/domain-error';
import { ErrorCode } from '../../common/errors/error-code';
import type { InstrumentsService } from '../../instruments/instruments.service';
import type { FeedPool } from '../feed/feed-pool.service';
import { MarketDataError, MarketDataErrorCode } from '../market-data.errors';
import { DEFAULT_MARKET_DATA_OPTIONS } from '../market-data.options';
import type { RestMarketDataService } from '../rest/rest-market-data.service';
import { MarketDataService, type TickStream } from '../market-data.service';
import { ReferenceKind, SubscriptionRegistry, type FeedPort } from '../feed/subscription-registry';
import { TICK_QUOTA_NAME, TickQuota } from './tick-quota';
import { TickFanout } from './tick-fanout';
import { TickSerializer } from './tick-serializer';
import { DEFAULT_TICK_CHECKS, TickStore } from './tick-store';
import { TickTransport } from './tick-transport';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('TickQuota', () => {
  it('counts distinct instruments per user, once however many subscriptions want them', () => {
    const q = new TickQuota(5);
    q.add('a', [1, 2, 3]);
    q.add('a', [3, 4, 3]);
    expect(q.used('a')).toBe(4);
    q.remove('a', [1, 2, 3]);
    expect(q.used('a')).toBe(2); // 3 is still wanted by the second subscription
    q.remove('a', [3, 4]);
    expect(q.used('a')).toBe(0);
    expect(q.userCount).toBe(0);
  });

  it('refuses what would go over the limit, naming the quota and the numbers, and changes nothing', () => {
    const q = new TickQuota(5);
    q.add('a', [1, 2, 3, 4]);
    expect(() => q.check('a', [4, 5])).not.toThrow(); // exactly at the limit
    const e = caught(() => q.check('a', [4, 5, 6])) as MarketDataError;
    expect(e).toBeInstanceOf(MarketDataError);
    expect(e.code).toBe(MarketDataErrorCode.CAPACITY_EXCEEDED);
    expect(e.message).toContain(TICK_QUOTA_NAME);
    expect(e.message).toContain('at most 5');
    expect(e.message).toContain('you stream 4');
    expect(e.message).toContain('adds 2 more');
    expect(e.details).toEqual({ quota: TICK_QUOTA_NAME, limit: 5, used: 4, requested: 2 });
    expect(q.used('a')).toBe(4);
  });

  it('keeps users apart', () => {
    const q = new TickQuota(2);
    q.add('a', [1, 2]);
    expect(() => q.check('a', [3])).toThrow(MarketDataError);
    expect(() => q.check('b', [1, 2])).not.toThrow();
  });

  it('ignores removing what was never added', () => {
    const q = new TickQuota(2);
    q.add('a', [1]);
    q.remove('a', [2]);
    q.remove('b', [1]);
    expect(q.used('a')).toBe(1);
  });

  it('rejects a limit below 1', () => {
    expect(() => new TickQuota(0)).toThrow(MarketDataError);
  });
});

/** Enough of a ws socket for MarketDataService: close emits 'close'. */
class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  send(): void {}
  close(): void {
    this.readyState = 3;
    this.emit('close');
  }
  terminate(): void {
    this.close();
  }
}

const SEG = ExchangeSegment.NSE_FNO;
const key = (id: number) => instrumentKey(SEGMENT_CODE[SEG], id);
const inst = (...ids: number[]) => ids.map((id) => ({ segment: SEG, securityId: String(id) }));
const noop: FeedPort = { subscribe: () => undefined, unsubscribe: () => undefined };

/** The real registry, store and fan-out wired by the real service; the feed pool is inert. */
function setup(limit: number) {
  const registry = new SubscriptionRegistry(noop, { connections: 1, perConnection: 100 });
  const store = new TickStore({ checks: { ...DEFAULT_TICK_CHECKS } });
  const fanout = new TickFanout(store, new TickSerializer(), {});
  const pool = { onDisconnect: () => undefined } as unknown as FeedPool;
  const instruments = { get: () => ({}) } as unknown as InstrumentsService;
  const service = new MarketDataService(
    registry,
    store,
    fanout,
    new TickTransport(fanout),
    pool,
    instruments,
    new EventEmitter2(),
    {
      ...DEFAULT_MARKET_DATA_OPTIONS,
      maxTickInstrumentsPerUser: limit,
    },
    {} as ChainAnalyticsService, // chains are not exercised here
    {} as RestMarketDataService, // REST quotes are not exercised here
  );
  const client = () => registry.stats().byKind[ReferenceKind.CLIENT].instruments;
  let next = 0;
  const open = (socket: FakeSocket, userId: string, ids: number[]): TickStream =>
    service.openTicks(
      socket as unknown as WebSocket,
      userId,
      String(++next),
      inst(...ids),
      [],
      'ticks',
    );
  return { service, registry, fanout, client, open };
}

describe('MarketDataService ticks quota (per user, across sockets)', () => {
  it('caps a user across sockets, refuses with CAPACITY_EXCEEDED holding nothing, and leaves other users alone', () => {
    const { service, fanout, client, open } = setup(5);
    const s1 = new FakeSocket();
    const s2 = new FakeSocket();
    open(s1, 'alice', [1, 2, 3]);
    open(s2, 'alice', [3, 4, 5]);
    expect(service.tickQuotaOf('alice')).toEqual({ used: 5, limit: 5 });
    const subsBefore = fanout.stats().subscriptions;

    const e = caught(() => open(s2, 'alice', [5, 6])) as DomainError;
    expect(e).toBeInstanceOf(DomainError);
    expect(e.code).toBe(ErrorCode.CAPACITY_EXCEEDED);
    expect(e.message).toContain(TICK_QUOTA_NAME);
    expect(e.details).toEqual({ quota: TICK_QUOTA_NAME, limit: 5, used: 5, requested: 1 });
    // Nothing held: no reference, no fan-out subscription, no quota.
    expect(client()).toBe(5);
    expect(fanout.stats().subscriptions).toBe(subsBefore);
    expect(service.tickQuotaOf('alice').used).toBe(5);

    // Instruments the user already streams cost nothing more.
    open(s1, 'alice', [1, 5]);
    expect(service.tickQuotaOf('alice').used).toBe(5);
    // Another user has a quota of their own, shared instruments included.
    open(new FakeSocket(), 'bob', [5, 6, 7, 8, 9]);
    expect(service.tickQuotaOf('bob').used).toBe(5);
    expect(client()).toBe(9);
  });

  it('frees the quota when subscriptions end and when sockets close', async () => {
    const { service, client, open } = setup(4);
    const s1 = new FakeSocket();
    const s2 = new FakeSocket();
    const a = open(s1, 'alice', [1, 2]);
    open(s1, 'alice', [2, 3]);
    open(s2, 'alice', [4]);
    expect(service.tickQuotaOf('alice').used).toBe(4);

    await a.return!();
    await a.return!(); // twice is harmless
    expect(service.tickQuotaOf('alice').used).toBe(3); // 2 is still wanted by the second
    s1.close();
    expect(service.tickQuotaOf('alice').used).toBe(1);
    expect(client()).toBe(1);
    open(s2, 'alice', [5, 6, 7]);
    s2.close();
    expect(service.tickQuotaOf('alice').used).toBe(0);
    expect(client()).toBe(0);
  });

  it('counts instruments already on the feed for another reason as the user holds them', () => {
    const { service, registry, open } = setup(2);
    registry.acquire(
      inst(1, 2, 3).map((i) => ({
        ...i,
        kind: ReferenceKind.TIER_B,
        holderId: 'NIFTY',
        mode: FeedMode.FULL,
      })),
    );
    open(new FakeSocket(), 'alice', [1, 2]);
    expect(service.tickQuotaOf('alice').used).toBe(2);
    const e = caught(() => open(new FakeSocket(), 'alice', [3])) as DomainError;
    expect(e.code).toBe(ErrorCode.CAPACITY_EXCEEDED);
    expect(registry.hasHolder(key(3), ReferenceKind.CLIENT, 'ticks')).toBe(false);
  });

  it('a subscription the fan-out refuses costs no quota', () => {
    const { service, open } = setup(10);
    const s = new FakeSocket();
    const sub = (id: string, ids: number[]) =>
      service.openTicks(s as unknown as WebSocket, 'alice', id, inst(...ids), [], 'ticks');
    sub('x', [1]);
    expect(() => sub('x', [2, 3])).toThrow(); // duplicate subscription id
    expect(service.tickQuotaOf('alice').used).toBe(1);
    open(s, 'alice', [4]);
    expect(service.tickQuotaOf('alice').used).toBe(2);
  });
});
