import { ExchangeSegment, FeedMode, type Instrument } from '@app/dhan';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import type { InstrumentsService } from '../instruments/instruments.service';
import type { MarketDataService } from '../market-data/market-data.service';
import {
  ReferenceKind,
  SubscriptionRegistry,
  type FeedPort,
  type SubscriptionReference,
} from '../market-data/feed/subscription-registry';
import { WatchlistReferences } from './watchlist-references.service';
import { DEFAULT_WATCHLIST_OPTIONS } from './watchlist.options';

const port: FeedPort = { subscribe: () => undefined, unsubscribe: () => undefined };

function eq(id: number): Instrument {
  return {
    segment: ExchangeSegment.NSE_EQ,
    securityId: String(id),
    exchange: 'NSE',
    instrumentType: 'EQUITY',
    symbol: `EQ${id}`,
    displayName: `EQ${id}`,
    lotSize: 1,
    tickSize: 0.05,
  };
}

const INDEX: Instrument = { ...eq(13), segment: ExchangeSegment.IDX_I, symbol: 'NIFTY' };
const EXPIRIES = ['2026-12-01', '2026-12-08', '2026-12-15', '2026-12-22'];
const STRIKES = Array.from({ length: 60 }, (_, i) => 23000 + i * 50);
let nextId = 100_000;
const CHAINS = new Map(
  EXPIRIES.map((expiry) => [
    expiry,
    STRIKES.flatMap((strike) =>
      (['CE', 'PE'] as const).map((optionType): Instrument => ({
        ...eq(nextId++),
        segment: ExchangeSegment.NSE_FNO,
        instrumentType: 'OPTIDX',
        underlying: 'NIFTY',
        expiry,
        strike,
        optionType,
      })),
    ),
  ]),
);

function setup(limits = { connections: 1, perConnection: 1000, total: 1000 }) {
  const registry = new SubscriptionRegistry(port, limits);
  const spot = { ltp: NaN, prevClose: NaN };
  const marketData = {
    acquire: (r: SubscriptionReference[]) => registry.acquire(r),
    release: (r: SubscriptionReference[]) => registry.release(r),
    releaseHolder: (k: ReferenceKind, h: string) => registry.releaseHolder(k, h),
    record: () => spot,
  } as unknown as MarketDataService;
  const instruments = {
    isUnderlying: (n: string) => n === 'NIFTY',
    underlyingOf: (n: string) => (n === 'NIFTY' ? INDEX : undefined),
    expiries: () => EXPIRIES,
    chain: (_n: string, e: string) => CHAINS.get(e) ?? [],
  } as unknown as InstrumentsService;
  const refs = new WatchlistReferences(
    marketData,
    instruments,
    null as never,
    null as never,
    DEFAULT_WATCHLIST_OPTIONS,
  );
  const watched = () => registry.stats().byKind[ReferenceKind.WATCHLIST].references;
  return { registry, refs, spot, watched };
}

describe('WatchlistReferences', () => {
  it('chain: 3 expiries x 21 strikes x CE/PE around the live spot, prev close, else the middle', () => {
    const { refs, spot } = setup();
    spot.ltp = 24012;
    const live = refs.chainContracts(INDEX, 'NIFTY');
    expect(live).toHaveLength(126);
    expect(new Set(live.map((c) => c.expiry))).toEqual(new Set(EXPIRIES.slice(0, 3)));
    const strikes = [...new Set(live.map((c) => c.strike!))].sort((a, b) => a - b);
    expect(strikes[10]).toBe(24000);
    spot.ltp = NaN;
    spot.prevClose = 23500;
    expect(refs.chainContracts(INDEX, 'NIFTY').map((c) => c.strike)).toContain(23000);
    spot.prevClose = NaN;
    const middle = [...new Set(refs.chainContracts(INDEX, 'NIFTY').map((c) => c.strike!))];
    expect(middle).toContain(STRIKES[30]);
    expect(middle).toHaveLength(21);
  });

  it('rollback drops only what the stage added; commit drops what is no longer needed', () => {
    const { refs, watched } = setup();
    const withChain = refs.referencesFor('h', INDEX, true);
    expect(withChain).toHaveLength(127);
    const first = refs.stage('h', refs.referencesFor('h', INDEX, false));
    first.commit();
    expect(watched()).toBe(1);
    const failed = refs.stage('h', withChain);
    expect(watched()).toBe(127);
    failed.rollback();
    expect(watched()).toBe(1);
    const ok = refs.stage('h', withChain);
    ok.commit();
    expect(watched()).toBe(127);
    refs.stage('h', refs.referencesFor('h', INDEX, false)).commit();
    expect(watched()).toBe(1);
    expect(() => ok.commit()).toThrow();
  });

  it('a full feed is CAPACITY_EXCEEDED and holds nothing', () => {
    const { refs, watched, registry } = setup({ connections: 1, perConnection: 2, total: 2 });
    registry.acquire([
      {
        ...eq(1),
        kind: ReferenceKind.TIER_B,
        holderId: 'tb',
        mode: FeedMode.QUOTE,
      },
    ]);
    refs.stage('a', refs.referencesFor('a', eq(2), false)).commit();
    let error: unknown;
    try {
      refs.stage('b', refs.referencesFor('b', eq(3), false));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(ErrorCode.CAPACITY_EXCEEDED);
    expect(watched()).toBe(1);
  });

  it('releaseSegments releases only those segments, once', () => {
    const { refs, watched } = setup();
    refs.stage('n', refs.referencesFor('n', INDEX, true)).commit();
    refs.stage('e', refs.referencesFor('e', eq(5), false)).commit();
    expect(refs.releaseSegments([ExchangeSegment.IDX_I, ExchangeSegment.NSE_EQ])).toBe(2);
    expect(watched()).toBe(126);
    expect(refs.releaseSegments([ExchangeSegment.IDX_I, ExchangeSegment.NSE_EQ])).toBe(0);
    expect(refs.releaseSegments([ExchangeSegment.NSE_FNO])).toBe(126);
    expect(watched()).toBe(0);
    expect(refs.heldCount()).toBe(0);
  });
});
