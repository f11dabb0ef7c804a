import { REQUIRED_INDICES } from '@app/dhan';
import type { ResolvedAppConfig } from '../config/app-config';

export interface InstrumentsOptions {
  /** A file with fewer instruments is refused. */
  minRows: number;
  /** Canonical index names a file must contain (NIFTY, BANKNIFTY, ...). */
  requiredIndices: readonly string[];
  /** Waits between boot-time attempts while neither the download nor the stored copy served. */
  bootRetryDelaysMs: readonly number[];
}

export const DEFAULT_INSTRUMENTS_OPTIONS: InstrumentsOptions = {
  minRows: 1000,
  requiredIndices: REQUIRED_INDICES,
  bootRetryDelaysMs: [5_000, 15_000, 60_000, 300_000],
};

/**
 * Settings the resolved configuration may carry beyond the environment (tests, embedders):
 * optional, so a plain config gives the defaults.
 */
export interface InstrumentsRuntimeConfig extends ResolvedAppConfig {
  instruments?: Partial<InstrumentsOptions>;
}

export function instrumentsOptions(config: ResolvedAppConfig): InstrumentsOptions {
  return { ...DEFAULT_INSTRUMENTS_OPTIONS, ...(config as InstrumentsRuntimeConfig).instruments };
}

/** DI token of the resolved InstrumentsOptions. */
export const INSTRUMENTS_OPTIONS = Symbol('INSTRUMENTS_OPTIONS');
