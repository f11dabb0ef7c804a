import fc from 'fast-check';
import { ExchangeSegment, FeedResponseCode, SEGMENT_CODE, instrumentKey } from '@app/dhan/types';
import {
  DEFAULT_TICK_CHECKS,
  DepthLevelUpdate,
  FullUpdate,
  OiUpdate,
  PrevCloseUpdate,
  QuoteUpdate,
  TickChecks,
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

/** Store with the app's F8 checks; its wall clock starts 60 s after T0. */
function checked(checks: Partial<TickChecks> = {}) {
  let now = (T0 + 60) * 1000;
  const store = new TickStore({ now: () => now, checks: { ...DEFAULT_TICK_CHECKS, ...checks } });
  return {
    store,
    /** Moves the fake wall clock; the store sees it at its next drain, sweep or suspicious LTT. */
    advance: (ms: number) => {
      now += ms;
    },
    ltp: () => store.get(KEY)!.ltp,
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

    it('drops a positive LTP or previous close that rounds to zero paise', () => {
      const { store } = setup();
      store.apply(aPrevClose({ prevClose: 95 }));
      store.apply(aTicker({ ltp: 101 }));
      expect(store.apply(aTicker({ ltp: 5e-324, ltt: T0 + 1 }))).toBeNull();
      expect(store.apply(aTicker({ ltp: 0.004, ltt: T0 + 1 }))).toBeNull();
      expect(store.apply(aPrevClose({ prevClose: 0.001 }))).toBeNull();
      expect([store.get(KEY)!.ltp, store.get(KEY)!.prevClose]).toEqual([101, 95]);
      expect(store.stats().invalidPrice).toBe(3);
    });

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

    it('stays stale until a price comes: a previous close or OI packet alone is not a quote', () => {
      const { store } = setup();
      store.apply(aPrevClose());
      store.apply(anOi(10));
      const rec = store.get(KEY)!;
      expect([rec.hasData, rec.stale, rec.ltp]).toEqual([true, true, NaN]);
      store.apply(aTicker());
      expect([rec.stale, rec.ltp]).toEqual([false, 100.5]);
    });
  });

  describe('REST snapshots', () => {
    it('fills an instrument the feed has nothing for, marked as from REST at its time', () => {
      const { store } = setup();
      const rec = store.applyRest(
        KEY,
        { ltp: 250.05, prevClose: 240, oi: 10, depth: [level(0)] },
        1_234_000,
      )!;
      expect(rec).toBe(store.get(KEY));
      expect([rec.ltp, rec.prevClose, rec.change, rec.oi]).toEqual([250.05, 240, 10.05, 10]);
      expect([rec.fromRest, rec.stale, rec.hasData, rec.hasDepth]).toEqual([
        true,
        false,
        true,
        true,
      ]);
      expect(rec.updatedAt).toBe(1_234_000);
      expect(store.drainDirty().map((r) => r.key)).toEqual([KEY]);
    });

    it('never overwrites fresh feed data, and the next feed packet takes over', () => {
      const { store } = setup();
      store.apply(aTicker());
      expect(store.applyRest(KEY, { ltp: 1 }, 5)).toBeNull();
      expect(store.get(KEY)!.ltp).toBe(100.5);
      const other = instrumentKey(SEGMENT_CODE[SEG], ID + 1);
      store.applyRest(other, { ltp: 50 }, 5);
      store.apply(aTicker({ securityId: ID + 1, ltp: 51 }));
      expect([store.get(other)!.fromRest, store.get(other)!.ltp]).toEqual([false, 51]);
    });

    it("keeps the quote's circuit limits with the IST date they were read on; the feed keeps them", () => {
      const { store } = setup();
      const at = Date.UTC(2026, 11, 4, 4, 0); // 09:30 IST
      const rec = store.applyRest(KEY, { ltp: 100, upperCircuit: 120.05, lowerCircuit: 80.1 }, at)!;
      expect([rec.upperCircuit, rec.lowerCircuit, rec.circuitDate]).toEqual([
        120.05,
        80.1,
        '2026-12-04',
      ]);
      store.apply(aTicker());
      expect([rec.upperCircuit, rec.lowerCircuit]).toEqual([120.05, 80.1]);
      // An implausible pair (lower above upper, or missing) is not kept.
      const other = instrumentKey(SEGMENT_CODE[SEG], ID + 2);
      const bad = store.applyRest(other, { ltp: 100, upperCircuit: 80, lowerCircuit: 120 }, at)!;
      expect([bad.upperCircuit, bad.circuitDate]).toEqual([NaN, '']);
    });

    it('refuses a snapshot without a usable price', () => {
      const { store } = setup();
      expect(store.applyRest(KEY, { ltp: 0 }, 5)).toBeNull();
      expect(store.applyRest(KEY, { ltp: NaN }, 5)).toBeNull();
      expect(store.get(KEY)).toBeUndefined();
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
  describe('plausibility checks (RELIABILITY F8)', () => {
    it('are off for a bare store: a future LTT is applied', () => {
      const { store } = setup();
      expect(store.apply(aTicker({ ltt: 2_000_000_000 }))).not.toBeNull();
    });

    it('drops an LTT more than the tolerance (5 s) ahead of the clock, and accepts one at it', () => {
      const { store } = checked();
      expect(store.apply(aTicker({ ltp: 100, ltt: T0 + 66 }))).toBeNull();
      expect(store.get(KEY)).toBeUndefined();
      expect(store.stats().lttInFuture).toBe(1);
      expect(store.apply(aTicker({ ltp: 100, ltt: T0 + 65 }))).not.toBeNull();
      expect(store.get(KEY)!.ltt).toBe(T0 + 65);
    });

    it('drops a packet whose LTT still carries the IST offset (19,800 s ahead)', () => {
      const { store } = checked();
      store.apply(aTicker({ ltp: 100, ltt: T0 + 50 }));
      expect(store.apply(aQuote({ ltp: 100.5, ltt: T0 + 50 + 19_800, volume: 9 }))).toBeNull();
      const rec = store.get(KEY)!;
      expect([rec.ltp, rec.ltt, rec.volume]).toEqual([100, T0 + 50, NaN]);
      expect(store.stats().lttInFuture).toBe(1);
    });

    it('reads the clock again before calling an LTT future (the sampled clock may lag)', () => {
      const { store, advance } = checked();
      advance(10_000);
      // 10 s ahead of the sampled clock, on time for the real one.
      expect(store.apply(aTicker({ ltp: 100, ltt: T0 + 70 }))).not.toBeNull();
      expect(store.stats().lttInFuture).toBe(0);
    });

    it('drops an LTT more than 60 s behind the stored one as too old, a nearer one as out of order', () => {
      const { store } = checked();
      store.apply(aTicker({ ltp: 100, ltt: T0 + 50 }));
      expect(store.apply(aTicker({ ltp: 101, ltt: T0 + 50 - 61 }))).toBeNull();
      expect(store.apply(aTicker({ ltp: 101, ltt: T0 + 50 - 60 }))).toBeNull();
      expect(store.stats()).toMatchObject({ lttTooOld: 1, droppedOutOfOrder: 1 });
      expect([store.get(KEY)!.ltp, store.get(KEY)!.ltt]).toEqual([100, T0 + 50]);
    });

    it.each([1, -19_795, 946_684_799])(
      'drops an implausible LTT %p even on the first packet',
      (ltt) => {
        const { store } = checked();
        expect(store.apply(aTicker({ ltt }))).toBeNull();
        expect(store.get(KEY)).toBeUndefined();
        expect(store.stats().lttTooOld).toBe(1);
      },
    );

    it('holds a jump of more than 20 % against the last LTP; a packet back in the band is applied', () => {
      const { store, ltp } = checked();
      store.apply(aTicker({ ltp: 100, ltt: T0 }));
      store.drainDirty();
      expect(store.apply(aTicker({ ltp: 120.05, ltt: T0 + 1 }))).toBeNull();
      expect(store.apply(aFull({ ltp: 79.95, ltt: T0 + 1 }))).toBeNull();
      expect(ltp()).toBe(100);
      expect(store.get(KEY)!.hasDepth).toBe(false);
      expect(store.dirtyCount).toBe(0);
      expect(store.stats().priceJump).toBe(2);
      // Exactly 20 % is not a jump.
      expect(store.apply(aTicker({ ltp: 120, ltt: T0 + 2 }))).not.toBeNull();
      expect(store.apply(aTicker({ ltp: 96, ltt: T0 + 3 }))).not.toBeNull();
      expect(ltp()).toBe(96);
      expect(store.stats()).toMatchObject({ priceJump: 2, jumpsConfirmed: 0 });
    });

    it('applies a jump once a second packet within 5 % of the jumped price confirms it', () => {
      const { store, ltp } = checked();
      store.apply(aTicker({ ltp: 100, ltt: T0 }));
      expect(store.apply(aTicker({ ltp: 130, ltt: T0 + 1 }))).toBeNull();
      expect(ltp()).toBe(100);
      expect(store.apply(aQuote({ ltp: 131.5, ltt: T0 + 1, volume: 5 }))).not.toBeNull();
      expect([ltp(), store.get(KEY)!.volume]).toEqual([131.5, 5]);
      expect(store.stats()).toMatchObject({ priceJump: 1, jumpsConfirmed: 1 });
      // The new level is the reference now.
      expect(store.apply(aTicker({ ltp: 100, ltt: T0 + 2 }))).toBeNull();
    });

    it('a second packet outside the confirmation band becomes the held jump instead', () => {
      const { store, ltp } = checked();
      store.apply(aTicker({ ltp: 100, ltt: T0 }));
      expect(store.apply(aTicker({ ltp: 150, ltt: T0 + 1 }))).toBeNull();
      expect(store.apply(aTicker({ ltp: 160, ltt: T0 + 2 }))).toBeNull(); // 6.7 % off 150
      expect(store.apply(aTicker({ ltp: 161, ltt: T0 + 3 }))).not.toBeNull(); // 0.6 % off 160
      expect(ltp()).toBe(161);
      expect(store.stats()).toMatchObject({ priceJump: 2, jumpsConfirmed: 1 });
    });

    it('a repeat of the jumped packet (same LTP and LTT) does not confirm it', () => {
      const { store, ltp } = checked();
      store.apply(aTicker({ ltp: 100, ltt: T0 }));
      expect(store.apply(aTicker({ ltp: 150, ltt: T0 + 1 }))).toBeNull();
      expect(store.apply(aTicker({ ltp: 150, ltt: T0 + 1 }))).toBeNull();
      expect(ltp()).toBe(100);
      expect(store.apply(aTicker({ ltp: 150, ltt: T0 + 2 }))).not.toBeNull();
      expect(ltp()).toBe(150);
    });

    it("takes the day's first trade whatever the previous close, and measures the next against it", () => {
      const { store, ltp } = checked();
      store.apply(aPrevClose({ prevClose: 100 }));
      const first = store.apply(aTicker({ ltp: 70, ltt: T0 }));
      expect(first?.ltp).toBe(70);
      expect([ltp(), store.get(KEY)!.change]).toEqual([70, -30]);
      expect(store.apply(aTicker({ ltp: 100, ltt: T0 + 1 }))).toBeNull();
      expect(ltp()).toBe(70);
      const other = store.apply(aTicker({ securityId: ID + 1, ltp: 5_000, ltt: T0 }));
      expect(other?.ltp).toBe(5_000);
    });

    it('never calls a move of at most 1 rupee a jump (cheap options)', () => {
      const { store, ltp } = checked();
      store.apply(aTicker({ ltp: 0.05, ltt: T0 }));
      expect(store.apply(aTicker({ ltp: 1.05, ltt: T0 + 1 }))).not.toBeNull();
      expect(store.apply(aTicker({ ltp: 2.1, ltt: T0 + 2 }))).toBeNull();
      expect(ltp()).toBe(1.05);
    });

    it('takes the threshold, band and floor from its options', () => {
      const { store, ltp } = checked({ maxJumpRatio: 0.5, confirmRatio: 0.01, jumpFloor: 0 });
      store.apply(aTicker({ ltp: 10, ltt: T0 }));
      expect(store.apply(aTicker({ ltp: 14.9, ltt: T0 + 1 }))).not.toBeNull();
      expect(store.apply(aTicker({ ltp: 30, ltt: T0 + 2 }))).toBeNull();
      expect(store.apply(aTicker({ ltp: 30.5, ltt: T0 + 3 }))).toBeNull(); // 1.7 % off 30
      expect(store.apply(aTicker({ ltp: 30.6, ltt: T0 + 4 }))).not.toBeNull(); // 0.3 % off 30.5
      expect(ltp()).toBe(30.6);
    });

    it('never throws, and never stores a bad price or a future LTT, on random packets', () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              ltp: fc.oneof(fc.double(), fc.double({ min: 90, max: 110, noNaN: true })),
              ltt: fc.oneof(fc.integer(), fc.integer({ min: T0 - 100, max: T0 + 100 })),
              type: fc.constantFrom(FeedResponseCode.TICKER, FeedResponseCode.QUOTE),
            }),
            { maxLength: 60 },
          ),
          (packets) => {
            const { store } = checked();
            for (const p of packets) {
              const u =
                p.type === FeedResponseCode.TICKER
                  ? aTicker({ ltp: p.ltp, ltt: p.ltt })
                  : aQuote({ ltp: p.ltp, ltt: p.ltt });
              store.apply(u);
            }
            const rec = store.get(KEY);
            if (rec?.hasData) {
              expect(rec.ltp > 0 && rec.ltp < Infinity).toBe(true);
              expect(rec.ltt).toBeLessThanOrEqual(T0 + 65);
              expect(rec.ltt === 0 || rec.ltt >= 946_684_800).toBe(true);
            }
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('eviction and use notifications', () => {
    it('an evicted instrument is flagged stale once and takes no packet until it is back on the feed', () => {
      const { store } = checked();
      let onFeed = false;
      store.useFeedMembership(() => onFeed);
      store.apply(aTicker({ ltp: 100, ltt: T0 }));
      store.drainDirty();
      const version = store.get(KEY)!.version;
      expect(store.markEvicted(KEY)).toBe(true);
      expect(store.markEvicted(999)).toBe(false);
      expect(store.drainDirty().map((r) => [r.key, r.stale])).toEqual([[KEY, true]]);
      // In flight after the unsubscribe: dropped, the record stays stale.
      expect(store.apply(aTicker({ ltp: 100.5, ltt: T0 + 1 }))).toBeNull();
      expect(store.apply(anOi(7))).toBeNull();
      expect(store.apply(aPrevClose())).toBeNull();
      expect(store.get(KEY)!).toMatchObject({ stale: true, ltp: 100, version: version + 1 });
      expect(store.dirtyCount).toBe(0);
      expect(store.stats().notOnFeed).toBe(3);
      onFeed = true;
      expect(store.apply(aTicker({ ltp: 101, ltt: T0 + 2 }))).not.toBeNull();
      expect(store.get(KEY)!).toMatchObject({ stale: false, ltp: 101, offFeed: false });
    });

    it('tells its use listener at most once per instrument per second of its clock', () => {
      const { store, advance } = checked();
      const used: number[] = [];
      store.onUse((key) => used.push(key));
      store.apply(aTicker({ ltp: 100, ltt: T0 }));
      store.apply(aQuote({ ltp: 100, ltt: T0 + 1 }));
      store.apply(anOi(5));
      store.apply(aTicker({ securityId: 7, ltp: 100, ltt: T0 }));
      expect(used).toEqual([KEY, instrumentKey(SEGMENT_CODE[SEG], 7)]);
      advance(1_000);
      store.drainDirty();
      store.markConnectionStale([KEY]); // not a use
      expect(used).toHaveLength(2);
      store.apply(aTicker({ ltp: 100, ltt: T0 + 2 }));
      store.apply(aTicker({ ltp: 100, ltt: T0 + 3 }));
      expect(used).toEqual([KEY, instrumentKey(SEGMENT_CODE[SEG], 7), KEY]);
    });
  });
});
