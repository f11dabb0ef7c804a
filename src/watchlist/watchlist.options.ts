import type { ResolvedAppConfig } from '../config/app-config';

/** Limits and option-chain shape of watchlists (docs/WATCHLISTS.md lists the variables). */
export interface WatchlistOptions {
  /** Watchlists per user. */
  maxLists: number;
  /** Items per watchlist. */
  maxItems: number;
  /** Nearest option expiries an `includeOptionChain` item streams. */
  chainExpiries: number;
  /** Strikes each side of ATM: 10 -> 21 strikes x CE/PE = 42 contracts per expiry. */
  chainStrikesEachSide: number;
}

export const DEFAULT_WATCHLIST_OPTIONS: Readonly<WatchlistOptions> = {
  maxLists: 20,
  maxItems: 200,
  chainExpiries: 3,
  chainStrikesEachSide: 10,
};

export const WATCHLIST_OPTIONS = Symbol('WATCHLIST_OPTIONS');

/** Tests and embedders can set `watchlist` on the resolved configuration. */
export interface WatchlistRuntimeConfig extends ResolvedAppConfig {
  watchlist?: Partial<WatchlistOptions>;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

/** Defaults, then WATCHLIST_* variables, then `watchlist` of the resolved configuration. */
export function watchlistOptions(
  config: ResolvedAppConfig,
  env: NodeJS.ProcessEnv = process.env,
): WatchlistOptions {
  const fromEnv: Partial<WatchlistOptions> = {
    maxLists: positiveInt(env, 'WATCHLIST_MAX_LISTS'),
    maxItems: positiveInt(env, 'WATCHLIST_MAX_ITEMS'),
    chainExpiries: positiveInt(env, 'WATCHLIST_CHAIN_EXPIRIES'),
    chainStrikesEachSide: positiveInt(env, 'WATCHLIST_CHAIN_STRIKES_EACH_SIDE'),
  };
  const out: WatchlistOptions = { ...DEFAULT_WATCHLIST_OPTIONS };
  for (const source of [fromEnv, (config as WatchlistRuntimeConfig).watchlist ?? {}]) {
    for (const [k, v] of Object.entries(source) as Array<[keyof WatchlistOptions, unknown]>) {
      if (typeof v === 'number') out[k] = v;
    }
  }
  return out;
}
