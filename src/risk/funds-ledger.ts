import { endAt, heldBy, partFor, type ReservationPart } from './reservation-parts';

/**
 * What a user's account holds, in paise. `available = balance - used - reserved` and
 * `balance = opening + realisedPnl - charges + adjustments` (the ledger's invariant).
 */
export interface FundsSnapshot {
  balancePaise: number;
  usedPaise: number;
  reservedPaise: number;
  availablePaise: number;
  openingPaise: number;
  realizedPnlPaise: number;
  chargesPaise: number;
  adjustmentsPaise: number;
}

export type ReserveResult =
  | { ok: true; reservedPaise: number }
  | { ok: false; shortfallPaise: number; availablePaise: number };

/**
 * Funds of one user: the balance (opening, realised P&L, charges, adjustments), margin used by
 * open positions (one figure per position, set as the position changes) and per-order margin
 * reservations.
 *
 * A reservation is held by the order's units that no settled trade carries yet (see
 * ReservationPart): the share of a fill is released when the trade that carries it is settled
 * (`settleUnits`, by the trade's order id, once per trade), at the same step as the position's
 * margin takes it over, never when the broker reports the fill. A sliced order's children settle
 * their parent's reservation (`link`).
 *
 * Why `reserve` is atomic: it is synchronous. Node runs JavaScript on one thread and never
 * interleaves two synchronous functions, so between reading `available` and recording the
 * reservation no other order can run; two orders checked "at once" are serialised at their
 * `reserve` calls and the second sees the first's reservation. The rule for callers is to do
 * the check and the reservation in the same synchronous call (RiskEngine.check does), never
 * to read funds, await something, and then reserve.
 *
 * With several instances or a database as the source of truth the same check-and-set becomes
 * one conditional statement, e.g.
 * `UPDATE funds SET reserved = reserved + :delta WHERE user_id = :u AND balance - used - reserved >= :delta`
 * and "exactly one row updated" means success (or SELECT ... FOR UPDATE in a transaction).
 */
export class FundsLedger {
  private readonly opening: number;
  private realized = 0;
  private charges = 0;
  private adjustments = 0;
  private used = 0;
  private reserved = 0;
  private readonly reservations = new Map<string, { parts: ReservationPart[]; paise: number }>();
  /** Units of each order carried by settled trades (by the trade's order id). */
  private readonly settledUnits = new Map<string, number>();
  /** A sliced order's children (their trades settle the parent's reservation), both ways. */
  private readonly children = new Map<string, string[]>();
  private readonly parents = new Map<string, string>();
  /** Orders whose reservation settling emptied, not yet taken (`takeEmptied`). */
  private emptied: string[] = [];
  private readonly margins = new Map<string, number>();

  constructor(openingPaise: number) {
    assertPaise(openingPaise);
    this.opening = openingPaise;
  }

  get balance(): number {
    return this.opening + this.realized - this.charges + this.adjustments;
  }

  snapshot(): FundsSnapshot {
    return {
      balancePaise: this.balance,
      usedPaise: this.used,
      reservedPaise: this.reserved,
      availablePaise: this.available(),
      openingPaise: this.opening,
      realizedPnlPaise: this.realized,
      chargesPaise: this.charges,
      adjustmentsPaise: this.adjustments,
    };
  }

  available(): number {
    return this.balance - this.used - this.reserved;
  }

  /** What the order holds now (0 when nothing). */
  reservationOf(orderId: string): number {
    return this.reservations.get(orderId)?.paise ?? 0;
  }

  /** What the order holds for its units from `unit` on (a modification's unfilled units). */
  reservationFrom(orderId: string, unit: number): number {
    const held = this.reservations.get(orderId);
    return held === undefined ? 0 : heldBy(held.parts, this.settledOf(orderId), unit);
  }

  /** The order's reservation parts (a copy), or none. */
  partsOf(orderId: string): ReservationPart[] {
    return (this.reservations.get(orderId)?.parts ?? []).map((p) => ({ ...p }));
  }

  /** Units of the order (and of its children) that settled trades carry. */
  settledOf(orderId: string): number {
    let settled = this.settledUnits.get(orderId) ?? 0;
    for (const child of this.children.get(orderId) ?? []) {
      settled += this.settledUnits.get(child) ?? 0;
    }
    return settled;
  }

  /**
   * Reserves `amountPaise` for the order's units `[from, to)` (a placement: from 0; a
   * modification: from its filled quantity, replacing what was reserved for those units), only
   * if the increase fits in what is available. What the order holds below `from` stays.
   */
  reserve(
    orderId: string,
    amountPaise: number,
    units: { from?: number; to: number },
  ): ReserveResult {
    assertPaise(amountPaise);
    const from = units.from ?? 0;
    const delta = amountPaise - this.reservationFrom(orderId, from);
    const available = this.available();
    if (delta > available) {
      return { ok: false, shortfallPaise: delta - available, availablePaise: available };
    }
    const existing = this.reservations.get(orderId);
    const kept = existing === undefined ? [] : endAt(existing.parts, from);
    this.install(orderId, [...kept, ...partFor(from, units.to, amountPaise)]);
    return { ok: true, reservedPaise: amountPaise };
  }

  /**
   * Sets the order's parts as they are (a rebuild, the order's stored parts, an order that
   * ended keeping its filled units); no funds check. Returns what the order now holds.
   */
  restore(orderId: string, parts: readonly ReservationPart[]): number {
    return this.install(
      orderId,
      parts.map((p) => ({ ...p })),
    );
  }

  /** `parts` become the order's own (not copied). */
  private install(orderId: string, parts: ReservationPart[]): number {
    const paise = heldBy(parts, this.settledOf(orderId));
    this.reserved += paise - this.reservationOf(orderId);
    if (paise === 0) this.reservations.delete(orderId);
    else this.reservations.set(orderId, { parts, paise });
    return paise;
  }

  /** Drops all of an order's reservation (a hold no order took, a rebuild); returns it. */
  release(orderId: string): number {
    const current = this.reservationOf(orderId);
    this.reservations.delete(orderId);
    this.reserved -= current;
    return current;
  }

  /** `childId`'s trades settle `parentId`'s reservation (a sliced order's child). */
  link(childId: string, parentId: string): void {
    if (this.parents.get(childId) === parentId) return;
    this.parents.set(childId, parentId);
    this.children.set(parentId, [...(this.children.get(parentId) ?? []), childId]);
    const held = this.reservations.get(parentId);
    if (held) this.recompute(parentId, held.parts);
  }

  /**
   * A trade of `orderId` carrying `units` is settled (call once per trade): the reservation
   * share of those units is released.
   */
  settleUnits(orderId: string, units: number): void {
    assertPaise(units);
    this.settledUnits.set(orderId, (this.settledUnits.get(orderId) ?? 0) + units);
    // The order's own reservation, and its parent's when it is a slice.
    for (const holder of [orderId, this.parents.get(orderId)]) {
      const held = holder === undefined ? undefined : this.reservations.get(holder);
      if (holder !== undefined && held) this.recompute(holder, held.parts);
    }
  }

  /** Orders whose reservation settled trades emptied since the last call. */
  takeEmptied(): string[] {
    const taken = this.emptied;
    this.emptied = [];
    return taken;
  }

  private recompute(orderId: string, parts: ReservationPart[]): void {
    if (this.install(orderId, parts) === 0) this.emptied.push(orderId);
  }

  marginOf(positionKey: string): number {
    return this.margins.get(positionKey) ?? 0;
  }

  /** The margin a position now holds (0 when flat): `used` follows. */
  setMargin(positionKey: string, marginPaise: number): void {
    assertPaise(marginPaise);
    this.used += marginPaise - this.marginOf(positionKey);
    if (marginPaise === 0) this.margins.delete(positionKey);
    else this.margins.set(positionKey, marginPaise);
  }

  /** A trade's realised P&L (negative a loss) and its charges go to the balance. */
  settle(realizedPaise: number, chargesPaise: number): void {
    assertInteger(realizedPaise);
    assertPaise(chargesPaise);
    this.realized += realizedPaise;
    this.charges += chargesPaise;
  }

  /** A credit (positive) or debit (negative) of the balance: pay-in, pay-out, correction. */
  adjust(deltaPaise: number): void {
    assertInteger(deltaPaise);
    this.adjustments += deltaPaise;
  }
}

function assertInteger(value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError('paise must be a safe integer');
}

function assertPaise(value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`paise must be a non-negative safe integer, got ${value}`);
  }
}
