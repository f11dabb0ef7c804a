import type { Instrument } from '@app/dhan/types';
import table from './freeze-limits.json';

/** The scrip master carries no freeze limit: the exchanges' published index limits, by underlying. */
const LIMITS = table.segments as Readonly<Record<string, Readonly<Record<string, number>>>>;

/** The exchange freeze quantity (units per order) of an index derivative; undefined when none. */
export function freezeQuantityOf(instrument: Instrument | undefined): number | undefined {
  if (!instrument) return undefined;
  const bySymbol = LIMITS[instrument.segment];
  if (!bySymbol) return undefined;
  const underlying = (instrument.underlying ?? '').toUpperCase();
  return Object.prototype.hasOwnProperty.call(bySymbol, underlying)
    ? bySymbol[underlying]
    : undefined;
}
