import type { ResolvedAppConfig } from '../config/app-config';
import { DEFAULT_MARKET_DATA_OPTIONS, marketDataOptions } from './market-data.options';

const config = {} as ResolvedAppConfig;

describe('marketDataOptions', () => {
  it('gives the documented defaults with no environment', () => {
    const o = marketDataOptions(config, {});
    expect(o.fanout).toEqual({});
    expect(o.staleAfterMs).toBe(DEFAULT_MARKET_DATA_OPTIONS.staleAfterMs);
    expect(o.dataStallMs).toBe(90_000);
    expect(o.tierB.enabled).toBe(true);
    expect(o.tierB.recheckMs).toBe(30_000);
  });

  it('reads the TICKS_, FEED_ and TIER_B_ variables', () => {
    const o = marketDataOptions(config, {
      TICKS_INTERVAL_MS: '50',
      TICKS_HARD_CAP_BYTES: '1048576',
      TICKS_MAX_INSTRUMENTS: '100',
      FEED_STALL_MS: '30000',
      TIER_B_ENABLED: 'false',
      TIER_B_STRIKES_EACH_SIDE: '5',
    });
    expect(o.fanout).toEqual({
      flushIntervalMs: 50,
      hardCapBytes: 1_048_576,
      maxInstrumentsPerSubscription: 100,
    });
    expect(o.dataStallMs).toBe(30_000);
    expect(o.tierB.enabled).toBe(false);
    expect(o.tierB.config).toEqual({ strikesEachSide: 5 });
  });

  it('lets the resolved configuration override the environment', () => {
    const o = marketDataOptions(
      { marketData: { fanout: { flushIntervalMs: 250 }, registry: { total: 100 } } } as never,
      { TICKS_INTERVAL_MS: '50' },
    );
    expect(o.fanout.flushIntervalMs).toBe(250);
    expect(o.registry.total).toBe(100);
  });

  it('enables the F8 tick checks by default and reads their FEED_ variables', () => {
    expect(marketDataOptions(config, {}).tickChecks).toEqual({
      enabled: true,
      maxFutureSeconds: 5,
      maxBehindSeconds: 60,
      maxJumpRatio: 0.2,
      confirmRatio: 0.05,
      jumpFloor: 1,
    });
    const o = marketDataOptions(config, {
      FEED_TICK_CHECKS: 'false',
      FEED_LTT_MAX_FUTURE_S: '2',
      FEED_LTT_MAX_BEHIND_S: '300',
      FEED_MAX_JUMP_PERCENT: '35',
      FEED_JUMP_CONFIRM_PERCENT: '3',
      FEED_JUMP_FLOOR_PAISE: '250',
    });
    expect(o.tickChecks).toEqual({
      enabled: false,
      maxFutureSeconds: 2,
      maxBehindSeconds: 300,
      maxJumpRatio: 0.35,
      confirmRatio: 0.03,
      jumpFloor: 2.5,
    });
    const fromConfig = marketDataOptions(
      { marketData: { tickChecks: { maxJumpRatio: 0.1 } } } as never,
      { FEED_MAX_JUMP_PERCENT: '35' },
    );
    expect(fromConfig.tickChecks.maxJumpRatio).toBe(0.1);
    expect(() => marketDataOptions(config, { FEED_MAX_JUMP_PERCENT: '-5' })).toThrow(
      /FEED_MAX_JUMP_PERCENT/,
    );
  });

  it('refuses a malformed number with the variable name', () => {
    expect(() => marketDataOptions(config, { TICKS_INTERVAL_MS: 'fast' })).toThrow(
      /TICKS_INTERVAL_MS/,
    );
  });
});
