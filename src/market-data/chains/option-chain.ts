import type { Instrument } from '@app/dhan';
import { NotFoundError } from '../../common/errors/domain-error';
import type { TickRecord } from '../ticks/tick-store';
import { atmIndex, spotOf } from './tier-b';

export interface ChainStrike {
  strike: number;
  call: { instrument: Instrument; quote: TickRecord | null } | null;
  put: { instrument: Instrument; quote: TickRecord | null } | null;
}

export interface OptionChain {
  underlying: string;
  expiry: string;
  spot: number | null;
  atmStrike: number | null;
  strikes: ChainStrike[];
}

/** What building a chain reads: the instrument master and the tick store's records. */
export interface OptionChainSources {
  expiries(underlying: string): string[];
  underlyingOf(underlying: string): Instrument | undefined;
  chain(underlying: string, expiry: string): Instrument[];
  /** The record if any data or subscription made one; undefined otherwise. */
  record(segment: Instrument['segment'], securityId: string): TickRecord | undefined;
}

/**
 * One expiry's chain of an underlying (the nearest when `expiry` is not given): strikes
 * ascending with their call and put and latest quotes, the spot and the ATM strike.
 * NOT_FOUND for an underlying without options or an expiry it does not list.
 */
export function buildOptionChain(
  sources: OptionChainSources,
  underlying: string,
  expiry?: string | null,
): OptionChain {
  const expiries = sources.expiries(underlying);
  if (expiries.length === 0) throw new NotFoundError(`No options for underlying ${underlying}`);
  const chosen = expiry ?? expiries[0];
  if (!expiries.includes(chosen)) {
    throw new NotFoundError(`No ${underlying} options expiring ${chosen}`);
  }
  const base = sources.underlyingOf(underlying);
  const baseRec = base ? sources.record(base.segment, base.securityId) : undefined;
  const spot = spotOf(baseRec) ?? null;
  const byStrike = new Map<number, ChainStrike>();
  for (const i of sources.chain(underlying, chosen)) {
    if (i.strike === undefined) continue;
    const slot = byStrike.get(i.strike) ?? { strike: i.strike, call: null, put: null };
    const contract = { instrument: i, quote: sources.record(i.segment, i.securityId) ?? null };
    if (i.optionType === 'CE') slot.call ??= contract;
    else if (i.optionType === 'PE') slot.put ??= contract;
    byStrike.set(i.strike, slot);
  }
  const strikes = [...byStrike.values()].sort((a, b) => a.strike - b.strike);
  const list = strikes.map((s) => s.strike);
  const atm = spot === null ? -1 : atmIndex(list, spot);
  return {
    underlying,
    expiry: chosen,
    spot,
    atmStrike: atm >= 0 ? list[atm] : null,
    strikes,
  };
}
