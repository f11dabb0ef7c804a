/** What a user's paper account holds, in paise. `available = balance - used - reserved`. */
export interface FundsSnapshot {
  balancePaise: number;
  usedPaise: number;
  reservedPaise: number;
  availablePaise: number;
}

export type ReserveResult =
  | { ok: true; reservedPaise: number }
  | { ok: false; shortfallPaise: number; availablePaise: number };

/**
 * Funds of one user with per-order margin reservations.
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
  private balance: number;
  private used = 0;
  private reserved = 0;
  private readonly reservations = new Map<string, number>();

  constructor(balancePaise: number) {
    assertPaise(balancePaise);
    this.balance = balancePaise;
  }

  snapshot(): FundsSnapshot {
    return {
      balancePaise: this.balance,
      usedPaise: this.used,
      reservedPaise: this.reserved,
      availablePaise: this.available(),
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
   * A fill turns margin into used margin: `amountPaise` moves from the order's reservation to
   * `used` (any excess over the reservation is taken from available, which may go negative:
   * the fill has happened and cannot be refused).
   */
  consume(orderId: string, amountPaise: number): void {
    assertPaise(amountPaise);
    const current = this.reservations.get(orderId) ?? 0;
    const fromReservation = Math.min(current, amountPaise);
    const left = current - fromReservation;
    if (left === 0) this.reservations.delete(orderId);
    else this.reservations.set(orderId, left);
    this.reserved -= fromReservation;
    this.used += amountPaise;
  }

  /** Margin freed when a position is reduced or closed. */
  releaseUsed(amountPaise: number): void {
    assertPaise(amountPaise);
    this.used = Math.max(0, this.used - amountPaise);
  }

  /** Realised P&L, charges, pay-in and pay-out move the balance (negative debits). */
  adjustBalance(deltaPaise: number): void {
    if (!Number.isSafeInteger(deltaPaise)) throw new RangeError('paise must be a safe integer');
    this.balance += deltaPaise;
  }
}

function assertPaise(value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`paise must be a non-negative safe integer, got ${value}`);
  }
}
