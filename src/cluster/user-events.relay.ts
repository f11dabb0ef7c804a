import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { ALERT_FIRED, type AlertFiredEvent } from '../alerts/alerts.events';
import { POSITIONS_UPDATED, type PositionsUpdatedPayload } from '../execution/execution.events';
import { ORDERS_UPDATED, type OrderUpdatedEvent } from '../orders/orders.events';
import { FUNDS_CHANGED, type FundsChangedEvent } from '../risk/funds.events';
import { WATCHLIST_CHANGED, type WatchlistChangedEvent } from '../watchlist/watchlist.events';
import { ClusterRedis } from './cluster-redis';
import { LeadershipService } from './leadership.service';

/** The pub/sub channel of the per-user order and position events. */
export const USER_EVENTS_CHANNEL = 'terminal:user-events';

type UserEventMessage =
  | { kind: 'order'; from: string; event: OrderUpdatedEvent }
  | { kind: 'positions'; from: string; event: PositionsUpdatedPayload }
  | { kind: 'watchlist'; from: string; event: WatchlistChangedEvent }
  | { kind: 'alert'; from: string; event: AlertFiredEvent }
  | { kind: 'funds'; from: string; event: FundsChangedEvent };

const EVENT_OF_KIND: Readonly<Record<UserEventMessage['kind'], string>> = {
  order: ORDERS_UPDATED,
  positions: POSITIONS_UPDATED,
  watchlist: WATCHLIST_CHANGED,
  alert: ALERT_FIRED,
  funds: FUNDS_CHANGED,
};

/** JSON with the two types these payloads carry that JSON has not: Date and bigint. */
function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Date) return { $date: raw.toISOString() };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    const v = value as { $date?: unknown; $bigint?: unknown };
    if (typeof v.$date === 'string' && Object.keys(v).length === 1) return new Date(v.$date);
    if (typeof v.$bigint === 'string' && Object.keys(v).length === 1) return BigInt(v.$bigint);
  }
  return value;
}

/**
 * A user's order, position and alert events reach their sockets on whichever instance they are
 * connected to (REDIS_URL): each instance publishes the ones it emits (an order placed there,
 * a broker update on the leader's order-update socket, a fill, an alert firing it claimed) and
 * emits the others' as if local, so `orderUpdates`, `positionUpdates` and `alerts` work the same
 * everywhere. Watchlist
 * changes too: every instance restored every saved watchlist at boot and holds the same Tier A
 * set, so an item removed on one is released on all and one added on one is held by all. And a user's funds changes (FUNDS_CHANGED), so each instance's `funds`
 * query answers from the database again.
 */
@Injectable()
export class UserEventsRelay implements OnModuleInit {
  private readonly logger = new Logger(UserEventsRelay.name);
  private readonly fromPeers = new WeakSet<object>();

  constructor(
    private readonly redis: ClusterRedis,
    private readonly events: EventEmitter2,
    private readonly leadership: LeadershipService,
  ) {}

  onModuleInit(): void {
    if (!this.redis.enabled) return;
    this.redis.subscribe(USER_EVENTS_CHANNEL, (text) => this.receive(text));
  }

  @OnEvent(ORDERS_UPDATED)
  onOrder(event: OrderUpdatedEvent): void {
    if (!this.redis.enabled || this.fromPeers.has(event)) return;
    this.publish({ kind: 'order', from: this.leadership.instanceId, event });
  }

  @OnEvent(POSITIONS_UPDATED)
  onPositions(event: PositionsUpdatedPayload): void {
    if (!this.redis.enabled || this.fromPeers.has(event)) return;
    this.publish({ kind: 'positions', from: this.leadership.instanceId, event });
  }

  /** An alert fires on the instance that claimed it; its owner may be connected elsewhere. */
  @OnEvent(ALERT_FIRED)
  onAlert(event: AlertFiredEvent): void {
    if (!this.redis.enabled || this.fromPeers.has(event)) return;
    this.publish({ kind: 'alert', from: this.leadership.instanceId, event });
  }

  /** Every instance holds every watchlist's references: a change anywhere is made everywhere. */
  @OnEvent(WATCHLIST_CHANGED)
  onWatchlist(event: WatchlistChangedEvent): void {
    if (!this.redis.enabled || this.fromPeers.has(event) || event.remote === true) return;
    this.publish({ kind: 'watchlist', from: this.leadership.instanceId, event });
  }

  /**
   * A user's funds changed in the database through this instance: the others answer their
   * next `funds` query from the database (their copy arrives with `remote: true`).
   */
  @OnEvent(FUNDS_CHANGED)
  onFunds(event: FundsChangedEvent): void {
    if (!this.redis.enabled || event.remote === true) return;
    this.publish({
      kind: 'funds',
      from: this.leadership.instanceId,
      event: { userId: event.userId },
    });
  }

  private publish(message: UserEventMessage): void {
    const client = this.redis.client;
    if (client === null) return;
    client.publish(USER_EVENTS_CHANNEL, JSON.stringify(message, replacer)).catch((err: Error) =>
      this.logger.error({
        msg: 'user event not published',
        kind: message.kind,
        err: err.message,
      }),
    );
  }

  private receive(text: string): void {
    let message: UserEventMessage;
    try {
      message = JSON.parse(text, reviver) as UserEventMessage;
    } catch {
      this.logger.warn({ msg: 'malformed user event ignored' });
      return;
    }
    if (message.from === this.leadership.instanceId) return;
    if (message.kind === 'funds') message.event = { userId: message.event.userId, remote: true };
    if (message.kind === 'watchlist') message.event = { ...message.event, remote: true };
    this.fromPeers.add(message.event);
    this.events.emit(EVENT_OF_KIND[message.kind], message.event);
  }
}
