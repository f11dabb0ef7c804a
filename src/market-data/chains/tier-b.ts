import {
  ExchangeSegment,
  FeedMode,
  Instrument,
  SEGMENT_CODE,
  instrumentKey,
} from '@app/dhan/types';
import { ReferenceKind, SubscriptionReference } from '../feed/subscription-registry';

/** Where an underlying's price comes from. */
export enum TierBSource {
  /** The IDX_I index row whose symbol is `indexSymbol`. */
  INDEX = 'INDEX',
  /** The nearest-expiry MCX FUTCOM contract of the commodity (MCX options are on futures). */
  NEAR_FUTURE = 'NEAR_FUTURE',
}

export interface TierBUnderlyingConfig {
  /** Underlying name as the options carry it (`Instrument.underlying`), also the tag. */
  name: string;
  source: TierBSource;
  /** Trading symbol of the index row; defaults to `name`. */
  indexSymbol?: string;
  /** How many of the nearest expiries (today or later) to pin. */
  expiries: number;
  /** Strikes each side of ATM; defaults to the config-wide value. */
  strikesEachSide?: number;
}

export interface TierBConfig {
  underlyings: TierBUnderlyingConfig[];
  /** 10 -> 21 strikes x CE/PE = 42 contracts per expiry. */
  strikesEachSide: number;
  /** Re-centre when the ATM has moved more than this many listed strikes from the centre. */
  recentreAfterStrikes: number;
  /** Feed mode of the pinned instruments; FULL carries the bid/ask an option chain shows. */
  mode: FeedMode;
}

/**
 * Defaults: NIFTY and SENSEX keep weekly expiries (SEBI, Nov 2024), so their nearest two are
 * pinned; BANKNIFTY, FINNIFTY, MIDCPNIFTY and BANKEX are monthly only, and MCX CRUDEOIL and
 * NATURALGAS options are monthly on futures: the nearest one of each (with the future it is
 * written on, when that is not the near future).
 */
export const DEFAULT_TIER_B_CONFIG: Readonly<TierBConfig> = {
  underlyings: [
    { name: 'NIFTY', source: TierBSource.INDEX, expiries: 2 },
    { name: 'BANKNIFTY', source: TierBSource.INDEX, expiries: 1 },
    { name: 'FINNIFTY', source: TierBSource.INDEX, expiries: 1 },
    { name: 'MIDCPNIFTY', source: TierBSource.INDEX, expiries: 1 },
    { name: 'SENSEX', source: TierBSource.INDEX, expiries: 2 },
    { name: 'BANKEX', source: TierBSource.INDEX, expiries: 1 },
    { name: 'CRUDEOIL', source: TierBSource.NEAR_FUTURE, expiries: 1 },
    { name: 'NATURALGAS', source: TierBSource.NEAR_FUTURE, expiries: 1 },
  ],
  strikesEachSide: 10,
  recentreAfterStrikes: 3,
  mode: FeedMode.FULL,
};

export interface TierBChain {
  expiry: string;
  atmStrike: number;
  /** The pinned strikes, ascending. */
  strikes: number[];
  /** CE and PE of each pinned strike, strike ascending, CE first. */
  contracts: Instrument[];
}

export interface TierBUnderlyingSelection {
  name: string;
  underlying: Instrument;
  spot: number | undefined;
  chains: TierBChain[];
}

export enum TierBMissingReason {
  /** No index / near-future row in the instrument master. */
  UNDERLYING_NOT_FOUND = 'UNDERLYING_NOT_FOUND',
  /** No spot price: the underlying alone is pinned, its chains wait for a price. */
  NO_SPOT = 'NO_SPOT',
  /** No live option expiry in the master. */
  NO_OPTIONS = 'NO_OPTIONS',
}

export interface TierBInstrument {
  instrument: Instrument;
  /** The underlying's name. */
  tag: string;
}

export interface TierBSelection {
  underlyings: TierBUnderlyingSelection[];
  /** Every instrument to pin (underlyings and contracts), each once. */
  instruments: TierBInstrument[];
  /** Instruments per underlying name. */
  counts: Record<string, number>;
  missing: Array<{ name: string; reason: TierBMissingReason }>;
}

export interface TierBInput {
  instruments: readonly Instrument[];
  /** Live price per underlying name; before the open, pass the previous close. */
  spots: ReadonlyMap<string, number> | Readonly<Record<string, number>>;
  /** Exchange date (YYYY-MM-DD, Asia/Kolkata); expiries before it are ignored. */
  today: string;
  config?: Partial<TierBConfig>;
}

/** The price to centre on: the LTP once traded, else the previous close. */
export function spotOf(state: { ltp: number; prevClose: number } | undefined): number | undefined {
  if (!state) return undefined;
  if (state.ltp > 0) return state.ltp;
  return state.prevClose > 0 ? state.prevClose : undefined;
}

/** Index of the listed strike nearest to `spot` (ties go to the lower strike); -1 when empty. */
export function atmIndex(strikes: readonly number[], spot: number): number {
  let lo = 0;
  let hi = strikes.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (strikes[mid] < spot) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && spot - strikes[lo - 1] <= strikes[lo] - spot) return lo - 1;
  return lo;
}

/** True when the ATM for `spot` is more than `thresholdStrikes` listed strikes from `centreStrike`. */
export function needsRecentre(
  strikes: readonly number[],
  centreStrike: number,
  spot: number,
  thresholdStrikes: number,
): boolean {
  const now = atmIndex(strikes, spot);
  const centre = atmIndex(strikes, centreStrike);
  if (now < 0 || centre < 0) return false;
  return Math.abs(now - centre) > thresholdStrikes;
}

/**
 * Underlyings of a selection whose chains should be re-centred for these spots, given the
 * listed strikes per (underlying, expiry) (from the instrument master).
 */
export function underlyingsToRecentre(
  selection: TierBSelection,
  spots: TierBInput['spots'],
  listedStrikes: (name: string, expiry: string) => readonly number[],
  thresholdStrikes: number = DEFAULT_TIER_B_CONFIG.recentreAfterStrikes,
): string[] {
  const out: string[] = [];
  for (const u of selection.underlyings) {
    const spot = spotFor(spots, u.name);
    if (spot === undefined) continue;
    if (u.chains.length === 0 && u.spot === undefined) {
      out.push(u.name);
      continue;
    }
    const moved = u.chains.some((c) =>
      needsRecentre(listedStrikes(u.name, c.expiry), c.atmStrike, spot, thresholdStrikes),
    );
    if (moved) out.push(u.name);
  }
  return out;
}

/** Listed strikes of one underlying and expiry, ascending, deduplicated. */
export function listedStrikes(
  instruments: readonly Instrument[],
  name: string,
  expiry: string,
): number[] {
  const set = new Set<number>();
  for (const i of instruments) {
    if (isOption(i) && i.underlying === name && i.expiry === expiry) set.add(i.strike!);
  }
  return [...set].sort((a, b) => a - b);
}

/**
 * Chooses the Tier B instruments: for each configured underlying, the underlying itself and
 * CE + PE of the strikes around ATM for its nearest expiries. Pure: same input, same output.
 */
export function selectTierB(input: TierBInput): TierBSelection {
  const config: TierBConfig = { ...DEFAULT_TIER_B_CONFIG, ...input.config };
  const names = new Set(config.underlyings.map((u) => u.name));
  const optionsBy = new Map<string, Instrument[]>();
  const futuresBy = new Map<string, Instrument[]>();
  const indexBySymbol = new Map<string, Instrument>();
  for (const i of input.instruments) {
    if (i.segment === ExchangeSegment.IDX_I) {
      if (!indexBySymbol.has(i.symbol)) indexBySymbol.set(i.symbol, i);
    } else if (i.underlying !== undefined && names.has(i.underlying)) {
      if (isOption(i)) push(optionsBy, i.underlying, i);
      else if (i.instrumentType === 'FUTCOM' && i.expiry !== undefined && i.expiry >= input.today) {
        push(futuresBy, i.underlying, i);
      }
    }
  }

  const selection: TierBSelection = { underlyings: [], instruments: [], counts: {}, missing: [] };
  const seen = new Set<number>();
  const add = (instrument: Instrument, tag: string) => {
    const k = instrumentKey(SEGMENT_CODE[instrument.segment], Number(instrument.securityId));
    if (seen.has(k)) return;
    seen.add(k);
    selection.instruments.push({ instrument, tag });
    selection.counts[tag] = (selection.counts[tag] ?? 0) + 1;
  };

  for (const u of config.underlyings) {
    const underlying =
      u.source === TierBSource.INDEX
        ? indexBySymbol.get(u.indexSymbol ?? u.name)
        : nearest(futuresBy.get(u.name) ?? []);
    if (!underlying) {
      selection.missing.push({ name: u.name, reason: TierBMissingReason.UNDERLYING_NOT_FOUND });
      continue;
    }
    add(underlying, u.name);
    const spot = spotFor(input.spots, u.name);
    const chosen: TierBUnderlyingSelection = { name: u.name, underlying, spot, chains: [] };
    selection.underlyings.push(chosen);

    const options = (optionsBy.get(u.name) ?? []).filter((o) => o.expiry! >= input.today);
    const expiries = [...new Set(options.map((o) => o.expiry!))].sort().slice(0, u.expiries);
    if (expiries.length === 0) {
      selection.missing.push({ name: u.name, reason: TierBMissingReason.NO_OPTIONS });
      continue;
    }
    if (spot === undefined) {
      selection.missing.push({ name: u.name, reason: TierBMissingReason.NO_SPOT });
      continue;
    }
    const each = u.strikesEachSide ?? config.strikesEachSide;
    for (const expiry of expiries) {
      if (u.source === TierBSource.NEAR_FUTURE) {
        // An MCX option expiry is written on the first future expiring on or after it, the one
        // its chain is analysed against: between the near options' expiry and their future's,
        // the nearest options are already on the next future, which is pinned too.
        const base = firstOnOrAfter(futuresBy.get(u.name) ?? [], expiry);
        if (base) add(base, u.name);
      }
      const chain = buildChain(
        options.filter((o) => o.expiry === expiry),
        expiry,
        spot,
        each,
      );
      chosen.chains.push(chain);
      for (const c of chain.contracts) add(c, u.name);
    }
  }
  return selection;
}

/** TIER_B references for a selection: holder and tag are the underlying's name. */
export function tierBReferences(
  selection: TierBSelection,
  mode: FeedMode = DEFAULT_TIER_B_CONFIG.mode,
): SubscriptionReference[] {
  return selection.instruments.map(({ instrument, tag }) => ({
    segment: instrument.segment,
    securityId: instrument.securityId,
    kind: ReferenceKind.TIER_B,
    holderId: tag,
    mode,
    tag,
  }));
}

function buildChain(
  options: readonly Instrument[],
  expiry: string,
  spot: number,
  each: number,
): TierBChain {
  const byStrike = new Map<number, { ce?: Instrument; pe?: Instrument }>();
  for (const o of options) {
    const slot = byStrike.get(o.strike!) ?? {};
    if (o.optionType === 'CE') slot.ce ??= o;
    else slot.pe ??= o;
    byStrike.set(o.strike!, slot);
  }
  const all = [...byStrike.keys()].sort((a, b) => a - b);
  const atm = atmIndex(all, spot);
  const strikes = all.slice(Math.max(0, atm - each), atm + each + 1);
  const contracts: Instrument[] = [];
  for (const s of strikes) {
    const slot = byStrike.get(s)!;
    if (slot.ce) contracts.push(slot.ce);
    if (slot.pe) contracts.push(slot.pe);
  }
  return { expiry, atmStrike: all[atm], strikes, contracts };
}

function isOption(i: Instrument): boolean {
  return (
    (i.optionType === 'CE' || i.optionType === 'PE') &&
    i.strike !== undefined &&
    Number.isFinite(i.strike) &&
    i.expiry !== undefined
  );
}

function nearest(list: readonly Instrument[]): Instrument | undefined {
  let best: Instrument | undefined;
  for (const i of list) if (!best || i.expiry! < best.expiry!) best = i;
  return best;
}

function firstOnOrAfter(list: readonly Instrument[], expiry: string): Instrument | undefined {
  let best: Instrument | undefined;
  for (const i of list) if (i.expiry! >= expiry && (!best || i.expiry! < best.expiry!)) best = i;
  return best;
}

function push(map: Map<string, Instrument[]>, k: string, v: Instrument): void {
  const list = map.get(k);
  if (list) list.push(v);
  else map.set(k, [v]);
}

function spotFor(spots: TierBInput['spots'], name: string): number | undefined {
  const v = spots instanceof Map ? spots.get(name) : (spots as Record<string, number>)[name];
  return typeof v === 'number' && v > 0 && Number.isFinite(v) ? v : undefined;
}
