import type { DhanSimulator, DhanSimulatorOptions } from '@app/dhan-simulator';
import type { DhanConfig, ResolvedAppConfig } from '../config/app-config';
import type { BrokerToken } from './broker-token';

/** DI token of the DhanHQ endpoints every DhanHQ client of the server connects to. */
export const DHAN_ENDPOINTS = Symbol('DHAN_ENDPOINTS');

export type DhanMode = 'simulator' | 'live';

export interface DhanEndpoints {
  mode: DhanMode;
  feedUrl: string;
  apiUrl: string;
  orderUpdateUrl: string;
  instrumentsUrl: string;
  clientId: string;
  /** Read it again before every connect: the token may be rotated while the server runs. */
  accessToken: () => string;
  /** The process's one DhanHQ token: renewal, refusal (pause) and replacement (resume). */
  token: BrokerToken;
  /** `always`: the simulator ticks around the clock; `calendar`: by market hours (live too). */
  marketHours: 'always' | 'calendar';
  /** The in-process simulator of the embedded default. */
  simulator?: DhanSimulator;
}

/**
 * Settings the resolved configuration may carry beyond the environment: set by tests (and
 * embedders) to shape the in-process simulator. Optional, so a plain config is valid.
 */
export interface DhanRuntimeConfig extends DhanConfig {
  simulatorOptions?: DhanSimulatorOptions;
}

export function dhanRuntimeConfig(config: ResolvedAppConfig): DhanRuntimeConfig {
  return config.dhan as DhanRuntimeConfig;
}

/** Seed of the embedded simulator: fixed, so the instrument universe is stable across restarts. */
export const EMBEDDED_SIMULATOR_SEED = 42;

/** DhanHQ's own hosts (its documented REST, feed, order-update and scrip-master URLs). */
export function isDhanHqUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return host === 'dhan.co' || host.endsWith('.dhan.co');
  } catch {
    return false;
  }
}

export type MarketDataSource = 'built-in simulator' | 'DhanHQ' | 'external stand-in';

/**
 * Where market data really comes from: credentials point the server at `DHAN_*` URLs, which
 * are DhanHQ only when every connection goes to DhanHQ's hosts (a stand-in such as
 * `npm run simulator` takes credentials too). Used by the start-up banner.
 */
export function marketDataSource(dhan: Pick<DhanConfig, 'live' | 'apiUrl' | 'feedUrl'>): {
  source: MarketDataSource;
  host?: string;
} {
  if (!dhan.live) return { source: 'built-in simulator' };
  if (isDhanHqUrl(dhan.apiUrl) && isDhanHqUrl(dhan.feedUrl)) return { source: 'DhanHQ' };
  const host = isDhanHqUrl(dhan.feedUrl) ? dhan.apiUrl : dhan.feedUrl;
  let where = host;
  try {
    where = new URL(host).host;
  } catch {
    // keep the text as configured
  }
  return { source: 'external stand-in', host: where };
}
