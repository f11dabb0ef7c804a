import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { InstrumentsService } from '../instruments/instruments.service';
import { WatchlistReferences, watchlistHolderId } from './watchlist-references.service';
import { WATCHLIST_CHANGED, WatchlistChange, type WatchlistChangedEvent } from './watchlist.events';

/**
 * Tier A upkeep. Additions acquire their references before the row is committed (so a full
 * feed fails the mutation cleanly); removals and deletions are committed first and release
 * here, synchronously on the event. At boot, saved watchlists are restored once the
 * instrument master is ready.
 */
@Injectable()
export class WatchlistTierAListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WatchlistTierAListener.name);
  private restoring: Promise<unknown> = Promise.resolve();
  /** Other instances' additions, adopted one after another in the order they came. */
  private adopting: Promise<unknown> = Promise.resolve();
  private stop!: () => void;
  private readonly stopped = new Promise<'stopped'>((resolve) => {
    this.stop = () => resolve('stopped');
  });

  constructor(
    private readonly references: WatchlistReferences,
    private readonly instruments: InstrumentsService,
  ) {}

  onApplicationBootstrap(): void {
    // A shutdown before the first instrument master skips the restore instead of waiting.
    const ready = Promise.race([
      this.instruments.ready().then(() => 'ready' as const),
      this.stopped,
    ]);
    this.restoring = ready.then((state) => {
      if (state === 'stopped') return undefined;
      return this.references.restoreAll().then(
        (report) => this.logger.log({ msg: 'watchlists restored', ...report }),
        (err: unknown) => this.logger.error({ msg: 'watchlist restore failed', err }),
      );
    });
  }

  /** Resolves when the boot-time restore has finished (tests, start of day). */
  whenRestored(): Promise<void> {
    return this.restoring.then(() => undefined);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stop();
    await this.restoring;
  }

  @OnEvent(WATCHLIST_CHANGED)
  onChanged(event: WatchlistChangedEvent): void {
    const added =
      event.change === WatchlistChange.ITEM_ADDED || event.change === WatchlistChange.ITEM_UPDATED;
    if (added && event.remote === true) {
      // Staged by the instance that made the change; held here too (see `adopt`).
      this.adopting = this.adopting
        .then(() => this.references.adopt(event.userId, event.watchlistId, event.items))
        .catch((err: unknown) => this.logger.error({ msg: 'watchlist item not adopted', err }));
      return;
    }
    if (event.change !== WatchlistChange.ITEM_REMOVED && event.change !== WatchlistChange.DELETED) {
      return;
    }
    this.references.releaseHolders(
      event.items.map((i) =>
        watchlistHolderId({ userId: event.userId, watchlistId: event.watchlistId, ...i }),
      ),
    );
  }
}
