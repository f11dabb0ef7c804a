import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config';
import { ReadinessRegistry } from '../health/readiness.registry';

/** How long boot waits for Redis before going on (ioredis keeps reconnecting after). */
const FIRST_CONNECT_WAIT_MS = 5_000;

/**
 * The Redis connections of this instance when REDIS_URL is set (none otherwise): one for
 * commands, one more for pub/sub (a subscribed connection takes no other commands). Commands
 * time out instead of queueing forever, so a lost Redis shows as errors, not as a hang.
 */
@Injectable()
export class ClusterRedis implements OnApplicationShutdown {
  private readonly logger = new Logger(ClusterRedis.name);
  /** Null without REDIS_URL. */
  readonly client: Redis | null;
  private subscriberConnection: Redis | undefined;
  /** Subscriptions asked for before the pub/sub connection was ready, by channel. */
  private readonly pendingChannels = new Map<string, () => void>();
  private closing = false;

  constructor(@Inject(APP_CONFIG) config: ResolvedAppConfig, readiness: ReadinessRegistry) {
    const url = config.redis.url;
    if (url === undefined) {
      this.client = null;
      return;
    }
    this.client = new Redis(url, {
      maxRetriesPerRequest: 1,
      commandTimeout: Math.max(500, Math.floor(config.redis.leaderLockTtlMs / 3)),
      connectionName: 'terminal',
    });
    this.client.on('error', (err: Error) =>
      this.logger.warn({ msg: 'redis connection error', err: err.message }),
    );
    readiness.register('redis', async () => {
      if (this.client?.status !== 'ready') {
        return { up: false, reason: `redis connection ${this.client?.status ?? 'absent'}` };
      }
      await this.client.ping();
      return true;
    });
  }

  get enabled(): boolean {
    return this.client !== null;
  }

  /** Resolves once the command connection is ready, or after a bounded wait. */
  async whenConnected(): Promise<void> {
    const client = this.client;
    if (client === null || client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FIRST_CONNECT_WAIT_MS);
      timer.unref();
      client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Calls `handler` with every message on `channel`. The subscription is retried until Redis
   * takes it (a busy boot must not lose it for good); ioredis renews it after a reconnect.
   */
  subscribe(channel: string, handler: (message: string) => void): void {
    const subscriber = this.subscriber();
    subscriber.on('message', (from: string, message: string) => {
      if (from === channel) handler(message);
    });
    this.take(subscriber, channel);
  }

  /** As `subscribe`, for binary messages (the tick relay's). */
  subscribeBuffer(channel: string, handler: (message: Buffer) => void): void {
    const subscriber = this.subscriber();
    subscriber.on('messageBuffer', (from: Buffer, message: Buffer) => {
      if (from.toString() === channel) handler(message);
    });
    this.take(subscriber, channel);
  }

  /**
   * Told when the pub/sub connection is lost (`down`: messages published meanwhile are never
   * seen) and when it is back (`up`). Made on first use, like the connection.
   */
  onSubscriberState(listener: (state: 'up' | 'down') => void): void {
    const subscriber = this.subscriber();
    subscriber.on('ready', () => listener('up'));
    subscriber.on('close', () => listener('down'));
  }

  /** Whether the pub/sub connection is up (false before its first use). */
  get subscriberReady(): boolean {
    return this.subscriberConnection?.status === 'ready';
  }

  /**
   * SUBSCRIBE once the connection is ready. Sent while ioredis's connect handshake still runs
   * (its client-info commands, then the INFO ready check), a SUBSCRIBE puts the connection in
   * subscriber mode under the check: the check fails, the connection is recycled, and a
   * subscription issued meanwhile could be lost without an error (an instance then never heard
   * a channel). After a reconnect ioredis renews the subscriptions itself, after its check.
   */
  private take(subscriber: Redis, channel: string): void {
    const attempt = (delayMs: number): void => {
      if (this.closing) return;
      if (subscriber.status !== 'ready') {
        this.pendingChannels.set(channel, () => attempt(delayMs));
        return;
      }
      subscriber.subscribe(channel).catch((err: Error) => {
        if (this.closing) return;
        this.logger.warn({ msg: 'redis subscribe failed; retrying', channel, err: err.message });
        setTimeout(() => attempt(Math.min(delayMs * 2, 5_000)), delayMs).unref();
      });
    };
    attempt(200);
  }

  /** The pub/sub connection (made on first use), without a command timeout. */
  private subscriber(): Redis {
    if (this.client === null) throw new Error('REDIS_URL is not set');
    if (this.subscriberConnection === undefined) {
      this.subscriberConnection = this.client.duplicate({
        connectionName: 'terminal-sub',
        commandTimeout: undefined,
      });
      this.subscriberConnection.on('error', (err: Error) =>
        this.logger.warn({ msg: 'redis subscriber error', err: err.message }),
      );
      this.subscriberConnection.on('ready', () => {
        const waiting = [...this.pendingChannels.values()];
        this.pendingChannels.clear();
        for (const subscribe of waiting) subscribe();
      });
    }
    return this.subscriberConnection;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    await Promise.all(
      [this.subscriberConnection, this.client].map((c) => c?.quit().catch(() => c.disconnect())),
    );
  }
}
