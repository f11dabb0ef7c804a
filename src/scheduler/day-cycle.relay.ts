import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { ClusterRedis } from '../cluster/cluster-redis';
import { LeadershipService } from '../cluster/leadership.service';
import { InstrumentsService } from '../instruments/instruments.service';
import { WatchlistReferences } from '../watchlist/watchlist-references.service';
import { DAY_CYCLE_DONE, type DayCycleDoneEvent } from './day-cycle.events';
import { EOD_SEGMENTS, type ExchangeGroup } from './day-cycle.service';

/** The pub/sub channel of the day cycle's runs (REDIS_URL). */
export const DAY_CYCLE_CHANNEL = 'terminal:day-cycle';

type DayCycleMessage = DayCycleDoneEvent & { from: string };

const GROUPS: ReadonlySet<string> = new Set<ExchangeGroup>(['NSE_BSE', 'MCX']);

/**
 * The day cycle runs once for the cluster (the leader's crons, or an admin's run on any
 * instance: orders and the run's record are in the database), but every instance holds the same
 * Tier A references (each restored every watchlist at boot and adopts the others' changes). So
 * an end of day run anywhere is followed on every other instance by the release of the group's
 * watchlist references, and a start of day by a fresh instrument master and the restore of
 * every watchlist. Without REDIS_URL nothing is published.
 */
@Injectable()
export class DayCycleRelay implements OnModuleInit {
  private readonly logger = new Logger(DayCycleRelay.name);
  /** Runs of other instances, followed here one after another in the order they came. */
  private following: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: ClusterRedis,
    private readonly leadership: LeadershipService,
    private readonly watchlists: WatchlistReferences,
    private readonly instruments: InstrumentsService,
  ) {}

  onModuleInit(): void {
    if (!this.redis.enabled) return;
    this.redis.subscribe(DAY_CYCLE_CHANNEL, (text) => this.receive(text));
  }

  @OnEvent(DAY_CYCLE_DONE)
  onDone(event: DayCycleDoneEvent): void {
    const client = this.redis.client;
    if (client === null) return;
    const message: DayCycleMessage = { ...event, from: this.leadership.instanceId };
    client.publish(DAY_CYCLE_CHANNEL, JSON.stringify(message)).catch((err: Error) =>
      this.logger.error({
        msg: 'day cycle run not published',
        kind: event.kind,
        err: err.message,
      }),
    );
  }

  private receive(text: string): void {
    let message: DayCycleMessage;
    try {
      message = JSON.parse(text) as DayCycleMessage;
    } catch {
      this.logger.warn({ msg: 'malformed day cycle message ignored' });
      return;
    }
    if (message.from === this.leadership.instanceId) return;
    this.following = this.following
      .then(() => this.follow(message))
      .catch((err: unknown) =>
        this.logger.error({ msg: "another instance's day cycle run not followed", err }),
      );
  }

  private async follow(message: DayCycleMessage): Promise<void> {
    if (message.kind === 'EOD' && GROUPS.has(message.group)) {
      const released = this.watchlists.releaseSegments(EOD_SEGMENTS[message.group]);
      this.logger.log({ msg: 'end of day followed', group: message.group, released });
    } else if (message.kind === 'SOD') {
      const reload = await this.instruments.reload();
      const restored = await this.watchlists.restoreAll();
      this.logger.log({ msg: 'start of day followed', accepted: reload.accepted, restored });
    } else {
      this.logger.warn({ msg: 'unknown day cycle message ignored' });
    }
  }
}
