import { MarketDataError, MarketDataErrorCode } from '../market-data.errors';

/** The name the quota goes by in errors and in the configuration. */
export const TICK_QUOTA_NAME = 'MAX_TICK_INSTRUMENTS_PER_USER';

/**
 * Per-user share of the feed through `ticks`: the distinct instruments one user streams, across
 * all their sockets and subscriptions, are capped. All `ticks` subscribers share one CLIENT
 * reference per instrument in the registry, so the registry cannot tell users apart; this keeps
 * who wants what. An instrument counts once per user however many of their subscriptions ask for
 * it, and counts whether or not it is already on the feed for another reason (Tier B, a
 * position, another user): the quota is about the references a user holds, not the slots they
 * add.
 */
export class TickQuota {
  /** userId -> instrument key -> number of that user's subscriptions that want it. */
  private readonly users = new Map<string, Map<number, number>>();

  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new MarketDataError(MarketDataErrorCode.INVALID_ARGUMENT, 'tick quota must be >= 1');
    }
  }

  /** Distinct instruments the user streams now. */
  used(userId: string): number {
    return this.users.get(userId)?.size ?? 0;
  }

  /** Users holding at least one instrument. */
  get userCount(): number {
    return this.users.size;
  }

  /**
   * Throws CAPACITY_EXCEEDED (naming the quota and the numbers) when `keys` would take the user
   * over the limit; changes nothing either way.
   */
  check(userId: string, keys: Iterable<number>): void {
    const held = this.users.get(userId);
    let added = 0;
    for (const key of new Set(keys)) if (!held?.has(key)) added++;
    const used = held?.size ?? 0;
    if (used + added <= this.limit) return;
    throw new MarketDataError(
      MarketDataErrorCode.CAPACITY_EXCEEDED,
      `ticks quota ${TICK_QUOTA_NAME} exceeded: a user may stream at most ${this.limit} ` +
        `distinct instruments across all ticks subscriptions; you stream ${used} and this ` +
        `subscription adds ${added} more`,
      { quota: TICK_QUOTA_NAME, limit: this.limit, used, requested: added },
    );
  }

  /** Counts one subscription's instruments for the user (after `check`, once it is open). */
  add(userId: string, keys: Iterable<number>): void {
    let held = this.users.get(userId);
    if (!held) {
      held = new Map();
      this.users.set(userId, held);
    }
    for (const key of new Set(keys)) held.set(key, (held.get(key) ?? 0) + 1);
  }

  /** Forgets one subscription's instruments (exactly the keys given to `add`). */
  remove(userId: string, keys: Iterable<number>): void {
    const held = this.users.get(userId);
    if (!held) return;
    for (const key of new Set(keys)) {
      const n = held.get(key);
      if (n === undefined) continue;
      if (n > 1) held.set(key, n - 1);
      else held.delete(key);
    }
    if (held.size === 0) this.users.delete(userId);
  }
}
