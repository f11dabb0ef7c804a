import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { BrokerTokenSource } from '../dhan/broker-token';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../dhan/dhan-endpoints';
import { ClusterRedis } from './cluster-redis';
import { LeadershipService } from './leadership.service';

/** The cluster's current DhanHQ access token (JSON) and the channel that announces a new one. */
export const BROKER_TOKEN_KEY = 'terminal:broker-token';
export const BROKER_TOKEN_CHANNEL = 'terminal:broker-token';

interface SharedToken {
  from: string;
  token: string;
  source: BrokerTokenSource;
  expiresAt: number | null;
}

/**
 * One DhanHQ access token for every instance (live DhanHQ with REDIS_URL): DhanHQ ends the
 * previous token when it issues a new one, so only the leader renews or generates, and every
 * token installed on any instance (a renewal, an admin's setBrokerToken) is stored in Redis and
 * announced; the others install it at once, and an instance that boots takes the stored one.
 * Each instance with its own embedded simulator keeps its own token.
 */
@Injectable()
export class BrokerTokenRelay implements OnModuleInit {
  private readonly logger = new Logger(BrokerTokenRelay.name);
  /** A token being installed from another instance (not announced again). */
  private fromPeer: string | undefined;

  constructor(
    private readonly redis: ClusterRedis,
    private readonly leadership: LeadershipService,
    @Inject(DHAN_ENDPOINTS) private readonly endpoints: DhanEndpoints,
  ) {}

  async onModuleInit(): Promise<void> {
    const client = this.redis.client;
    if (client === null || this.endpoints.mode !== 'live') return;
    const token = this.endpoints.token;
    token.gateRenewal(() => this.leadership.isLeader());
    await this.redis.whenConnected();
    const stored = await client.get(BROKER_TOKEN_KEY).catch((err: Error) => {
      this.logger.warn({ msg: 'shared DhanHQ token not read', err: err.message });
      return null;
    });
    token.on('changed', () => this.announce());
    // At boot the later-expiring token wins: the stored one (renewed since this instance's
    // DHAN_ACCESS_TOKEN was issued), or this one (a fresh token deployed with the instance).
    if (stored !== null) this.receive(stored, true);
    else this.announce();
    this.redis.subscribe(BROKER_TOKEN_CHANNEL, (text) => this.receive(text, false));
  }

  private announce(): void {
    const client = this.redis.client;
    const current = this.endpoints.token.current();
    if (client === null || current === this.fromPeer) return;
    const status = this.endpoints.token.status();
    const shared: SharedToken = {
      from: this.leadership.instanceId,
      token: current,
      source: status.source,
      expiresAt: status.expiresAt ?? null,
    };
    const text = JSON.stringify(shared);
    const store =
      shared.expiresAt !== null
        ? client.set(BROKER_TOKEN_KEY, text, 'PXAT', shared.expiresAt)
        : client.set(BROKER_TOKEN_KEY, text);
    void store
      .then(() => client.publish(BROKER_TOKEN_CHANNEL, text))
      .catch((err: Error) =>
        this.logger.error({ msg: 'new DhanHQ token not shared', err: err.message }),
      );
  }

  private receive(text: string, atBoot: boolean): void {
    let shared: SharedToken;
    try {
      shared = JSON.parse(text) as SharedToken;
    } catch {
      this.logger.warn({ msg: 'malformed shared DhanHQ token ignored' });
      return;
    }
    if (!atBoot && shared.from === this.leadership.instanceId) return;
    if (typeof shared.token !== 'string' || shared.token === this.endpoints.token.current()) return;
    const mine = this.endpoints.token.status().expiresAt;
    if (atBoot && mine !== undefined && (shared.expiresAt ?? 0) < mine) {
      this.announce();
      return;
    }
    this.fromPeer = shared.token;
    this.logger.log({ msg: 'DhanHQ token taken from another instance', source: shared.source });
    this.endpoints.token.set(shared.token, shared.source, shared.expiresAt ?? undefined);
  }
}
