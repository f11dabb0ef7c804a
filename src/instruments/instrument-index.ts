import {
  canonicalIndexName,
  ExchangeSegment,
  type Instrument,
  instrumentKey,
  SEGMENT_CODE,
} from '@app/dhan';

/** Search ranks, best first. */
export enum SearchRank {
  EXACT = 0,
  PREFIX = 1,
  CONTAINS = 2,
}

const FIELD_START = '\u0001';
const FIELD_SEPARATOR = '\u0002';
/** A trigram of ASCII characters as one small integer (7 bits each), -1 when not ASCII. */
function trigramKey(text: string, at: number): number {
  const a = text.charCodeAt(at);
  const b = text.charCodeAt(at + 1);
  const c = text.charCodeAt(at + 2);
  return (a | b | c) < 128 ? (a << 14) | (b << 7) | c : -1;
}

/** Up to this many names starting with the query are ranked directly; more, by a scan. */
const SMALL_PREFIX_RANGE = 256;
// Control characters delimit fields in the search text, so a query must never contain one.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f]/g;

/** Normalises a search text the way the index stores names: upper case, single spaces. */
export function normaliseSearch(text: string): string {
  return text.replace(CONTROL_CHARACTERS, ' ').trim().replace(/\s+/g, ' ').toUpperCase();
}

const TYPE_ORDER: Readonly<Record<string, number>> = {
  INDEX: 0,
  EQUITY: 1,
  FUTIDX: 2,
  FUTSTK: 2,
  FUTCOM: 2,
  FUTCUR: 2,
  OPTIDX: 3,
  OPTSTK: 3,
  OPTFUT: 3,
  OPTCUR: 3,
};

/**
 * The order results of one rank come in: indices, cash, futures, options; then nearer expiry,
 * lower strike, calls before puts, shorter symbol. Also the storage order of the search text.
 */
function displayOrder(a: Instrument, b: Instrument): number {
  return (
    (TYPE_ORDER[a.instrumentType] ?? 4) - (TYPE_ORDER[b.instrumentType] ?? 4) ||
    compare(a.expiry ?? '', b.expiry ?? '') ||
    (a.strike ?? 0) - (b.strike ?? 0) ||
    compare(a.optionType ?? '', b.optionType ?? '') ||
    a.symbol.length - b.symbol.length ||
    compare(a.symbol, b.symbol) ||
    compare(a.segment, b.segment) ||
    Number(a.securityId) - Number(b.securityId)
  );
}

function pushTo<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** `YYYY-MM-DD` against a query's month, day and year, and not before `today`. */
function expiryMatches(expiry: string, q: ContractQuery, today: string): boolean {
  if (today !== '' && expiry < today) return false;
  if (q.month !== undefined && expiry.slice(5, 7) !== q.month) return false;
  if (q.day !== undefined && expiry.slice(8, 10) !== q.day) return false;
  return q.year === undefined || expiry.slice(0, 4) === q.year;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function keyOf(segment: ExchangeSegment, securityId: string): number | undefined {
  const code = SEGMENT_CODE[segment];
  const id = Number(securityId);
  if (code === undefined || !/^\d{1,10}$/.test(securityId) || id > 0xffff_ffff) return undefined;
  return instrumentKey(code, id);
}

interface UnderlyingEntry {
  /** Option expiries, ascending. */
  expiries: string[];
  /** Options by expiry, by strike then CE before PE. */
  options: Map<string, Instrument[]>;
  /** Futures by expiry ascending. */
  futures: Instrument[];
  /** Search: display positions of its derivatives by expiry, by strike, and of its futures. */
  byExpiry: Map<string, number[]>;
  byStrike: Map<number, number[]>;
  futurePositions: number[];
}

const MONTHS: Readonly<Record<string, number>> = {
  JAN: 1,
  JANUARY: 1,
  FEB: 2,
  FEBRUARY: 2,
  MAR: 3,
  MARCH: 3,
  APR: 4,
  APRIL: 4,
  MAY: 5,
  JUN: 6,
  JUNE: 6,
  JUL: 7,
  JULY: 7,
  AUG: 8,
  AUGUST: 8,
  SEP: 9,
  SEPT: 9,
  SEPTEMBER: 9,
  OCT: 10,
  OCTOBER: 10,
  NOV: 11,
  NOVEMBER: 11,
  DEC: 12,
  DECEMBER: 12,
};

const KINDS: Readonly<Record<string, 'CE' | 'PE' | 'FUT'>> = {
  CE: 'CE',
  CALL: 'CE',
  CALLS: 'CE',
  C: 'CE',
  PE: 'PE',
  PUT: 'PE',
  PUTS: 'PE',
  P: 'PE',
  FUT: 'FUT',
  FUTS: 'FUT',
  FUTURE: 'FUT',
  FUTURES: 'FUT',
};

/** What a trader typed, read as a contract: underlying, then any of strike, kind and expiry parts. */
interface ContractQuery {
  entry: UnderlyingEntry;
  strike?: number;
  kind?: 'CE' | 'PE' | 'FUT';
  month?: string;
  day?: string;
  year?: string;
}

const NUMBER = /^\d+(?:\.\d+)?$/;
/** `24500CE`, `52000PE`: a strike glued to its kind. */
const GLUED = /^(\d+(?:\.\d+)?)(CE|PE)$/;

/**
 * An immutable, fully built view of one instrument master: lookups by key, derivatives by
 * underlying, and a ranked search. Built off to the side, then swapped in as one reference.
 */
export class InstrumentIndex {
  readonly size: number;
  private readonly ordered: readonly Instrument[];
  private readonly byKey = new Map<number, Instrument>();
  private readonly underlyings = new Map<string, UnderlyingEntry>();
  private readonly indices = new Map<string, Instrument>();
  private readonly equities = new Map<string, Instrument>();
  private readonly exact = new Map<string, number[]>();
  /** FIELD_START symbol FIELD_SEPARATOR display name, per instrument in display order. */
  private readonly text: string;
  private readonly offsets: Uint32Array;
  /** The same text per instrument. */
  private readonly parts: readonly string[];
  /** Instruments (display order, ascending) whose text holds each ASCII trigram. */
  private readonly trigrams = new Map<number, Int32Array>();
  /** Every symbol and display name, sorted, and the instrument each belongs to. */
  private readonly prefixKeys: string[];
  private readonly prefixOwners: Uint32Array;

  constructor(instruments: readonly Instrument[]) {
    const ordered = [...instruments].sort(displayOrder);
    this.ordered = ordered;
    this.size = ordered.length;
    this.offsets = new Uint32Array(ordered.length + 1);
    const parts: string[] = new Array<string>(ordered.length);
    const names: { key: string; owner: number }[] = [];
    let offset = 0;

    for (let i = 0; i < ordered.length; i++) {
      const instrument = ordered[i];
      const key = keyOf(instrument.segment, instrument.securityId);
      if (key !== undefined) this.byKey.set(key, instrument);

      const symbol = normaliseSearch(instrument.symbol);
      const name = normaliseSearch(instrument.displayName);
      this.addExact(symbol, i);
      names.push({ key: symbol, owner: i });
      if (name !== symbol) {
        this.addExact(name, i);
        names.push({ key: name, owner: i });
      }
      parts[i] = `${FIELD_START}${symbol}${FIELD_SEPARATOR}${name}`;
      this.offsets[i] = offset;
      offset += parts[i].length;

      if (instrument.segment === ExchangeSegment.IDX_I) {
        const canonical =
          canonicalIndexName(instrument.symbol) ?? canonicalIndexName(instrument.displayName);
        const name = canonical ?? symbol;
        // An exact canonical symbol beats an alias match, as the parser decides.
        if (!this.indices.has(name) || symbol === name) this.indices.set(name, instrument);
      } else if (instrument.segment === ExchangeSegment.NSE_EQ) {
        this.equities.set(symbol, instrument);
      } else if (instrument.segment === ExchangeSegment.BSE_EQ && !this.equities.has(symbol)) {
        this.equities.set(symbol, instrument);
      }

      if (instrument.underlying !== undefined && instrument.expiry !== undefined) {
        const entry = this.entry(instrument.underlying.toUpperCase());
        if (instrument.strike !== undefined && instrument.optionType !== undefined) {
          let options = entry.options.get(instrument.expiry);
          if (!options) {
            options = [];
            entry.options.set(instrument.expiry, options);
            entry.expiries.push(instrument.expiry);
          }
          // Display order already sorts options by strike, then CE before PE.
          options.push(instrument);
          pushTo(entry.byStrike, instrument.strike, i);
          pushTo(entry.byExpiry, instrument.expiry, i);
        } else if (instrument.instrumentType.startsWith('FUT')) {
          entry.futures.push(instrument);
          entry.futurePositions.push(i);
          pushTo(entry.byExpiry, instrument.expiry, i);
        }
      }
    }
    this.offsets[ordered.length] = offset;
    this.text = parts.join('');
    this.parts = parts;
    const postings = new Map<number, number[]>();
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      for (let at = 0; at + 3 <= part.length; at++) {
        const key = trigramKey(part, at);
        if (key < 0) continue;
        const list = postings.get(key);
        if (!list) postings.set(key, [i]);
        else if (list[list.length - 1] !== i) list.push(i);
      }
    }
    for (const [key, list] of postings) this.trigrams.set(key, Int32Array.from(list));
    names.sort((a, b) => compare(a.key, b.key));
    this.prefixKeys = names.map((n) => n.key);
    this.prefixOwners = Uint32Array.from(names, (n) => n.owner);
    for (const entry of this.underlyings.values()) entry.expiries.sort();
  }

  all(): readonly Instrument[] {
    return this.ordered;
  }

  get(segment: ExchangeSegment, securityId: string): Instrument | undefined {
    const key = keyOf(segment, securityId);
    return key === undefined ? undefined : this.byKey.get(key);
  }

  getByKey(key: number): Instrument | undefined {
    return this.byKey.get(key);
  }

  /** True when the name has derivatives (options or futures) in this master. */
  hasUnderlying(underlying: string): boolean {
    return this.underlyings.has(underlying.toUpperCase());
  }

  /** Option expiries from `today` on (ISO dates), ascending. */
  expiries(underlying: string, today = ''): string[] {
    const entry = this.underlyings.get(underlying.toUpperCase());
    if (!entry) return [];
    return today === '' ? [...entry.expiries] : entry.expiries.filter((e) => e >= today);
  }

  /** Calls and puts of one expiry, by strike, CE before PE. */
  chain(underlying: string, expiry: string): Instrument[] {
    return [...(this.underlyings.get(underlying.toUpperCase())?.options.get(expiry) ?? [])];
  }

  /**
   * What an underlying's derivatives are priced off: its IDX_I index, else (MCX) the nearest
   * future not expired on `today`, else the cash equity of that symbol.
   */
  underlyingOf(underlying: string, today: string): Instrument | undefined {
    const name = underlying.toUpperCase();
    const index = this.indices.get(canonicalIndexName(name) ?? name);
    if (index) return index;
    const entry = this.underlyings.get(name);
    const nearMonth = entry?.futures.find(
      (future) => future.segment === ExchangeSegment.MCX_COMM && (future.expiry ?? '') >= today,
    );
    return nearMonth ?? this.equities.get(name);
  }

  /**
   * The future an MCX option expiry is written on: the first MCX future of the commodity
   * expiring on or after the option's expiry (options expire a few days before their future, so
   * near a future's expiry the nearest option expiry is already on the next future). Undefined
   * when there is none (an index or stock, or no such future listed).
   */
  futureFor(underlying: string, optionExpiry: string): Instrument | undefined {
    // Futures are in display order: by expiry, ascending.
    return this.underlyings
      .get(underlying.toUpperCase())
      ?.futures.find(
        (future) =>
          future.segment === ExchangeSegment.MCX_COMM && (future.expiry ?? '') >= optionExpiry,
      );
  }

  /**
   * What one expiry's options are priced off: for MCX options (on futures) the future of that
   * expiry, else (and when no such future is listed) `underlyingOf`.
   */
  chainBase(underlying: string, expiry: string, today: string): Instrument | undefined {
    const base = this.underlyingOf(underlying, today);
    if (base?.segment !== ExchangeSegment.MCX_COMM) return base;
    return this.futureFor(underlying, expiry) ?? base;
  }

  /**
   * Ranked search on symbol and display name, case-insensitive: exact matches first, then the
   * contracts a trader's query names ("BANKNIFTY 52000 CE", "nifty 24500 pe 30 dec",
   * "CRUDEOIL FUT": underlying plus strike, kind and expiry parts in any order; expired ones
   * left out when `today` is given), then prefix, then contains; display order within a rank.
   */
  search(text: string, limit: number, today = ''): Instrument[] {
    const query = normaliseSearch(text);
    if (query === '' || limit <= 0) return [];
    const exact = this.exact.get(query) ?? [];
    const found = exact.slice(0, limit);
    if (found.length >= limit) return found.map((i) => this.ordered[i]);
    const taken = new Set(exact);
    const contract = this.parseContract(query);
    const named = contract ? this.collectContracts(contract, today, limit, found, taken) : 0;
    if (found.length >= limit) return found.map((i) => this.ordered[i]);
    this.collectPrefixes(query, limit, found, taken);
    // A query that named contracts was answered: no scan of every name for it as text.
    if (found.length < limit && named === 0) this.collectContains(query, limit, found, taken);
    return found.map((i) => this.ordered[i]);
  }

  /**
   * Reads a query as a contract: one token is an underlying with derivatives, every other
   * token a strike, a kind (CE/CALL, PE/PUT, FUT), a month, a day (1-31, with a month) or a
   * year (20xx, with a month). Undefined when any token is something else.
   */
  private parseContract(query: string): ContractQuery | undefined {
    const tokens = query.split(' ');
    if (tokens.length < 2) return undefined;
    let entry: UnderlyingEntry | undefined;
    let kind: ContractQuery['kind'];
    let month: number | undefined;
    const numbers: string[] = [];
    for (const token of tokens) {
      const glued = GLUED.exec(token);
      if (glued) {
        numbers.push(glued[1]);
        if (kind !== undefined && kind !== glued[2]) return undefined;
        kind = glued[2] as 'CE' | 'PE';
        continue;
      }
      if (NUMBER.test(token)) {
        numbers.push(token);
        continue;
      }
      const k = KINDS[token];
      if (k !== undefined && (kind === undefined || kind === k)) {
        kind = k;
        continue;
      }
      const m = MONTHS[token];
      if (m !== undefined && month === undefined) {
        month = m;
        continue;
      }
      const e = entry === undefined ? this.underlyings.get(token) : undefined;
      if (e === undefined) return undefined;
      entry = e;
    }
    if (!entry || (numbers.length === 0 && kind === undefined && month === undefined)) {
      return undefined;
    }
    const out: ContractQuery = { entry, kind };
    if (month !== undefined) out.month = String(month).padStart(2, '0');
    for (const text of numbers) {
      const n = Number(text);
      const isStrike = entry.byStrike.has(n);
      if (
        month !== undefined &&
        out.day === undefined &&
        Number.isInteger(n) &&
        n >= 1 &&
        n <= 31 &&
        (!isStrike || numbers.length > 1)
      ) {
        out.day = String(n).padStart(2, '0');
      } else if (
        month !== undefined &&
        out.year === undefined &&
        /^20\d\d$/.test(text) &&
        !isStrike
      ) {
        out.year = text;
      } else if (out.strike === undefined) {
        out.strike = n;
      } else {
        return undefined;
      }
    }
    if (out.strike !== undefined && out.kind === 'FUT') return undefined;
    return out;
  }

  /**
   * The contracts a parsed query names, in display order (futures, then options; nearest
   * expiry first). Returns how many matched, counting ones already on the page.
   */
  private collectContracts(
    q: ContractQuery,
    today: string,
    limit: number,
    found: number[],
    taken: Set<number>,
  ): number {
    const e = q.entry;
    let matched = 0;
    const take = (i: number): boolean => {
      const inst = this.ordered[i];
      if (!expiryMatches(inst.expiry ?? '', q, today)) return false;
      const isFuture = inst.optionType === undefined;
      if (q.kind === 'FUT' ? !isFuture : q.kind !== undefined && inst.optionType !== q.kind) {
        return false;
      }
      matched++;
      if (!taken.has(i)) {
        taken.add(i);
        found.push(i);
      }
      return found.length >= limit;
    };
    if (q.strike !== undefined || q.kind === 'FUT') {
      const pool = q.strike !== undefined ? (e.byStrike.get(q.strike) ?? []) : e.futurePositions;
      for (const i of pool) if (take(i)) break;
      return matched;
    }
    // No strike: whole expiries. Each expiry's list is in display order (its futures first).
    const expiries: string[] = [];
    for (const expiry of e.byExpiry.keys()) {
      if (expiryMatches(expiry, q, today)) expiries.push(expiry);
    }
    expiries.sort();
    if (q.kind === undefined) {
      for (const expiry of expiries) {
        for (const i of e.byExpiry.get(expiry)!) {
          if (this.ordered[i].optionType !== undefined) break;
          if (take(i)) return matched;
        }
      }
    }
    for (const expiry of expiries) {
      for (const i of e.byExpiry.get(expiry)!) {
        if (this.ordered[i].optionType === undefined) continue;
        if (take(i)) return matched;
      }
    }
    return matched;
  }

  /**
   * Names starting with the query: a binary search on the sorted names gives them all; the
   * best of a large range (a short common prefix) are met early in a display-order scan.
   */
  private collectPrefixes(query: string, limit: number, found: number[], taken: Set<number>) {
    const low = this.lowerBound(query);
    const high = this.lowerBound(query + '\uffff');
    if (high - low <= SMALL_PREFIX_RANGE) {
      const owners = Array.from(this.prefixOwners.subarray(low, high)).sort((a, b) => a - b);
      for (const i of owners) {
        if (found.length >= limit) return;
        if (!taken.has(i)) {
          taken.add(i);
          found.push(i);
        }
      }
      return;
    }
    const next = this.cursor(query);
    for (let i = next(); i >= 0 && found.length < limit; i = next()) {
      if (taken.has(i)) continue;
      const start = this.offsets[i];
      const separator = this.text.indexOf(FIELD_SEPARATOR, start);
      if (this.text.startsWith(query, start + 1) || this.text.startsWith(query, separator + 1)) {
        taken.add(i);
        found.push(i);
      }
    }
  }

  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.prefixKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.prefixKeys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Everything else containing the query, in display order, until the page is full. */
  private collectContains(query: string, limit: number, found: number[], taken: Set<number>) {
    const next = this.cursor(query);
    for (let i = next(); i >= 0 && found.length < limit; i = next()) {
      if (!taken.has(i)) {
        taken.add(i);
        found.push(i);
      }
    }
  }

  /**
   * Successive instruments whose text contains `needle`, each once, in display order. A needle
   * of three characters or more walks the instruments holding its rarest trigram (none holds
   * one of them: no match at all) and checks each; a shorter one, or one with no ASCII
   * trigram, scans the whole text.
   */
  private cursor(needle: string): () => number {
    let rarest: Int32Array | undefined;
    for (let at = 0; at + 3 <= needle.length; at++) {
      const key = trigramKey(needle, at);
      if (key < 0) continue;
      const list = this.trigrams.get(key);
      if (!list) return () => -1;
      if (!rarest || list.length < rarest.length) rarest = list;
    }
    if (rarest) {
      const candidates = rarest;
      let k = 0;
      return () => {
        while (k < candidates.length) {
          const i = candidates[k++];
          if (this.parts[i].includes(needle)) return i;
        }
        return -1;
      };
    }
    return this.scanCursor(needle);
  }

  /** `cursor` by scanning the whole text with indexOf. */
  private scanCursor(needle: string): () => number {
    let from = 0;
    let last = 0;
    return () => {
      const at = this.text.indexOf(needle, from);
      if (at < 0) return -1;
      last = this.instrumentAt(at, last);
      from = this.offsets[last + 1];
      return last;
    };
  }

  /** Rank of an instrument for a query, or undefined when it does not match. */
  static rank(instrument: Instrument, text: string): SearchRank | undefined {
    const query = normaliseSearch(text);
    const fields = [normaliseSearch(instrument.symbol), normaliseSearch(instrument.displayName)];
    if (fields.some((f) => f === query)) return SearchRank.EXACT;
    if (fields.some((f) => f.startsWith(query))) return SearchRank.PREFIX;
    if (fields.some((f) => f.includes(query))) return SearchRank.CONTAINS;
    return undefined;
  }

  private addExact(name: string, i: number): void {
    const list = this.exact.get(name);
    if (list) list.push(i);
    else this.exact.set(name, [i]);
  }

  private entry(underlying: string): UnderlyingEntry {
    let entry = this.underlyings.get(underlying);
    if (!entry) {
      entry = {
        expiries: [],
        options: new Map(),
        futures: [],
        byExpiry: new Map(),
        byStrike: new Map(),
        futurePositions: [],
      };
      this.underlyings.set(underlying, entry);
    }
    return entry;
  }

  /** The instrument whose text holds `position`, searching from `low` (hits come in order). */
  private instrumentAt(position: number, low: number): number {
    let lo = low;
    let hi = this.ordered.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.offsets[mid] <= position) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
