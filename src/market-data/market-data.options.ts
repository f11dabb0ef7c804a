import type { BackoffOptions } from '@app/dhan';
import type { ResolvedAppConfig } from '../config/app-config';
import {
  DEFAULT_MAX_TICK_INSTRUMENTS_PER_USER,
  DEFAULT_MAX_WATCHLIST_INSTRUMENTS_PER_USER,
} from '../config/validate-config';
import { ReferenceKind, type RegistryLimits } from './feed/subscription-registry';
import type { TickFanoutOptions } from './ticks/tick-fanout';
import { DEFAULT_TICK_CHECKS, type TickChecks } from './ticks/tick-store';
import { DEFAULT_TIER_B_CONFIG, type TierBConfig } from './chains/tier-b';

/** Everything the market-data module can be tuned with (docs/MARKET_DATA.md lists the variables). */
export interface MarketDataOptions {
  registry: Partial<RegistryLimits>;
  fanout: Partial<Omit<TickFanoutOptions, 'now'>>;
  /** No packet for this long marks an instrument stale (not a reason to reconnect). */
  staleAfterMs: number;
  /** Feed watchdog: silence on a subscribed connection during market hours forces a reconnect. */
  dataStallMs: number;
  /** Reconnect backoff of the feed sockets (full jitter; libs/dhan defaults: 1 s doubling to 60 s). */
  feedBackoff: BackoffOptions;
  /** Distinct instruments one user may stream through `ticks` (MAX_TICK_INSTRUMENTS_PER_USER). */
  maxTickInstrumentsPerUser: number;
  /** Interval of `feedHealth` pushes (also pushed on change). */
  feedHealthIntervalMs: number;
  /** A `ticks` subscription opened during warm-up waits this long for the instrument master. */
  warmupWaitMs: number;
  /** `quote`, a first `ticks` snapshot or a one-shot chain waits this long for DhanHQ REST. */
  restWaitMs: number;
  /** Plausibility checks of trade packets (RELIABILITY F8); `enabled: false` turns them off. */
  tickChecks: TickChecks & { enabled: boolean };
  /** Rate and dividend yield of the option analytics (OPTION_*_PERCENT, as fractions). */
  optionAnalytics: { riskFreeRate: number; dividendYield: number };
  tierB: {
    enabled: boolean;
    config: Partial<TierBConfig>;
    /** How often the underlyings are checked for re-centring. */
    recheckMs: number;
    /** How long boot waits for the underlyings' first price before selecting on prev close. */
    spotWaitMs: number;
  };
}

export const DEFAULT_MARKET_DATA_OPTIONS: MarketDataOptions = {
  registry: {},
  fanout: {},
  staleAfterMs: 120_000,
  dataStallMs: 90_000,
  warmupWaitMs: 15_000,
  restWaitMs: 3_000,
  feedBackoff: {},
  maxTickInstrumentsPerUser: DEFAULT_MAX_TICK_INSTRUMENTS_PER_USER,
  feedHealthIntervalMs: 5_000,
  tickChecks: { enabled: true, ...DEFAULT_TICK_CHECKS },
  optionAnalytics: { riskFreeRate: 0.065, dividendYield: 0 },
  tierB: {
    enabled: true,
    config: {},
    recheckMs: 30_000,
    spotWaitMs: 10_000,
  },
};

export const MARKET_DATA_OPTIONS = Symbol('MARKET_DATA_OPTIONS');

/** Tests and embedders can set `marketData` on the resolved configuration. */
export interface MarketDataRuntimeConfig extends ResolvedAppConfig {
  marketData?: DeepPartial<MarketDataOptions>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] };

function int(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Defaults, then the environment (TICKS_* / FEED_* / TIER_B_* variables), then `marketData` of
 * the resolved configuration.
 */
export function marketDataOptions(
  config: ResolvedAppConfig,
  env: NodeJS.ProcessEnv = process.env,
): MarketDataOptions {
  const d = DEFAULT_MARKET_DATA_OPTIONS;
  const o = (config as MarketDataRuntimeConfig).marketData ?? {};
  const tierBEnv = env.TIER_B_ENABLED;
  const checksEnv = env.FEED_TICK_CHECKS;
  const percent = (name: string) => {
    const n = int(env, name);
    return n === undefined ? undefined : n / 100;
  };
  const floorPaise = int(env, 'FEED_JUMP_FLOOR_PAISE');
  const quotas = (config as Partial<ResolvedAppConfig>).feedQuotas;
  return {
    registry: {
      perOwner: {
        [ReferenceKind.WATCHLIST]: {
          limit:
            quotas?.maxWatchlistInstrumentsPerUser ?? DEFAULT_MAX_WATCHLIST_INSTRUMENTS_PER_USER,
          name: 'MAX_WATCHLIST_INSTRUMENTS_PER_USER',
        },
      },
      ...o.registry,
    },
    fanout: {
      ...defined({
        flushIntervalMs: int(env, 'TICKS_INTERVAL_MS'),
        highWaterBytes: int(env, 'TICKS_HIGH_WATER_BYTES'),
        lowWaterBytes: int(env, 'TICKS_LOW_WATER_BYTES'),
        hardCapBytes: int(env, 'TICKS_HARD_CAP_BYTES'),
        maxOverHighMs: int(env, 'TICKS_MAX_BEHIND_MS'),
        maxInstrumentsPerSubscription: int(env, 'TICKS_MAX_INSTRUMENTS'),
        maxSubscriptionsPerClient: int(env, 'TICKS_MAX_SUBSCRIPTIONS'),
      }),
      ...o.fanout,
    },
    staleAfterMs: o.staleAfterMs ?? int(env, 'FEED_STALE_AFTER_MS') ?? d.staleAfterMs,
    dataStallMs: o.dataStallMs ?? int(env, 'FEED_STALL_MS') ?? d.dataStallMs,
    warmupWaitMs: o.warmupWaitMs ?? d.warmupWaitMs,
    restWaitMs: o.restWaitMs ?? d.restWaitMs,
    feedBackoff: { ...d.feedBackoff, ...o.feedBackoff },
    maxTickInstrumentsPerUser:
      o.maxTickInstrumentsPerUser ??
      quotas?.maxTickInstrumentsPerUser ??
      d.maxTickInstrumentsPerUser,
    feedHealthIntervalMs: o.feedHealthIntervalMs ?? d.feedHealthIntervalMs,
    tickChecks: {
      ...d.tickChecks,
      ...defined({
        enabled: checksEnv === undefined || checksEnv === '' ? undefined : checksEnv !== 'false',
        maxFutureSeconds: int(env, 'FEED_LTT_MAX_FUTURE_S'),
        maxBehindSeconds: int(env, 'FEED_LTT_MAX_BEHIND_S'),
        maxJumpRatio: percent('FEED_MAX_JUMP_PERCENT'),
        confirmRatio: percent('FEED_JUMP_CONFIRM_PERCENT'),
        jumpFloor: floorPaise === undefined ? undefined : floorPaise / 100,
      }),
      ...o.tickChecks,
    },
    optionAnalytics: {
      ...d.optionAnalytics,
      ...(config as Partial<ResolvedAppConfig>).optionAnalytics,
      ...o.optionAnalytics,
    },
    tierB: {
      enabled: o.tierB?.enabled ?? (tierBEnv === undefined ? true : tierBEnv !== 'false'),
      config: {
        ...defined({
          strikesEachSide: int(env, 'TIER_B_STRIKES_EACH_SIDE'),
          recentreAfterStrikes: int(env, 'TIER_B_RECENTRE_STRIKES'),
        }),
        ...o.tierB?.config,
      },
      recheckMs: o.tierB?.recheckMs ?? int(env, 'TIER_B_RECHECK_MS') ?? d.tierB.recheckMs,
      spotWaitMs: o.tierB?.spotWaitMs ?? d.tierB.spotWaitMs,
    },
  };
}

export { DEFAULT_TIER_B_CONFIG };
