/**
 * The margin an order holds, by its units. A part reserves `paise` for the order's units
 * `[from, to)`, spread evenly over them (see `releasedBy`); the part holds nothing for units at
 * or above `end` (the order ended before they filled) nor for units already settled.
 *
 * Units are counted in the order they settle: when `settled` of the order's units are carried
 * by stored, settled trades, units `[0, settled)` are settled and the rest are held, filled or
 * not. So the share of a fill stays held until the trade that carries it is settled, and the
 * held amount is a function of the parts and that one count: the same whether trades arrived
 * before or after the order's fills, in one trade or several, in memory or rebuilt from the
 * database.
 *
 * An admission reserves one part `[0, quantity)`. A modification keeps what the parts hold
 * below the filled quantity and reserves the new margin for `[filled, new quantity)`. An order
 * that ends (cancelled, expired, rejected, traded) keeps only its filled units: `end` becomes
 * the filled quantity.
 */
export interface ReservationPart {
  from: number;
  to: number;
  paise: number;
  end: number;
}

/** The paise of a part the units `[from, unit)` account for (rounded down; all at `to`). */
export function releasedBy(part: ReservationPart, unit: number): number {
  const span = part.to - part.from;
  const product = part.paise * (unit - part.from);
  // Exact in doubles below 2^53 (a correctly rounded quotient never crosses an integer there).
  if (product <= Number.MAX_SAFE_INTEGER) return Math.floor(product / span);
  return Number((BigInt(part.paise) * BigInt(unit - part.from)) / BigInt(span));
}

/**
 * What the parts still hold when `settled` units are settled, counting only units at or above
 * `fromUnit` (0: all of it).
 */
export function heldBy(parts: readonly ReservationPart[], settled: number, fromUnit = 0): number {
  let held = 0;
  for (const p of parts) {
    const top = Math.min(p.end, p.to);
    const low = Math.max(p.from, settled, fromUnit);
    if (low >= top) continue;
    held += releasedBy(p, top) - releasedBy(p, low);
  }
  return held;
}

/** The parts with nothing held from `unit` on (an order that ends with `unit` units filled). */
export function endAt(parts: readonly ReservationPart[], unit: number): ReservationPart[] {
  return parts
    .map((p) => ({ ...p, end: Math.min(p.end, unit) }))
    .filter((p) => Math.min(p.end, p.to) > p.from);
}

/** One part for units `[from, to)`; none when it covers no unit or holds nothing. */
export function partFor(from: number, to: number, paise: number): ReservationPart[] {
  return to > from && paise > 0 ? [{ from, to, paise, end: to }] : [];
}

/** The stored form of the parts (what the OMS keeps on the order's row). */
export function serializeParts(parts: readonly ReservationPart[]): string {
  return JSON.stringify(parts.map((p) => [p.from, p.to, p.paise, p.end]));
}

/** Parts from their stored form; a malformed text is a RangeError. */
export function parseParts(text: string): ReservationPart[] {
  const raw: unknown = JSON.parse(text);
  if (!Array.isArray(raw)) throw new RangeError('reservation parts: not a list');
  return raw.map((item: unknown) => {
    if (!Array.isArray(item) || item.length !== 4) {
      throw new RangeError('reservation parts: a part is [from, to, paise, end]');
    }
    const [from, to, paise, end] = item as unknown[];
    const part = { from, to, paise, end } as ReservationPart;
    for (const v of Object.values(part)) {
      if (!Number.isSafeInteger(v) || (v as number) < 0) {
        throw new RangeError(`reservation parts: ${String(v)} is not a count`);
      }
    }
    if (part.to <= part.from) throw new RangeError('reservation parts: empty part');
    return part;
  });
}
