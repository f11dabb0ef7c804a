import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import type { WebSocketConfig } from '../config/app-config';

export type SubscriptionLimits = Pick<
  WebSocketConfig,
  | 'maxSubscriptionsPerSocket'
  | 'maxSubscriptionsPerSocketField'
  | 'maxSubscriptionsPerUser'
  | 'maxSubscriptionsPerUserField'
>;

/** One socket's active subscriptions, in total and per root field. */
export interface SocketUsage {
  total(): number;
  perField: Map<string, number>;
}

export class CapacityExceededError extends DomainError {
  constructor(message: string, quota: string, limit: number) {
    super(ErrorCode.CAPACITY_EXCEEDED, message, { quota, limit });
  }
}

function increment(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next <= 0) map.delete(key);
  else map.set(key, next);
}

/**
 * The subscription caps of both endpoints: per socket and per user, per root field and in total.
 * A refusal names the quota (its configuration variable) and its limit.
 */
export class SubscriptionCaps {
  private readonly users = new Map<string, { total: number; perField: Map<string, number> }>();

  constructor(
    public limits: SubscriptionLimits = {
      maxSubscriptionsPerSocket: 100,
      maxSubscriptionsPerSocketField: 25,
      maxSubscriptionsPerUser: 400,
      maxSubscriptionsPerUserField: 100,
    },
  ) {}

  /** Active subscriptions of a user, or of everyone. */
  active(userId?: string): number {
    if (userId !== undefined) return this.users.get(userId)?.total ?? 0;
    let total = 0;
    for (const entry of this.users.values()) total += entry.total;
    return total;
  }

  /** Why one more subscription of `field` would break a cap; undefined when it fits. */
  refusal(socket: SocketUsage, userId: string, field: string): CapacityExceededError | undefined {
    const limits = this.limits;
    const user = this.users.get(userId);
    if (socket.total() >= limits.maxSubscriptionsPerSocket) {
      return new CapacityExceededError(
        `Too many subscriptions on this connection (at most ${limits.maxSubscriptionsPerSocket}, WS_SUBSCRIPTIONS_PER_SOCKET)`,
        'WS_SUBSCRIPTIONS_PER_SOCKET',
        limits.maxSubscriptionsPerSocket,
      );
    }
    if ((socket.perField.get(field) ?? 0) >= limits.maxSubscriptionsPerSocketField) {
      return new CapacityExceededError(
        `Too many ${field} subscriptions on this connection (at most ${limits.maxSubscriptionsPerSocketField}, WS_SUBSCRIPTIONS_PER_SOCKET_FIELD)`,
        'WS_SUBSCRIPTIONS_PER_SOCKET_FIELD',
        limits.maxSubscriptionsPerSocketField,
      );
    }
    if ((user?.total ?? 0) >= limits.maxSubscriptionsPerUser) {
      return new CapacityExceededError(
        `Too many subscriptions for this user across connections (at most ${limits.maxSubscriptionsPerUser}, WS_SUBSCRIPTIONS_PER_USER)`,
        'WS_SUBSCRIPTIONS_PER_USER',
        limits.maxSubscriptionsPerUser,
      );
    }
    if ((user?.perField.get(field) ?? 0) >= limits.maxSubscriptionsPerUserField) {
      return new CapacityExceededError(
        `Too many ${field} subscriptions for this user across connections (at most ${limits.maxSubscriptionsPerUserField}, WS_SUBSCRIPTIONS_PER_USER_FIELD)`,
        'WS_SUBSCRIPTIONS_PER_USER_FIELD',
        limits.maxSubscriptionsPerUserField,
      );
    }
    return undefined;
  }

  /** Counts one subscription of `field` in (`by` 1) or out (`by` -1) for the socket and user. */
  charge(socket: SocketUsage, userId: string, field: string, by: 1 | -1): void {
    increment(socket.perField, field, by);
    let user = this.users.get(userId);
    if (!user) {
      user = { total: 0, perField: new Map() };
      this.users.set(userId, user);
    }
    user.total += by;
    increment(user.perField, field, by);
    if (user.total <= 0) this.users.delete(userId);
  }
}
