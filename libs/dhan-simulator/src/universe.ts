import {
  ExchangeSegment,
  Instrument,
  OptionType,
  SEGMENT_CODE,
  instrumentKey,
} from '@app/dhan/types';
import {
  THURSDAY,
  TUESDAY,
  addBusinessDays,
  addDays,
  dayMonthTag,
  istTimeMs,
  monthTag,
  monthlyExpiries,
  nextWeekdays,
  parseDate,
  previousBusinessDay,
} from './calendar';
import { equitySeeds } from './equities';
import { Prng } from './prng';

export type InstrumentKind = 'INDEX' | 'EQUITY' | 'FUTURE' | 'OPTION';

/** A price process the market model walks: an index, a commodity, or a stock. */
export interface Walk {
  name: string;
  kind: 'index' | 'commodity' | 'equity';
  /** Starting level (today's previous close). */
  level: number;
  /** Annualised volatility used by the walk and as the ATM option volatility. */
  vol: number;
  /** Cost of carry per year for futures and option forwards. */
  carry: number;
}

/** One simulated instrument: the shared record plus what the simulator needs to price it. */
export interface SimInstrument extends Instrument {
  /** Position in `Universe.instruments`. */
  index: number;
  key: number;
  segmentCode: number;
  id: number;
  kind: InstrumentKind;
  walk: number;
  isDerivative: boolean;
  /** Expiry as an epoch (15:30 IST for NSE/BSE, 23:30 IST for MCX). */
  expiryMs?: number;
  /** For MCX options: the expiry of the future they are written on (sets the forward). */
  forwardExpiryMs?: number;
  /** For derivatives: the key of the instrument an option chain hangs off (index or FUTCOM). */
  underlyingKey?: number;
  /** Strikes away from the money at generation (options); list rank (stocks); drives activity. */
  moneynessRank: number;
  /** 0 for the nearest expiry of its underlying, 1 for the next, ... */
  expiryRank: number;
  /** Columns of the compact CSV that have no place in `Instrument`. */
  exchangeInstrumentType: string;
  series: string;
  symbolName: string;
  expiryCode: string;
  expiryDateTime: string;
  /** Tick size in paise as the CSV writes it. */
  tickPaise: number;
}

export interface UniverseOptions {
  seed: number | string;
  /** IST calendar date the universe is built for (YYYY-MM-DD). */
  today: string;
  /** Strikes listed each side of the money, as a fraction of spot. Default 0.3. */
  strikeBandFraction?: number;
  /** Weekly NIFTY / SENSEX expiries listed. Default 10. */
  weeklyExpiries?: number;
  /** Monthly expiries listed for index options and futures. Default 3. */
  monthlyExpiries?: number;
  /**
   * Exchange holidays (`YYYY-MM-DD`) per exchange: an expiry that falls on one moves to the
   * previous trading day, as the exchanges do. Default none (weekends only).
   */
  holidays?: Partial<Record<'NSE' | 'BSE' | 'MCX', readonly string[]>>;
}

interface IndexSpec {
  symbol: string;
  id: number;
  exchange: 'NSE' | 'BSE';
  displayName: string;
  level: number;
  vol: number;
  strike: number;
  lot: number;
  weekly: boolean;
  quarterly: boolean;
  bseMnemonic?: { opt: string; fut: string };
}

const INDICES: IndexSpec[] = [
  {
    symbol: 'NIFTY',
    id: 13,
    exchange: 'NSE',
    displayName: 'Nifty 50',
    level: 24000,
    vol: 0.13,
    strike: 50,
    lot: 65,
    weekly: true,
    quarterly: true,
  },
  {
    symbol: 'BANKNIFTY',
    id: 25,
    exchange: 'NSE',
    displayName: 'Nifty Bank',
    level: 52000,
    vol: 0.15,
    strike: 100,
    lot: 30,
    weekly: false,
    quarterly: false,
  },
  {
    symbol: 'FINNIFTY',
    id: 27,
    exchange: 'NSE',
    displayName: 'Nifty Fin Service',
    level: 23500,
    vol: 0.14,
    strike: 50,
    lot: 60,
    weekly: false,
    quarterly: false,
  },
  {
    symbol: 'MIDCPNIFTY',
    id: 442,
    exchange: 'NSE',
    displayName: 'Nifty Mid Select',
    level: 12500,
    vol: 0.18,
    strike: 25,
    lot: 120,
    weekly: false,
    quarterly: false,
  },
  {
    symbol: 'SENSEX',
    id: 51,
    exchange: 'BSE',
    displayName: 'Sensex',
    level: 80000,
    vol: 0.13,
    strike: 100,
    lot: 20,
    weekly: true,
    quarterly: false,
    bseMnemonic: { opt: 'BSXOPT', fut: 'BSXFUT' },
  },
  {
    symbol: 'BANKEX',
    id: 69,
    exchange: 'BSE',
    displayName: 'Bankex',
    level: 58000,
    vol: 0.16,
    strike: 100,
    lot: 30,
    weekly: false,
    quarterly: false,
    bseMnemonic: { opt: 'BKXOPT', fut: 'BKXFUT' },
  },
];

interface CommoditySpec {
  symbol: string;
  level: number;
  vol: number;
  strike: number;
  lot: number;
  /** Day of month the future expires on (moved back to a weekday). */
  futureExpiryDay: number;
  futureTickPaise: number;
  optionTickPaise: number;
}

const COMMODITIES: CommoditySpec[] = [
  {
    symbol: 'CRUDEOIL',
    level: 6000,
    vol: 0.35,
    strike: 50,
    lot: 100,
    futureExpiryDay: 19,
    futureTickPaise: 100,
    optionTickPaise: 10,
  },
  {
    symbol: 'NATURALGAS',
    level: 300,
    vol: 0.55,
    strike: 5,
    lot: 1250,
    futureExpiryDay: 25,
    futureTickPaise: 10,
    optionTickPaise: 5,
  },
];

const FIRST_ID: Record<'NSE_FNO' | 'BSE_FNO' | 'MCX_COMM' | 'NSE_EQ' | 'BSE_EQ', number> = {
  NSE_FNO: 35000,
  BSE_FNO: 800000,
  MCX_COMM: 420000,
  NSE_EQ: 30000,
  BSE_EQ: 543000,
};

export const CSV_COLUMNS = [
  'SEM_EXM_EXCH_ID',
  'SEM_SEGMENT',
  'SEM_SMST_SECURITY_ID',
  'SEM_INSTRUMENT_NAME',
  'SEM_EXPIRY_CODE',
  'SEM_TRADING_SYMBOL',
  'SEM_LOT_UNITS',
  'SEM_CUSTOM_SYMBOL',
  'SEM_EXPIRY_DATE',
  'SEM_STRIKE_PRICE',
  'SEM_OPTION_TYPE',
  'SEM_TICK_SIZE',
  'SEM_EXPIRY_FLAG',
  'SEM_EXCH_INSTRUMENT_TYPE',
  'SEM_SERIES',
  'SM_SYMBOL_NAME',
] as const;

/** Instruments of one underlying and expiry, keyed by strike. */
export interface ChainSlice {
  strike: number;
  ce?: SimInstrument;
  pe?: SimInstrument;
}

/**
 * The simulated instrument master: deterministic for a seed and a date, with an index by
 * (segment, security id) and by underlying for option chains.
 */
export class Universe {
  readonly today: string;
  readonly instruments: SimInstrument[] = [];
  readonly walks: Walk[] = [];
  private readonly byKey = new Map<number, SimInstrument>();
  private readonly chains = new Map<number, Map<string, SimInstrument[]>>();
  private readonly nextId = { ...FIRST_ID };
  private csvCache: string | undefined;

  private readonly holidays: Record<'NSE' | 'BSE' | 'MCX', ReadonlySet<string>>;

  constructor(options: UniverseOptions) {
    this.today = options.today;
    this.holidays = {
      NSE: new Set(options.holidays?.NSE ?? []),
      BSE: new Set(options.holidays?.BSE ?? []),
      MCX: new Set(options.holidays?.MCX ?? []),
    };
    const rng = new Prng(options.seed).fork(`universe:${options.today}`);
    const band = options.strikeBandFraction ?? 0.3;
    const weeklies = options.weeklyExpiries ?? 10;
    const monthlies = options.monthlyExpiries ?? 3;

    for (const spec of INDICES) this.addIndexFamily(spec, rng, band, weeklies, monthlies);
    for (const spec of COMMODITIES) this.addCommodityFamily(spec, rng, band);
    this.addEquities(rng);
  }

  get size(): number {
    return this.instruments.length;
  }

  get(segment: ExchangeSegment | string, securityId: string | number): SimInstrument | undefined {
    const code = (SEGMENT_CODE as Record<string, number | undefined>)[segment];
    const id = typeof securityId === 'number' ? securityId : Number(securityId);
    if (code === undefined || !Number.isInteger(id) || id < 0) return undefined;
    return this.byKey.get(instrumentKey(code, id));
  }

  byInstrumentKey(key: number): SimInstrument | undefined {
    return this.byKey.get(key);
  }

  /** Whether the exchange trades on a date (a weekday that is not one of its holidays). */
  isTradingDay(exchange: 'NSE' | 'BSE' | 'MCX', date: string): boolean {
    return this.tradingDayOnOrBefore(exchange, date) === date;
  }

  /** The date itself when the exchange trades then, else the trading day before it. */
  private tradingDayOnOrBefore(exchange: 'NSE' | 'BSE' | 'MCX', date: string): string {
    let d = previousBusinessDay(date);
    while (this.holidays[exchange].has(d)) d = previousBusinessDay(addDays(d, -1));
    return d;
  }

  /** Option expiries (sorted) of an underlying instrument (index or MCX future). */
  expiries(underlying: SimInstrument): string[] {
    const map = this.chains.get(underlying.key);
    return map ? [...map.keys()].sort() : [];
  }

  /** Options of an underlying for one expiry, paired by strike, strikes ascending. */
  chain(underlying: SimInstrument, expiry: string): ChainSlice[] {
    const options = this.chains.get(underlying.key)?.get(expiry) ?? [];
    const byStrike = new Map<number, ChainSlice>();
    for (const option of options) {
      const strike = option.strike ?? 0;
      let slice = byStrike.get(strike);
      if (!slice) {
        slice = { strike };
        byStrike.set(strike, slice);
      }
      if (option.optionType === 'CE') slice.ce = option;
      else slice.pe = option;
    }
    return [...byStrike.values()].sort((a, b) => a.strike - b.strike);
  }

  /** The compact scrip master (DhanHQ v2: scrip master), header first, CRLF-free. */
  toCsv(): string {
    if (this.csvCache !== undefined) return this.csvCache;
    const lines: string[] = [CSV_COLUMNS.join(',')];
    for (const i of this.instruments) {
      lines.push(
        [
          i.exchange,
          segmentLetter(i),
          String(i.id),
          i.instrumentType,
          i.expiryCode,
          i.symbol,
          `${i.lotSize}.0`,
          i.displayName,
          i.expiryDateTime,
          i.strike !== undefined ? i.strike.toFixed(5) : '',
          i.optionType ?? '',
          i.tickPaise.toFixed(4),
          i.expiryFlag ?? 'NA',
          i.exchangeInstrumentType,
          i.series,
          i.symbolName,
        ].join(','),
      );
    }
    this.csvCache = `${lines.join('\n')}\n`;
    return this.csvCache;
  }

  private add(record: Omit<SimInstrument, 'index' | 'key' | 'segmentCode'>): SimInstrument {
    const segmentCode = SEGMENT_CODE[record.segment];
    const key = instrumentKey(segmentCode, record.id);
    if (this.byKey.has(key))
      throw new Error(`duplicate security id ${record.segment}:${record.id}`);
    // one literal with every field in a fixed order: a single hidden class for 25,000 objects
    const inst: SimInstrument = {
      segment: record.segment,
      securityId: record.securityId,
      exchange: record.exchange,
      instrumentType: record.instrumentType,
      symbol: record.symbol,
      displayName: record.displayName,
      underlying: record.underlying,
      expiry: record.expiry,
      strike: record.strike,
      optionType: record.optionType,
      expiryFlag: record.expiryFlag,
      lotSize: record.lotSize,
      tickSize: record.tickSize,
      index: this.instruments.length,
      key,
      segmentCode,
      id: record.id,
      kind: record.kind,
      walk: record.walk,
      isDerivative: record.isDerivative,
      expiryMs: record.expiryMs,
      forwardExpiryMs: record.forwardExpiryMs,
      underlyingKey: record.underlyingKey,
      moneynessRank: record.moneynessRank,
      expiryRank: record.expiryRank,
      exchangeInstrumentType: record.exchangeInstrumentType,
      series: record.series,
      symbolName: record.symbolName,
      expiryCode: record.expiryCode,
      expiryDateTime: record.expiryDateTime,
      tickPaise: record.tickPaise,
    };
    this.instruments.push(inst);
    this.byKey.set(key, inst);
    if (inst.kind === 'OPTION' && inst.underlyingKey !== undefined && inst.expiry) {
      let byExpiry = this.chains.get(inst.underlyingKey);
      if (!byExpiry) {
        byExpiry = new Map();
        this.chains.set(inst.underlyingKey, byExpiry);
      }
      let list = byExpiry.get(inst.expiry);
      if (!list) {
        list = [];
        byExpiry.set(inst.expiry, list);
      }
      list.push(inst);
    }
    return inst;
  }

  private allocate(segment: keyof typeof FIRST_ID): number {
    return this.nextId[segment]++;
  }

  private addWalk(walk: Walk): number {
    this.walks.push(walk);
    return this.walks.length - 1;
  }

  private addIndexFamily(
    spec: IndexSpec,
    rng: Prng,
    band: number,
    weeklies: number,
    monthlies: number,
  ): void {
    const level = roundTo(spec.level * (1 + 0.03 * (rng.next() * 2 - 1)), 0.05);
    const walk = this.addWalk({
      name: spec.symbol,
      kind: 'index',
      level,
      vol: spec.vol,
      carry: 0.055,
    });
    const index = this.add({
      segment: ExchangeSegment.IDX_I,
      securityId: String(spec.id),
      id: spec.id,
      exchange: spec.exchange,
      instrumentType: 'INDEX',
      symbol: spec.symbol,
      displayName: spec.displayName,
      lotSize: 1,
      tickSize: 0.05,
      tickPaise: 5,
      kind: 'INDEX',
      walk,
      isDerivative: false,
      moneynessRank: 0,
      expiryRank: 0,
      exchangeInstrumentType: 'INDEX',
      series: 'X',
      symbolName: spec.symbol,
      expiryCode: '',
      expiryDateTime: '',
    });

    const day = spec.exchange === 'NSE' ? TUESDAY : THURSDAY;
    const onTradingDay = (d: string) => this.tradingDayOnOrBefore(spec.exchange, d);
    const nominalMonthly = monthlyExpiries(this.today, day, monthlies);
    const monthly = nominalMonthly.map(onTradingDay).filter((d) => d >= this.today);
    const dates = new Map<string, 'W' | 'M'>();
    for (const m of monthly) dates.set(m, 'M');
    if (spec.weekly) {
      for (const nominal of nextWeekdays(this.today, day, weeklies)) {
        const w = onTradingDay(nominal);
        if (w >= this.today && !dates.has(w)) dates.set(w, 'W');
      }
    }
    if (spec.quarterly) {
      const lastMonthly = nominalMonthly[nominalMonthly.length - 1];
      const quarterEnds = monthlyExpiries(lastMonthly, day, 12).filter(
        (d) => d > lastMonthly && parseDate(d).month % 3 === 0,
      );
      for (const q of quarterEnds.slice(0, 3)) dates.set(onTradingDay(q), 'M');
    }
    const segment = spec.exchange === 'NSE' ? ExchangeSegment.NSE_FNO : ExchangeSegment.BSE_FNO;
    const idSpace = spec.exchange === 'NSE' ? 'NSE_FNO' : 'BSE_FNO';

    monthly.forEach((expiry, n) => {
      this.add({
        segment,
        ...this.withId(idSpace),
        exchange: spec.exchange,
        instrumentType: 'FUTIDX',
        symbol: `${spec.symbol}-${monthTag(expiry)}-FUT`,
        displayName: `${spec.symbol} ${dayMonthTag(expiry).slice(3)} FUT`,
        underlying: spec.symbol,
        expiry,
        expiryFlag: 'M',
        lotSize: spec.lot,
        tickSize: 0.05,
        tickPaise: 5,
        kind: 'FUTURE',
        walk,
        isDerivative: true,
        expiryMs: istTimeMs(expiry, 15, 30),
        underlyingKey: index.key,
        moneynessRank: 0,
        expiryRank: n,
        exchangeInstrumentType: 'FUTIDX',
        series: 'NA',
        symbolName: spec.bseMnemonic?.fut ?? '',
        expiryCode: String(n),
        expiryDateTime: `${expiry} 14:30:00`,
      });
    });

    const sortedDates = [...dates.keys()].sort();
    const atm = Math.round(level / spec.strike) * spec.strike;
    const each = Math.ceil((level * band) / spec.strike);
    sortedDates.forEach((expiry, rank) => {
      const month = monthTag(expiry);
      const dayMonth = dayMonthTag(expiry);
      const expiryMs = istTimeMs(expiry, 15, 30);
      const flag = dates.get(expiry);
      for (let k = -each; k <= each; k++) {
        const strike = atm + k * spec.strike;
        if (strike <= 0) continue;
        for (const type of ['CE', 'PE'] as OptionType[]) {
          this.add({
            segment,
            ...this.withId(idSpace),
            exchange: spec.exchange,
            instrumentType: 'OPTIDX',
            symbol: `${spec.symbol}-${month}-${strike}-${type}`,
            displayName: `${spec.symbol} ${dayMonth} ${strike} ${type === 'CE' ? 'CALL' : 'PUT'}`,
            underlying: spec.symbol,
            expiry,
            strike,
            optionType: type,
            expiryFlag: flag,
            lotSize: spec.lot,
            tickSize: 0.05,
            tickPaise: 5,
            kind: 'OPTION',
            walk,
            isDerivative: true,
            expiryMs,
            underlyingKey: index.key,
            moneynessRank: Math.abs(k),
            expiryRank: rank,
            exchangeInstrumentType: 'OP',
            series: 'NA',
            symbolName: spec.bseMnemonic?.opt ?? '',
            expiryCode: '',
            expiryDateTime: `${expiry} 14:30:00`,
          });
        }
      }
    });
  }

  private addCommodityFamily(spec: CommoditySpec, rng: Prng, band: number): void {
    const level = roundTo(
      spec.level * (1 + 0.05 * (rng.next() * 2 - 1)),
      spec.futureTickPaise / 100,
    );
    const walk = this.addWalk({
      name: spec.symbol,
      kind: 'commodity',
      level,
      vol: spec.vol,
      carry: 0.06,
    });
    const futureMonths = 6;
    const optionMonths = 4;
    let { year, month } = parseDate(this.today);
    const futures: { expiry: string; inst: SimInstrument }[] = [];
    while (futures.length < futureMonths) {
      const nominal = `${year}-${String(month).padStart(2, '0')}-${String(spec.futureExpiryDay).padStart(2, '0')}`;
      const expiry = this.tradingDayOnOrBefore('MCX', previousBusinessDay(nominal));
      if (expiry >= this.today) {
        const n = futures.length;
        const inst = this.add({
          segment: ExchangeSegment.MCX_COMM,
          ...this.withId('MCX_COMM'),
          exchange: 'MCX',
          instrumentType: 'FUTCOM',
          symbol: `${spec.symbol}-${monthTag(expiry)}-FUT`,
          displayName: `${spec.symbol} ${dayMonthTag(expiry).slice(3)} FUT`,
          underlying: spec.symbol,
          expiry,
          expiryFlag: 'M',
          lotSize: spec.lot,
          tickSize: spec.futureTickPaise / 100,
          tickPaise: spec.futureTickPaise,
          kind: 'FUTURE',
          walk,
          isDerivative: true,
          expiryMs: istTimeMs(expiry, 23, 30),
          moneynessRank: 0,
          expiryRank: n,
          exchangeInstrumentType: 'FUTCOM',
          series: 'NA',
          symbolName: spec.symbol,
          expiryCode: String(n),
          expiryDateTime: `${expiry} 23:30:00`,
        });
        futures.push({ expiry, inst });
      }
      month++;
      if (month > 12) {
        month = 1;
        year++;
      }
    }
    const atm = Math.round(level / spec.strike) * spec.strike;
    const each = Math.ceil((level * band) / spec.strike);
    futures.slice(0, optionMonths).forEach(({ expiry: futureExpiry, inst: future }, rank) => {
      const expiry = addBusinessDays(futureExpiry, -1);
      if (expiry < this.today) return;
      const month = monthTag(futureExpiry);
      const dayMonth = dayMonthTag(expiry);
      const expiryMs = istTimeMs(expiry, 23, 30);
      for (let k = -each; k <= each; k++) {
        const strike = atm + k * spec.strike;
        if (strike <= 0) continue;
        for (const type of ['CE', 'PE'] as OptionType[]) {
          this.add({
            segment: ExchangeSegment.MCX_COMM,
            ...this.withId('MCX_COMM'),
            exchange: 'MCX',
            instrumentType: 'OPTFUT',
            symbol: `${spec.symbol}-${month}-${strike}-${type}`,
            displayName: `${spec.symbol} ${dayMonth} ${strike} ${type === 'CE' ? 'CALL' : 'PUT'}`,
            underlying: spec.symbol,
            expiry,
            strike,
            optionType: type,
            expiryFlag: 'M',
            lotSize: spec.lot,
            tickSize: spec.optionTickPaise / 100,
            tickPaise: spec.optionTickPaise,
            kind: 'OPTION',
            walk,
            isDerivative: true,
            expiryMs,
            forwardExpiryMs: future.expiryMs,
            underlyingKey: future.key,
            moneynessRank: Math.abs(k),
            expiryRank: rank,
            exchangeInstrumentType: 'OPTFUT',
            series: 'NA',
            symbolName: spec.symbol,
            expiryCode: '',
            expiryDateTime: `${expiry} 23:30:00`,
          });
        }
      }
    });
  }

  private addEquities(rng: Prng): void {
    const seeds = equitySeeds();
    const usedNse = new Set(seeds.map((s) => s.nseId).filter((id) => id !== undefined));
    let generated = 21000;
    seeds.forEach((seed, rank) => {
      const level = roundTo(seed.price * (1 + 0.04 * (rng.next() * 2 - 1)), 0.05);
      const walk = this.addWalk({
        name: seed.symbol,
        kind: 'equity',
        level,
        vol: 0.18 + rng.next() * 0.25,
        carry: 0.06,
      });
      let nseId = seed.nseId;
      if (nseId === undefined) {
        while (usedNse.has(generated)) generated++;
        nseId = generated++;
      }
      const common = {
        instrumentType: 'EQUITY',
        symbol: seed.symbol,
        displayName: seed.name,
        lotSize: 1,
        tickSize: 0.05,
        tickPaise: 5,
        kind: 'EQUITY' as const,
        walk,
        isDerivative: false,
        moneynessRank: rank,
        expiryRank: 0,
        exchangeInstrumentType: 'ES',
        series: 'EQ',
        symbolName: seed.name.toUpperCase(),
        expiryCode: '',
        expiryDateTime: '',
      };
      this.add({
        ...common,
        segment: ExchangeSegment.NSE_EQ,
        securityId: String(nseId),
        id: nseId,
        exchange: 'NSE',
      });
      if (seed.bseId !== undefined) {
        this.add({
          ...common,
          segment: ExchangeSegment.BSE_EQ,
          securityId: String(seed.bseId),
          id: seed.bseId,
          exchange: 'BSE',
          series: 'A',
        });
      }
    });
  }

  private withId(space: keyof typeof FIRST_ID): { id: number; securityId: string } {
    const id = this.allocate(space);
    return { id, securityId: String(id) };
  }
}

function segmentLetter(i: SimInstrument): string {
  switch (i.kind) {
    case 'INDEX':
      return 'I';
    case 'EQUITY':
      return 'E';
    default:
      return i.exchange === 'MCX' ? 'M' : 'D';
  }
}

export function roundTo(value: number, step: number): number {
  return Math.round(Math.round(value / step) * step * 100) / 100;
}
