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
 * reservations of working orders.
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
  private readonly reservations = new Map<string, number>();
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

  reservationOf(orderId: string): number {
    return this.reservations.get(orderId) ?? 0;
  }

  /**
   * Sets the reservation of `orderId` to `amountPaise` (a modify replaces the old amount), only
   * if the increase fits in what is available. Lowering a reservation always succeeds.
   */
  reserve(orderId: string, amountPaise: number): ReserveResult {
    assertPaise(amountPaise);
    const current = this.reservations.get(orderId) ?? 0;
    const delta = amountPaise - current;
    const available = this.available();
    if (delta > available) {
      return { ok: false, shortfallPaise: delta - available, availablePaise: available };
    }
    this.reserved += delta;
    if (amountPaise === 0) this.reservations.delete(orderId);
    else this.reservations.set(orderId, amountPaise);
    return { ok: true, reservedPaise: amountPaise };
  }

  /** Drops what is left of an order's reservation (cancel, reject, expiry); returns it. */
  release(orderId: string): number {
    const current = this.reservations.get(orderId) ?? 0;
    this.reservations.delete(orderId);
    this.reserved -= current;
    return current;
  }

  /**
   * Part of an order filled: `amountPaise` of its reservation is no longer held (the margin of
   * what traded is counted in `used` through the position, at the traded value).
   */
  releaseFilled(orderId: string, amountPaise: number): void {
    assertPaise(amountPaise);
    const current = this.reservations.get(orderId) ?? 0;
    const freed = Math.min(current, amountPaise);
    const left = current - freed;
    if (left === 0) this.reservations.delete(orderId);
    else this.reservations.set(orderId, left);
    this.reserved -= freed;
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
