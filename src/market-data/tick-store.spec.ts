import fc from 'fast-check';
import { ExchangeSegment, FeedResponseCode, SEGMENT_CODE, instrumentKey } from '@app/dhan/types';
import {
  DepthLevelUpdate,
  FullUpdate,
  OiUpdate,
  PrevCloseUpdate,
  QuoteUpdate,
  TickStore,
  TickerUpdate,
} from './tick-store';

const SEG = ExchangeSegment.NSE_FNO;
const ID = 43_210;
const KEY = instrumentKey(SEGMENT_CODE[SEG], ID);
const T0 = 1_790_000_000;

const aTicker = (o: Partial<TickerUpdate> = {}): TickerUpdate => ({
  type: FeedResponseCode.TICKER,
  segment: SEG,
  securityId: ID,
  ltp: 100.5,
  ltt: T0,
  ...o,
});

const aQuote = (o: Partial<QuoteUpdate> = {}): QuoteUpdate => ({
  type: FeedResponseCode.QUOTE,
  segment: SEG,
  securityId: ID,
  ltp: 101,
  ltq: 75,
  ltt: T0,
  atp: 100.8,
  volume: 12_000,
  totalSellQty: 5_000,
  totalBuyQty: 7_000,
  open: 99,
  close: 0,
  high: 102,
  low: 98.5,
  ...o,
});

const level = (i: number): DepthLevelUpdate => ({
  bidQty: 100 + i,
  askQty: 200 + i,
  bidOrders: 1 + i,
  askOrders: 2 + i,
  bidPrice: 100 - i * 0.05,
  askPrice: 100.05 + i * 0.05,
});

const aFull = (o: Partial<FullUpdate> = {}): FullUpdate => ({
  ...aQuote(),
  type: FeedResponseCode.FULL,
  oi: 3_000_000,
  depth: [0, 1, 2, 3, 4].map(level),
  ...o,
});

const aPrevClose = (o: Partial<PrevCloseUpdate> = {}): PrevCloseUpdate => ({
  type: FeedResponseCode.PREV_CLOSE,
  segment: SEG,
  securityId: ID,
  prevClose: 95,
  prevOi: 2_500_000,
  ...o,
});

const anOi = (oi: number): OiUpdate => ({
  type: FeedResponseCode.OI,
  segment: SEG,
  securityId: ID,
  oi,
});

function setup(staleAfterMs = 1_000) {
  let now = 0;
  const store = new TickStore({ staleAfterMs, now: () => now });
  return {
    store,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('TickStore', () => {
  describe('merging packet types', () => {
    it('merges ticker, quote, OI, prev close and full into one record with change against prev close', () => {
      const { store } = setup();
      store.apply(aPrevClose());
      store.apply(aTicker({ ltp: 100.5 }));
      const rec = store.get(KEY)!;
      expect([rec.ltp, rec.prevClose, rec.prevOi, rec.change, rec.changePercent]).toEqual([
        100.5, 95, 2_500_000, 5.5, 5.79,
      ]);
      store.apply(aQuote({ ltt: T0 + 1 }));
      expect([rec.ltp, rec.ltq, rec.atp, rec.volume, rec.totalBuyQty, rec.totalSellQty]).toEqual([
        101, 75, 100.8, 12_000, 7_000, 5_000,
      ]);
      expect([rec.open, rec.high, rec.low, rec.change]).toEqual([99, 102, 98.5, 6]);
      expect(rec.close).toBeNaN();
      store.apply(anOi(3_100_000));
      expect(rec.oi).toBe(3_100_000);
      store.apply(aFull({ ltt: T0 + 2, ltp: 102 }));
      expect(rec.oi).toBe(3_000_000);
      expect(rec.hasDepth).toBe(true);
      expect(Array.from(rec.depth.slice(0, 6))).toEqual([100, 1, 100, 200, 2, 100.05]);
      expect(rec.depth[4 * 6 + 2]).toBe(99.8);
    });

    it('reuses one record per instrument: no new object per packet', () => {
      const { store } = setup();
      const first = store.apply(aTicker());
      for (let i = 1; i <= 10; i++) store.apply(aQuote({ ltt: T0 + i }));
      expect(store.get(KEY)).toBe(first);
      expect(store.stats().instruments).toBe(1);
    });

    it('rounds float32 prices to paise, and to 1/10,000 on currency segments', () => {
      const { store } = setup();
      store.apply(aTicker({ ltp: Math.fround(24012.35) }));
      expect(store.get(KEY)!.ltp).toBe(24012.35);
      const fx = store.apply(
        aTicker({ segment: ExchangeSegment.NSE_CURRENCY, ltp: Math.fround(83.1225) }),
      );
      expect(fx!.ltp).toBe(83.1225);
    });
  });

  describe('last writer wins by LTT', () => {
    it('drops a packet older than the stored LTT and counts it', () => {
      const { store } = setup();
      store.apply(aTicker({ ltp: 101, ltt: T0 + 5 }));
      expect(store.apply(aQuote({ ltp: 99, ltt: T0 + 4, volume: 1 }))).toBeNull();
      const rec = store.get(KEY)!;
      expect([rec.ltp, rec.ltt]).toEqual([101, T0 + 5]);
      expect(rec.volume).toBeNaN();
      expect(store.stats().droppedOutOfOrder).toBe(1);
    });

    it('merges a packet with an equal LTT', () => {
      const { store } = setup();
      store.apply(aTicker({ ltp: 101, ltt: T0 }));
      expect(store.apply(aQuote({ ltp: 101.05, ltt: T0, volume: 42 }))).not.toBeNull();
      expect([store.get(KEY)!.ltp, store.get(KEY)!.volume]).toEqual([101.05, 42]);
    });

    it('ends on the last-arrived packet among those with the newest LTT, in any arrival order', () => {
      fc.assert(
        fc.property(
          fc.array(fc.record({ ltt: fc.integer({ min: 1, max: 20 }), cents: fc.nat(100_000) }), {
            minLength: 1,
            maxLength: 40,
          }),
          (packets) => {
            const { store } = setup();
            for (const p of packets) {
              store.apply(aTicker({ ltt: T0 + p.ltt, ltp: (100 + p.cents) / 100 }));
            }
            const newest = Math.max(...packets.map((p) => p.ltt));
            const winner = packets.filter((p) => p.ltt === newest).pop()!;
            const rec = store.get(KEY)!;
            expect([rec.ltt, rec.ltp]).toEqual([T0 + newest, (100 + winner.cents) / 100]);
          },
        ),
        { numRuns: 500 },
      );
    });

    it('treats LTT 0 as not given: applies the packet and keeps the known LTT', () => {
      const { store } = setup();
      store.apply(aTicker({ ltt: T0 }));
      store.apply(aTicker({ ltp: 120, ltt: 0 }));
      expect([store.get(KEY)!.ltp, store.get(KEY)!.ltt]).toEqual([120, T0]);
    });
  });

  describe('invalid prices', () => {
    it.each([NaN, Infinity, -Infinity, -1, 0])(
      'never lets an LTP of %p overwrite valid state',
      (bad) => {
        const { store } = setup();
        store.apply(aQuote({ ltp: 101 }));
        expect(store.apply(aTicker({ ltp: bad, ltt: T0 + 1 }))).toBeNull();
        expect(store.apply(aQuote({ ltp: bad, ltt: T0 + 1, volume: 1 }))).toBeNull();
        expect(store.apply(aFull({ ltp: bad, ltt: T0 + 1 }))).toBeNull();
        const rec = store.get(KEY)!;
        expect([rec.ltp, rec.ltt, rec.volume]).toEqual([101, T0, 12_000]);
        expect(store.stats().invalidPrice).toBe(3);
      },
    );

    it('ignores an invalid previous close', () => {
      const { store } = setup();
      store.apply(aPrevClose({ prevClose: 95 }));
      expect(store.apply(aPrevClose({ prevClose: NaN }))).toBeNull();
      expect(store.apply(aPrevClose({ prevClose: 0 }))).toBeNull();
      expect(store.get(KEY)!.prevClose).toBe(95);
      expect(store.stats().invalidPrice).toBe(2);
    });

    it('keeps the stored value when a secondary price (ATP, OHLC) is unusable', () => {
      const { store } = setup();
      store.apply(aQuote());
      store.apply(aQuote({ ltt: T0 + 1, atp: NaN, high: -3, open: Infinity, low: 0 }));
      const rec = store.get(KEY)!;
      expect([rec.atp, rec.high, rec.open, rec.low]).toEqual([100.8, 102, 99, 98.5]);
      expect(store.stats().invalidAuxPrice).toBe(3);
    });
  });

  describe('staleness', () => {
    it('marks an instrument stale after the quiet period and clears it on the next packet', () => {
      const { store, advance } = setup(1_000);
      store.apply(aTicker());
      store.drainDirty();
      advance(999);
      expect(store.sweepStale()).toBe(0);
      advance(1);
      expect(store.sweepStale()).toBe(1);
      expect(store.get(KEY)!.stale).toBe(true);
      expect(store.drainDirty().map((r) => r.key)).toEqual([KEY]);
      expect(store.sweepStale()).toBe(0);
      store.apply(aTicker({ ltt: T0 + 1 }));
      expect(store.get(KEY)!.stale).toBe(false);
    });

    it("markConnectionStale flags a dropped connection's instruments until each gets fresh data", () => {
      const { store } = setup();
      const other = instrumentKey(SEGMENT_CODE[SEG], ID + 1);
      store.apply(aTicker());
      store.apply(aTicker({ securityId: ID + 1 }));
      store.apply(aTicker({ securityId: ID + 2 }));
      store.drainDirty();
      expect(store.markConnectionStale([KEY, other, 999])).toBe(2);
      expect(store.drainDirty().map((r) => r.key)).toEqual([KEY, other]);
      store.apply(anOi(5));
      expect(store.get(KEY)!.stale).toBe(false);
      expect(store.get(other)!.stale).toBe(true);
    });

    it('an instrument with no data yet is stale', () => {
      const { store } = setup();
      const rec = store.ensure(KEY);
      expect([rec.hasData, rec.stale]).toEqual([false, true]);
      expect(rec.ltp).toBeNaN();
    });
  });

  describe('dirty set', () => {
    it('lists each changed record once per drain, and nothing after a drain', () => {
      const { store } = setup();
      store.apply(aTicker());
      store.apply(aTicker({ ltt: T0 + 1 }));
      store.apply(aTicker({ securityId: 7 }));
      store.apply(anOi(5));
      expect(store.drainDirty().map((r) => r.securityId)).toEqual([String(ID), '7']);
      expect(store.drainDirty()).toHaveLength(0);
      store.apply(aTicker({ ltt: T0 + 2 }));
      expect(store.drainDirty().map((r) => r.securityId)).toEqual([String(ID)]);
    });

    it('dropped packets do not make a record dirty', () => {
      const { store } = setup();
      store.apply(aTicker({ ltt: T0 + 5 }));
      store.drainDirty();
      store.apply(aTicker({ ltt: T0 }));
      store.apply(aTicker({ ltp: NaN, ltt: T0 + 9 }));
      expect(store.dirtyCount).toBe(0);
    });
  });
});
