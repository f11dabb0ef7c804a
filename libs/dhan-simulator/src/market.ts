import { OptionGreeks, YEAR_MS, black76, forwardPrice, smileVol } from './pricing';
import { Prng } from './prng';
import { SimInstrument, Universe } from './universe';

/** Injectable time source (epoch ms). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** How often instruments trade: rate = min + (max - min) * activity, activity in (0, 1]. */
export interface ActivityOptions {
  maxTicksPerSecond: number;
  minTicksPerSecond: number;
  /** Zipf-like exponent: higher concentrates ticks on ATM strikes and top stocks. */
  skew: number;
}

export interface MarketOptions {
  seed: number | string;
  clock: Clock;
  activity?: Partial<ActivityOptions>;
  /** Overrides the activity model entirely (ticks per second for an instrument). */
  tickRate?: (instrument: SimInstrument) => number;
  /** Multiplies every walk's volatility; 0 freezes prices (useful in tests). Default 1. */
  volatilityScale?: number;
}

export interface InstrumentState {
  ltp: number;
  ltq: number;
  /** Epoch ms of the last trade (true time). */
  lastTradeMs: number;
  volume: number;
  turnover: number;
  totalBuyQty: number;
  totalSellQty: number;
  open: number;
  high: number;
  low: number;
  /** Day close; 0 while the session runs (DhanHQ v2: feed packets). */
  close: number;
  prevClose: number;
  oi: number;
  prevOi: number;
  oiHigh: number;
  oiLow: number;
}

export interface DepthLevel {
  bidQty: number;
  askQty: number;
  bidOrders: number;
  askOrders: number;
  bidPrice: number;
  askPrice: number;
}

/** Trading time in a year: the walks move in market hours, not calendar hours. */
const TRADING_YEAR_MS = 252 * 6.25 * 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Prices of the whole universe: one geometric random walk per underlying (index, commodity,
 * stock); futures and options derive from it (carry, Black-76 with a smile), so an option
 * chain always agrees with its underlying.
 */
export class Market {
  readonly clock: Clock;
  private readonly levels: Float64Array;
  private readonly states: (InstrumentState | undefined)[];
  private readonly rng: Prng;
  private readonly activity: ActivityOptions;
  private readonly tickRateOverride?: (instrument: SimInstrument) => number;
  private volatilityScale: number;
  private lastAdvanceMs: number;

  constructor(
    readonly universe: Universe,
    options: MarketOptions,
  ) {
    this.clock = options.clock;
    this.rng = new Prng(options.seed).fork('market');
    this.activity = {
      maxTicksPerSecond: options.activity?.maxTicksPerSecond ?? 5,
      minTicksPerSecond: options.activity?.minTicksPerSecond ?? 0.1,
      skew: options.activity?.skew ?? 1.1,
    };
    this.tickRateOverride = options.tickRate;
    this.volatilityScale = options.volatilityScale ?? 1;
    this.levels = new Float64Array(universe.walks.length);
    universe.walks.forEach((walk, i) => {
      // today's opening gap off the previous close
      this.levels[i] = walk.level * (1 + 0.004 * this.rng.normal() * this.volatilityScale);
    });
    this.states = new Array<InstrumentState | undefined>(universe.size);
    this.lastAdvanceMs = this.clock.now();
  }

  setVolatilityScale(scale: number): void {
    this.volatilityScale = scale;
  }

  /** Moves every walk to `now` (one log-normal step each; cheap: a few hundred walks). */
  advance(now: number = this.clock.now()): void {
    const dt = now - this.lastAdvanceMs;
    if (dt < 1) return;
    this.lastAdvanceMs = now;
    if (this.volatilityScale === 0) return;
    const root = Math.sqrt(dt / TRADING_YEAR_MS) * this.volatilityScale;
    const walks = this.universe.walks;
    for (let i = 0; i < walks.length; i++) {
      const sigma = walks[i].vol * root;
      this.levels[i] *= Math.exp(sigma * this.rng.normal() - 0.5 * sigma * sigma);
    }
  }

  /** Current level of an underlying walk by name (index, commodity spot, stock). */
  level(walkName: string): number | undefined {
    const i = this.universe.walks.findIndex((w) => w.name === walkName);
    return i < 0 ? undefined : this.levels[i];
  }

  /** Test hook: put an underlying at a level; derived prices follow on their next mark. */
  setLevel(walkName: string, level: number): void {
    const i = this.universe.walks.findIndex((w) => w.name === walkName);
    if (i < 0) throw new Error(`unknown underlying ${walkName}`);
    this.levels[i] = level;
  }

  /** Model price of an instrument at a time, off the grid. */
  fairValue(inst: SimInstrument, now: number, levelOverride?: number): number {
    const walk = this.universe.walks[inst.walk];
    const spot = levelOverride ?? this.levels[inst.walk];
    switch (inst.kind) {
      case 'INDEX':
      case 'EQUITY':
        return spot;
      case 'FUTURE':
        return forwardPrice(spot, walk.carry, ((inst.expiryMs ?? now) - now) / YEAR_MS);
      case 'OPTION':
        return this.optionGreeks(inst, now, spot).price;
    }
  }

  greeks(inst: SimInstrument, now: number = this.clock.now()): OptionGreeks | undefined {
    if (inst.kind !== 'OPTION') return undefined;
    this.advance(now);
    return this.optionGreeks(inst, now, this.levels[inst.walk]);
  }

  /** Latest state of an instrument, re-marked to the model at `now` (no trade). */
  mark(inst: SimInstrument, now: number = this.clock.now()): InstrumentState {
    this.advance(now);
    const state = this.stateOf(inst, now);
    const ltp = this.onGrid(inst, this.fairValue(inst, now));
    state.ltp = ltp;
    if (ltp > state.high) state.high = ltp;
    if (ltp < state.low) state.low = ltp;
    return state;
  }

  /** A trade happens: re-mark, then add quantity, volume and open-interest moves. */
  trade(inst: SimInstrument, now: number = this.clock.now()): InstrumentState {
    const state = this.mark(inst, now);
    if (inst.kind === 'INDEX') {
      state.lastTradeMs = now;
      return state;
    }
    const lots = 1 + Math.floor(-Math.log(1 - this.rng.next()) * 3);
    const qty = lots * inst.lotSize;
    state.ltq = qty;
    state.lastTradeMs = now;
    state.volume = Math.min(state.volume + qty, 2_147_483_647);
    state.turnover += qty * state.ltp;
    const swing = inst.lotSize * (10 + Math.floor(this.rng.next() * 50));
    state.totalBuyQty = Math.max(0, state.totalBuyQty + (this.rng.next() < 0.5 ? -swing : swing));
    state.totalSellQty = Math.max(0, state.totalSellQty + (this.rng.next() < 0.5 ? -swing : swing));
    if (inst.isDerivative) {
      state.oi = Math.max(0, state.oi + inst.lotSize * (Math.floor(this.rng.next() * 7) - 3));
      if (state.oi > state.oiHigh) state.oiHigh = state.oi;
      if (state.oi < state.oiLow) state.oiLow = state.oi;
    }
    return state;
  }

  /** Average traded price of the day. */
  averagePrice(state: InstrumentState): number {
    return state.volume > 0 ? state.turnover / state.volume : state.ltp;
  }

  /** Best bid and ask around the last price, one tick each side. */
  touch(inst: SimInstrument, now: number = this.clock.now()): { bid: number; ask: number } {
    const state = this.mark(inst, now);
    const tick = inst.tickSize;
    return {
      bid: Math.max(roundTick(state.ltp - tick, tick), 0),
      ask: roundTick(state.ltp + tick, tick),
    };
  }

  /** Five levels on the tick grid around the last price, level 1 first. */
  depth(inst: SimInstrument, state: InstrumentState, out: DepthLevel[] = []): DepthLevel[] {
    const tick = inst.tickSize;
    for (let k = 0; k < 5; k++) {
      const level = out[k] ?? {
        bidQty: 0,
        askQty: 0,
        bidOrders: 0,
        askOrders: 0,
        bidPrice: 0,
        askPrice: 0,
      };
      out[k] = level;
      if (inst.kind === 'INDEX') {
        level.bidQty = level.askQty = level.bidOrders = level.askOrders = 0;
        level.bidPrice = level.askPrice = 0;
        continue;
      }
      const bidOrders = 1 + Math.floor(this.rng.next() * 12);
      const askOrders = 1 + Math.floor(this.rng.next() * 12);
      level.bidOrders = bidOrders;
      level.askOrders = askOrders;
      level.bidQty = inst.lotSize * bidOrders * (1 + Math.floor(this.rng.next() * 4));
      level.askQty = inst.lotSize * askOrders * (1 + Math.floor(this.rng.next() * 4));
      const bid = roundTick(state.ltp - (k + 1) * tick, tick);
      level.bidPrice = bid > 0 ? bid : 0;
      level.askPrice = roundTick(state.ltp + (k + 1) * tick, tick);
    }
    return out;
  }

  /** Ticks per second for an instrument under the activity model. */
  tickRate(inst: SimInstrument): number {
    if (this.tickRateOverride) return this.tickRateOverride(inst);
    const { maxTicksPerSecond: max, minTicksPerSecond: min, skew } = this.activity;
    return min + (max - min) * this.activityOf(inst, skew);
  }

  /** Activity in (0, 1]: indices 1; ATM strikes and near expiries high; Zipf over stocks. */
  activityOf(inst: SimInstrument, skew: number = this.activity.skew): number {
    switch (inst.kind) {
      case 'INDEX':
        return 1;
      case 'EQUITY':
        return 1 / Math.pow(1 + inst.moneynessRank / 5, skew);
      case 'FUTURE':
        return Math.pow(0.4, inst.expiryRank);
      case 'OPTION':
        return Math.pow(0.6, inst.expiryRank) / Math.pow(1 + inst.moneynessRank, skew);
    }
  }

  private optionGreeks(inst: SimInstrument, now: number, spot: number): OptionGreeks {
    const walk = this.universe.walks[inst.walk];
    const years = Math.max(((inst.expiryMs ?? now) - now) / YEAR_MS, 60_000 / YEAR_MS);
    const fwdYears = Math.max(((inst.forwardExpiryMs ?? inst.expiryMs ?? now) - now) / YEAR_MS, 0);
    const forward = forwardPrice(spot, walk.carry, fwdYears);
    const strike = inst.strike ?? forward;
    const vol = smileVol(walk.vol, forward, strike, years);
    return black76(inst.optionType === 'CE', forward, strike, years, vol);
  }

  private onGrid(inst: SimInstrument, value: number): number {
    const tick = inst.tickSize;
    const price = roundTick(value, tick);
    return inst.kind === 'OPTION' && price < tick ? tick : price;
  }

  private stateOf(inst: SimInstrument, now: number): InstrumentState {
    let state = this.states[inst.index];
    if (state) return state;
    const walk = this.universe.walks[inst.walk];
    const prevClose = this.onGrid(inst, this.fairValue(inst, now - DAY_MS, walk.level));
    const ltp = this.onGrid(inst, this.fairValue(inst, now));
    const baseOi = inst.isDerivative
      ? inst.lotSize * Math.floor(1000 * (0.05 + this.activityOf(inst)) * (1 + this.rng.next()))
      : 0;
    const prevOi = inst.isDerivative
      ? Math.max(0, baseOi + inst.lotSize * this.rng.int(-50, 50))
      : 0;
    const depthBase = inst.kind === 'INDEX' ? 0 : inst.lotSize * (500 + this.rng.int(0, 5000));
    state = {
      ltp,
      ltq: 0,
      lastTradeMs: now,
      volume: 0,
      turnover: 0,
      totalBuyQty: depthBase,
      totalSellQty: inst.kind === 'INDEX' ? 0 : inst.lotSize * (500 + this.rng.int(0, 5000)),
      open: ltp,
      high: ltp,
      low: ltp,
      close: 0,
      prevClose,
      oi: baseOi,
      prevOi,
      oiHigh: baseOi,
      oiLow: baseOi,
    };
    this.states[inst.index] = state;
    return state;
  }
}

export function roundTick(value: number, tick: number): number {
  const n = Math.round(value / tick);
  return Math.round(n * tick * 10_000) / 10_000;
}
