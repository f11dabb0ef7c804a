import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import {
  SESSION_REVOKED,
  SessionRevokedEvent,
  USER_CHANGED,
  UserChangedEvent,
} from '../auth/auth.events';
import { ClusterRedis } from './cluster-redis';
import { LeadershipService } from './leadership.service';

/** The pub/sub channel of the changes every instance must act on. */
export const CLUSTER_EVENTS_CHANNEL = 'terminal:events';

type ClusterMessage =
  | { kind: 'user-changed'; from: string; userId: string; disabled: boolean; role: string }
  | { kind: 'session-revoked'; from: string; sessionId: string };

/**
 * Admin and session changes made on one instance, acted on by all (REDIS_URL): a disabled or
 * demoted user's sockets close and cached principals are dropped everywhere, a logout or a
 * refresh-token reuse ends that session's sockets everywhere. Each local USER_CHANGED and
 * SESSION_REVOKED is published; each one from another instance is emitted here as if local
 * (and not published again).
 */
@Injectable()
export class ClusterEventsRelay implements OnModuleInit {
  private readonly logger = new Logger(ClusterEventsRelay.name);
  private readonly fromPeers = new WeakSet<object>();

  constructor(
    private readonly redis: ClusterRedis,
    private readonly events: EventEmitter2,
    private readonly leadership: LeadershipService,
  ) {}

  onModuleInit(): void {
    if (!this.redis.enabled) return;
    this.redis.subscribe(CLUSTER_EVENTS_CHANNEL, (text) => this.receive(text));
  }

  @OnEvent(USER_CHANGED)
  onUserChanged(event: UserChangedEvent): void {
    if (this.fromPeers.has(event)) return;
    this.publish({
      kind: 'user-changed',
      from: this.leadership.instanceId,
      userId: event.userId,
      disabled: event.disabled,
      role: event.role,
    });
  }

  @OnEvent(SESSION_REVOKED)
  onSessionRevoked(event: SessionRevokedEvent): void {
    if (this.fromPeers.has(event)) return;
    this.publish({
      kind: 'session-revoked',
      from: this.leadership.instanceId,
      sessionId: event.sessionId,
    });
  }

  private publish(message: ClusterMessage): void {
    const client = this.redis.client;
    if (client === null) return;
    client.publish(CLUSTER_EVENTS_CHANNEL, JSON.stringify(message)).catch((err: Error) =>
      this.logger.error({
        msg: 'cluster event not published',
        kind: message.kind,
        err: err.message,
      }),
    );
  }

  private receive(text: string): void {
    let message: ClusterMessage;
    try {
      message = JSON.parse(text) as ClusterMessage;
    } catch {
      this.logger.warn({ msg: 'malformed cluster event ignored' });
      return;
    }
    if (message.from === this.leadership.instanceId) return;
    if (message.kind === 'user-changed') {
      const event = new UserChangedEvent(message.userId, message.disabled, message.role);
      this.fromPeers.add(event);
      this.events.emit(USER_CHANGED, event);
    } else if (message.kind === 'session-revoked') {
      const event = new SessionRevokedEvent(message.sessionId);
      this.fromPeers.add(event);
      this.events.emit(SESSION_REVOKED, event);
    }
  }
}
