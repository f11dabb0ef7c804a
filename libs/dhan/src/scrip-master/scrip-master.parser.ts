import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { ExchangeSegment, Instrument, OptionType } from '../types';

/** Canonical underlying names of the indices the terminal needs, and the names files use for them. */
export const INDEX_ALIASES: Readonly<Record<string, readonly string[]>> = {
  NIFTY: ['NIFTY', 'NIFTY 50', 'NIFTY50'],
  BANKNIFTY: ['BANKNIFTY', 'NIFTY BANK', 'BANK NIFTY', 'NIFTYBANK'],
  FINNIFTY: ['FINNIFTY', 'NIFTY FIN SERVICE', 'NIFTY FINANCIAL SERVICES', 'NIFTYFIN'],
  MIDCPNIFTY: ['MIDCPNIFTY', 'NIFTY MID SELECT', 'NIFTY MIDCAP SELECT', 'MIDCAPNIFTY'],
  SENSEX: ['SENSEX', 'BSE SENSEX', 'S&P BSE SENSEX'],
  BANKEX: ['BANKEX', 'BSE BANKEX', 'S&P BSE BANKEX'],
  NIFTYNXT50: ['NIFTYNXT50', 'NIFTY NEXT 50', 'NIFTY NXT 50'],
  SENSEX50: ['SENSEX50', 'BSE SENSEX 50', 'SNSX50'],
  INDIAVIX: ['INDIA VIX', 'INDIAVIX'],
};

export const REQUIRED_INDICES: readonly string[] = [
  'NIFTY',
  'BANKNIFTY',
  'FINNIFTY',
  'MIDCPNIFTY',
  'SENSEX',
  'BANKEX',
];

const ALIAS_TO_CANONICAL: ReadonlyMap<string, string> = new Map(
  Object.entries(INDEX_ALIASES).flatMap(([canonical, names]) =>
    names.map((n) => [normaliseName(n), canonical] as const),
  ),
);

function normaliseName(s: string): string {
  return s.trim().toUpperCase().replace(/\s+/g, ' ');
}

/** The canonical underlying name for an index symbol as a file writes it, if it is a known one. */
export function canonicalIndexName(symbol: string): string | undefined {
  return ALIAS_TO_CANONICAL.get(normaliseName(symbol));
}

export type ScripMasterFormat = 'compact' | 'detailed';

export interface ScripMasterOptions {
  /** Fewer instruments than this refuses the file (default 1000). */
  minRows?: number;
  /** Canonical index names that must be present (default REQUIRED_INDICES). */
  requiredIndices?: readonly string[];
  /** Run `verifyScripMaster` before returning (default true). */
  verify?: boolean;
}

export interface ScripMasterStats {
  format: ScripMasterFormat;
  /** Data rows read (header excluded). */
  rows: number;
  instruments: number;
  skipped: number;
  skippedByReason: Record<string, number>;
  bySegment: Partial<Record<ExchangeSegment, number>>;
}

export interface ScripMasterResult {
  instruments: Instrument[];
  /** Index instruments by canonical name (NIFTY, BANKNIFTY, ...), found in the file. */
  indices: Record<string, Instrument>;
  stats: ScripMasterStats;
}

/** The whole file is refused: it must not replace a good instrument master. */
export class ScripMasterRejectedError extends Error {
  constructor(readonly reasons: string[]) {
    super(`scrip master refused: ${reasons.join('; ')}`);
    this.name = 'ScripMasterRejectedError';
  }
}

interface Columns {
  exchange: string;
  segment: string;
  securityId: string;
  instrument: string;
  tradingSymbol?: string;
  symbolName: string;
  displayName: string;
  underlying?: string;
  lot: string;
  expiry: string;
  strike: string;
  optionType: string;
  tick: string;
  expiryFlag: string;
}

const COMPACT: Columns = {
  exchange: 'SEM_EXM_EXCH_ID',
  segment: 'SEM_SEGMENT',
  securityId: 'SEM_SMST_SECURITY_ID',
  instrument: 'SEM_INSTRUMENT_NAME',
  tradingSymbol: 'SEM_TRADING_SYMBOL',
  symbolName: 'SM_SYMBOL_NAME',
  displayName: 'SEM_CUSTOM_SYMBOL',
  lot: 'SEM_LOT_UNITS',
  expiry: 'SEM_EXPIRY_DATE',
  strike: 'SEM_STRIKE_PRICE',
  optionType: 'SEM_OPTION_TYPE',
  tick: 'SEM_TICK_SIZE',
  expiryFlag: 'SEM_EXPIRY_FLAG',
};

const DETAILED: Columns = {
  exchange: 'EXCH_ID',
  segment: 'SEGMENT',
  securityId: 'SECURITY_ID',
  instrument: 'INSTRUMENT',
  symbolName: 'SYMBOL_NAME',
  displayName: 'DISPLAY_NAME',
  underlying: 'UNDERLYING_SYMBOL',
  lot: 'LOT_SIZE',
  expiry: 'SM_EXPIRY_DATE',
  strike: 'STRIKE_PRICE',
  optionType: 'OPTION_TYPE',
  tick: 'TICK_SIZE',
  expiryFlag: 'EXPIRY_FLAG',
};

const BY_LETTER: Readonly<Record<string, ExchangeSegment>> = {
  'NSE:E': ExchangeSegment.NSE_EQ,
  'NSE:D': ExchangeSegment.NSE_FNO,
  'NSE:C': ExchangeSegment.NSE_CURRENCY,
  'BSE:E': ExchangeSegment.BSE_EQ,
  'BSE:D': ExchangeSegment.BSE_FNO,
  'BSE:C': ExchangeSegment.BSE_CURRENCY,
  'MCX:M': ExchangeSegment.MCX_COMM,
  'MCX:D': ExchangeSegment.MCX_COMM,
};

/** Exchange + instrument to segment (DhanHQ v2: scrip master), used when the segment letter says nothing. */
function segmentByInstrument(exchange: string, instrument: string): ExchangeSegment | undefined {
  if (instrument === 'INDEX') return ExchangeSegment.IDX_I;
  const derivative = /^(FUT|OPT)/.test(instrument);
  const currency = instrument === 'FUTCUR' || instrument === 'OPTCUR';
  if (exchange === 'MCX') return derivative ? ExchangeSegment.MCX_COMM : undefined;
  if (exchange === 'NSE') {
    if (currency) return ExchangeSegment.NSE_CURRENCY;
    if (derivative) return ExchangeSegment.NSE_FNO;
    return instrument === 'EQUITY' ? ExchangeSegment.NSE_EQ : undefined;
  }
  if (exchange === 'BSE') {
    if (currency) return ExchangeSegment.BSE_CURRENCY;
    if (derivative) return ExchangeSegment.BSE_FNO;
    return instrument === 'EQUITY' ? ExchangeSegment.BSE_EQ : undefined;
  }
  return undefined;
}

const MONTHS: Readonly<Record<string, string>> = {
  JAN: '01',
  FEB: '02',
  MAR: '03',
  APR: '04',
  MAY: '05',
  JUN: '06',
  JUL: '07',
  AUG: '08',
  SEP: '09',
  OCT: '10',
  NOV: '11',
  DEC: '12',
};

/** YYYY-MM-DD from the date formats the files use; undefined for blanks and sentinels. */
export function parseExpiry(raw: string | undefined): string | undefined {
  const s = (raw ?? '').trim();
  if (s === '' || s === '-1' || s === '0' || s.toUpperCase() === 'NA') return undefined;
  let y: string, m: string, d: string;
  let match = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  if (match) [, y, m, d] = match;
  else if ((match = /^(\d{1,2})[-/](\d{1,2})[-/](\d{4})/.exec(s))) [, d, m, y] = match;
  else if (
    (match = /^(\d{1,2})[- ]([A-Za-z]{3})[- ](\d{4})/.exec(s)) &&
    MONTHS[match[2].toUpperCase()]
  ) {
    d = match[1];
    m = MONTHS[match[2].toUpperCase()];
    y = match[3];
  } else return undefined;
  if (y === '0001') return undefined;
  const iso = `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
  const t = Date.parse(`${iso}T00:00:00Z`);
  if (!Number.isFinite(t) || new Date(t).toISOString().slice(0, 10) !== iso) return undefined;
  return iso;
}

function cell(row: Record<string, string | undefined>, column: string | undefined): string {
  return column === undefined ? '' : (row[column] ?? '').trim();
}

type RowResult = { instrument: Instrument } | { skip: string };

function toInstrument(row: Record<string, string | undefined>, c: Columns): RowResult {
  const exchange = cell(row, c.exchange).toUpperCase();
  if (exchange !== 'NSE' && exchange !== 'BSE' && exchange !== 'MCX')
    return { skip: 'unknown exchange' };
  const securityId = cell(row, c.securityId);
  if (!/^\d+$/.test(securityId)) return { skip: 'bad security id' };
  const instrumentType = cell(row, c.instrument).toUpperCase();
  if (instrumentType === '') return { skip: 'no instrument name' };
  const isIndex = instrumentType === 'INDEX';
  const letter = cell(row, c.segment).toUpperCase();
  // A segment letter we cannot map (e.g. NSE commodity) is skipped, not guessed from the instrument.
  const segment = isIndex
    ? ExchangeSegment.IDX_I
    : letter === ''
      ? segmentByInstrument(exchange, instrumentType)
      : BY_LETTER[`${exchange}:${letter}`];
  if (segment === undefined) return { skip: 'unmapped segment' };

  const tradingSymbol = cell(row, c.tradingSymbol);
  const symbolName = cell(row, c.symbolName);
  const displayName = cell(row, c.displayName);
  const symbol = tradingSymbol || symbolName || displayName;
  if (symbol === '') return { skip: 'no symbol' };

  const lotRaw = Number(cell(row, c.lot));
  const tickRaw = Number(cell(row, c.tick));
  let lotSize = Number.isFinite(lotRaw) && lotRaw > 0 ? Math.round(lotRaw) : undefined;
  // TICK_SIZE is in paise (DhanHQ v2: tick size in paise): 5 -> Rs 0.05.
  let tickSize =
    Number.isFinite(tickRaw) && tickRaw > 0 ? Number((tickRaw / 100).toFixed(6)) : undefined;
  if (isIndex) {
    lotSize ??= 1;
    tickSize ??= 0.05;
  }
  if (lotSize === undefined) return { skip: 'bad lot size' };
  if (tickSize === undefined) return { skip: 'bad tick size' };

  const inst: Instrument = {
    segment,
    securityId,
    exchange,
    instrumentType,
    symbol,
    displayName: displayName || symbol,
    lotSize,
    tickSize,
  };
  const isOption = instrumentType.startsWith('OPT');
  const isFuture = instrumentType.startsWith('FUT');
  if (isOption || isFuture) {
    const expiry = parseExpiry(cell(row, c.expiry));
    if (expiry === undefined) return { skip: 'derivative without expiry' };
    inst.expiry = expiry;
    const underlying =
      cell(row, c.underlying) ||
      tradingSymbol.split('-')[0].trim() ||
      symbolName ||
      displayName.split(' ')[0];
    if (underlying === '') return { skip: 'derivative without underlying' };
    inst.underlying = underlying.toUpperCase();
    const flag = cell(row, c.expiryFlag).toUpperCase();
    if (flag === 'W' || flag === 'M') inst.expiryFlag = flag;
  }
  if (isOption) {
    const strike = Number(cell(row, c.strike));
    const optionType = cell(row, c.optionType).toUpperCase();
    if (!Number.isFinite(strike) || strike <= 0) return { skip: 'option without strike' };
    if (optionType !== 'CE' && optionType !== 'PE') return { skip: 'option without CE/PE' };
    inst.strike = strike;
    inst.optionType = optionType as OptionType;
  }
  return { instrument: inst };
}

function detectFormat(header: readonly string[]): ScripMasterFormat | undefined {
  const set = new Set(header);
  if (set.has(COMPACT.securityId) && set.has(COMPACT.exchange) && set.has(COMPACT.instrument))
    return 'compact';
  if (set.has(DETAILED.securityId) && set.has(DETAILED.exchange) && set.has(DETAILED.instrument))
    return 'detailed';
  return undefined;
}

export type ScripMasterInput = Readable | AsyncIterable<string | Buffer> | string | Buffer;

/**
 * Streams DhanHQ's compact or detailed scrip master CSV (DhanHQ v2: scrip master), detected by its header,
 * into normalised instruments. Bad rows are counted and skipped; unless `verify: false`, a file
 * failing the sanity checks is refused with ScripMasterRejectedError.
 */
export async function parseScripMaster(
  input: ScripMasterInput,
  options: ScripMasterOptions = {},
): Promise<ScripMasterResult> {
  let format: ScripMasterFormat | undefined;
  const stats: ScripMasterStats = {
    format: 'compact',
    rows: 0,
    instruments: 0,
    skipped: 0,
    skippedByReason: {},
    bySegment: {},
  };
  const skip = (reason: string): void => {
    stats.skipped++;
    stats.skippedByReason[reason] = (stats.skippedByReason[reason] ?? 0) + 1;
  };
  const parser = parse({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_records_with_error: true,
    on_skip: () => {
      stats.rows++;
      skip('unparseable CSV row');
      return undefined;
    },
    columns: (header: string[]) => {
      const names = header.map((h) => h.trim().toUpperCase());
      format = detectFormat(names);
      if (format === undefined)
        throw new ScripMasterRejectedError([
          'unrecognised header: neither the compact nor the detailed scrip master',
        ]);
      return names;
    },
  });
  const source: Readable =
    typeof input === 'string' || Buffer.isBuffer(input)
      ? Readable.from([input])
      : input instanceof Readable
        ? input
        : Readable.from(input);
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);

  const instruments: Instrument[] = [];
  const indices: Record<string, Instrument> = {};
  for await (const record of parser as AsyncIterable<Record<string, string | undefined>>) {
    stats.rows++;
    const result = toInstrument(record, format === 'detailed' ? DETAILED : COMPACT);
    if ('skip' in result) {
      skip(result.skip);
      continue;
    }
    const inst = result.instrument;
    instruments.push(inst);
    stats.bySegment[inst.segment] = (stats.bySegment[inst.segment] ?? 0) + 1;
    if (inst.segment === ExchangeSegment.IDX_I) {
      const canonical =
        canonicalIndexName(inst.symbol) ??
        canonicalIndexName(inst.displayName) ??
        canonicalIndexName(
          cell(record, format === 'detailed' ? DETAILED.underlying : COMPACT.symbolName),
        );
      // An exact canonical symbol beats an alias match.
      if (canonical && (!indices[canonical] || normaliseName(inst.symbol) === canonical))
        indices[canonical] = inst;
    }
  }
  if (format === undefined) throw new ScripMasterRejectedError(['empty file']);
  stats.format = format;
  stats.instruments = instruments.length;
  const out: ScripMasterResult = { instruments, indices, stats };
  if (options.verify ?? true) verifyScripMaster(out, options);
  return out;
}

/** Refuses a whole file that is too small or misses a required index. */
export function verifyScripMaster(
  result: ScripMasterResult,
  options: ScripMasterOptions = {},
): void {
  const reasons: string[] = [];
  const minRows = options.minRows ?? 1000;
  if (result.instruments.length < minRows)
    reasons.push(`only ${result.instruments.length} instruments (minimum ${minRows})`);
  const missing = (options.requiredIndices ?? REQUIRED_INDICES).filter(
    (name) => !result.indices[name],
  );
  if (missing.length > 0) reasons.push(`required index missing: ${missing.join(', ')}`);
  if (reasons.length > 0) throw new ScripMasterRejectedError(reasons);
}

/**
 * The nearest-expiry future (FUTCOM by default) of an MCX underlying that has not expired on
 * `today` (YYYY-MM-DD, exchange date): the natural underlying of MCX options (DhanHQ v2: scrip master).
 */
export function nearMonthFuture(
  instruments: readonly Instrument[],
  underlying: string,
  today: string,
  instrumentType = 'FUTCOM',
): Instrument | undefined {
  const name = underlying.toUpperCase();
  let best: Instrument | undefined;
  for (const i of instruments) {
    if (i.instrumentType !== instrumentType || i.underlying !== name || i.expiry === undefined)
      continue;
    if (i.expiry < today) continue;
    if (best === undefined || (best.expiry !== undefined && i.expiry < best.expiry)) best = i;
  }
  return best;
}
