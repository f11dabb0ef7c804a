import type { ExchangeSegment, Instrument } from '@app/dhan';
import { Inject, Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { DataSource, In, type EntityManager, type Repository } from 'typeorm';
import { BadUserInputError, ConflictError, NotFoundError } from '../common/errors/domain-error';
import { Clock } from '../common/clock';
import { KeyedSerialQueue } from '../common/keyed-serial-queue';
import { isUniqueViolation } from '../database/unique-violation';
import { InstrumentsService } from '../instruments/instruments.service';
import { WatchlistItemEntity } from './entities/watchlist-item.entity';
import { WatchlistEntity } from './entities/watchlist.entity';
import { WatchlistReferences, watchlistHolderId } from './watchlist-references.service';
import {
  WATCHLIST_CHANGED,
  WatchlistChange,
  type WatchlistChangedEvent,
  type WatchlistItemKey,
} from './watchlist.events';
import { WATCHLIST_OPTIONS, type WatchlistOptions } from './watchlist.options';

export const WATCHLIST_NAME_MAX = 40;

export interface WatchlistView {
  list: WatchlistEntity;
  items: WatchlistItemEntity[];
}

export interface InstrumentId {
  segment: ExchangeSegment;
  securityId: string;
}

/**
 * Watchlists of one user at a time: every mutation of a user runs after the previous one, so
 * the references staged for it and the rows it writes cannot interleave with another.
 */
@Injectable()
export class WatchlistService {
  /** One user's watchlist changes run one at a time. */
  private readonly queue = new KeyedSerialQueue();

  constructor(
    private readonly dataSource: DataSource,
    private readonly instruments: InstrumentsService,
    private readonly references: WatchlistReferences,
    private readonly events: EventEmitter2,
    private readonly clock: Clock,
    @Inject(WATCHLIST_OPTIONS) private readonly options: WatchlistOptions,
  ) {}

  private get lists(): Repository<WatchlistEntity> {
    return this.dataSource.getRepository(WatchlistEntity);
  }

  private get items(): Repository<WatchlistItemEntity> {
    return this.dataSource.getRepository(WatchlistItemEntity);
  }

  async watchlists(userId: string): Promise<WatchlistView[]> {
    const lists = await this.lists.find({ where: { userId }, order: { position: 'ASC' } });
    if (lists.length === 0) return [];
    const items = await this.items.find({
      where: { watchlistId: In(lists.map((l) => l.id)) },
      order: { position: 'ASC' },
    });
    return lists.map((list) => ({ list, items: items.filter((i) => i.watchlistId === list.id) }));
  }

  createWatchlist(userId: string, rawName: string): Promise<WatchlistView> {
    const name = validName(rawName);
    return this.queue.run(userId, async () => {
      const now = this.clock.now();
      const list = await this.write(async (em) => {
        const repo = em.getRepository(WatchlistEntity);
        const count = await repo.count({ where: { userId } });
        if (count >= this.options.maxLists) {
          throw new BadUserInputError(
            `Watchlist limit reached: at most ${this.options.maxLists} watchlists per user`,
          );
        }
        await this.assertNameFree(repo, userId, name);
        const last = await repo.findOne({ where: { userId }, order: { position: 'DESC' } });
        return repo.save(
          repo.create({
            id: randomUUID(),
            userId,
            name,
            position: (last?.position ?? -1) + 1,
            createdAt: now,
            updatedAt: now,
          }),
        );
      });
      this.emit(WatchlistChange.CREATED, userId, list.id, []);
      return { list, items: [] };
    });
  }

  renameWatchlist(userId: string, id: string, rawName: string): Promise<WatchlistView> {
    const name = validName(rawName);
    return this.queue.run(userId, async () => {
      await this.write(async (em) => {
        const repo = em.getRepository(WatchlistEntity);
        const list = await this.owned(repo, userId, id);
        if (list.name === name) return;
        await this.assertNameFree(repo, userId, name);
        await repo.update({ id }, { name, updatedAt: this.clock.now() });
      });
      this.emit(WatchlistChange.RENAMED, userId, id, []);
      return this.view(userId, id);
    });
  }

  deleteWatchlist(userId: string, id: string): Promise<boolean> {
    return this.queue.run(userId, async () => {
      const removed = await this.write(async (em) => {
        await this.owned(em.getRepository(WatchlistEntity), userId, id);
        const items = await em
          .getRepository(WatchlistItemEntity)
          .find({ where: { watchlistId: id } });
        await em.getRepository(WatchlistItemEntity).delete({ watchlistId: id });
        await em.getRepository(WatchlistEntity).delete({ id });
        return items;
      });
      this.emit(WatchlistChange.DELETED, userId, id, removed.map(keyOf));
      return true;
    });
  }

  addWatchlistItem(
    userId: string,
    watchlistId: string,
    input: InstrumentId,
    includeOptionChain: boolean | null | undefined,
  ): Promise<WatchlistView> {
    return this.queue.run(userId, async () => {
      const list = await this.owned(this.lists, userId, watchlistId);
      await this.instruments.ready();
      const instrument = this.instruments.get(input.segment, input.securityId);
      if (!instrument) {
        throw new NotFoundError(`Unknown instrument ${input.segment} ${input.securityId}`);
      }
      const withChain = includeOptionChain === true;
      if (withChain && this.references.underlyingNameOf(instrument) === undefined) {
        throw new BadUserInputError(
          `includeOptionChain needs an underlying (index, stock or MCX near future); ${instrument.symbol} is not one`,
        );
      }
      const existing = await this.items.findOne({ where: { watchlistId, ...keyOf(input) } });
      if (existing && existing.includeOptionChain === withChain) {
        return this.view(userId, watchlistId);
      }
      if (!existing) {
        const count = await this.items.count({ where: { watchlistId } });
        if (count >= this.options.maxItems) {
          throw new BadUserInputError(
            `Watchlist item limit reached: at most ${this.options.maxItems} instruments per watchlist`,
          );
        }
      }
      const holderId = watchlistHolderId({ userId, watchlistId, ...keyOf(input) });
      // References first: a full feed fails the mutation before anything is written.
      const staged = this.references.stage(
        holderId,
        this.references.referencesFor(holderId, instrument, withChain),
      );
      try {
        await this.write(async (em) => {
          const repo = em.getRepository(WatchlistItemEntity);
          if (existing) {
            await repo.update({ id: existing.id }, { includeOptionChain: withChain });
          } else {
            const last = await repo.findOne({
              where: { watchlistId },
              order: { position: 'DESC' },
            });
            await repo.insert({
              id: randomUUID(),
              watchlistId,
              ...keyOf(input),
              includeOptionChain: withChain,
              position: (last?.position ?? -1) + 1,
              createdAt: this.clock.now(),
            });
          }
          await em
            .getRepository(WatchlistEntity)
            .update({ id: list.id }, { updatedAt: this.clock.now() });
        });
      } catch (e) {
        staged.rollback();
        throw e;
      }
      staged.commit();
      this.emit(
        existing ? WatchlistChange.ITEM_UPDATED : WatchlistChange.ITEM_ADDED,
        userId,
        watchlistId,
        [keyOf(input)],
      );
      return this.view(userId, watchlistId);
    });
  }

  removeWatchlistItem(
    userId: string,
    watchlistId: string,
    input: InstrumentId,
  ): Promise<WatchlistView> {
    return this.queue.run(userId, async () => {
      const removed = await this.write(async (em) => {
        await this.owned(em.getRepository(WatchlistEntity), userId, watchlistId);
        const result = await em
          .getRepository(WatchlistItemEntity)
          .delete({ watchlistId, ...keyOf(input) });
        if (!result.affected) {
          throw new NotFoundError(`${input.segment} ${input.securityId} is not in this watchlist`);
        }
        await em
          .getRepository(WatchlistEntity)
          .update({ id: watchlistId }, { updatedAt: this.clock.now() });
        return true;
      });
      if (removed) this.emit(WatchlistChange.ITEM_REMOVED, userId, watchlistId, [keyOf(input)]);
      return this.view(userId, watchlistId);
    });
  }

  /** The instrument of an item; undefined when it left the instrument master. */
  instrumentOf(item: WatchlistItemEntity): Instrument | undefined {
    return this.instruments.get(item.segment as ExchangeSegment, item.securityId);
  }

  private async view(userId: string, id: string): Promise<WatchlistView> {
    const list = await this.owned(this.lists, userId, id);
    const items = await this.items.find({ where: { watchlistId: id }, order: { position: 'ASC' } });
    return { list, items };
  }

  private async owned(
    repo: Repository<WatchlistEntity>,
    userId: string,
    id: string,
  ): Promise<WatchlistEntity> {
    // Another user's watchlist answers exactly like a missing one.
    const list = await repo.findOne({ where: { id, userId } });
    if (!list) throw new NotFoundError('Watchlist not found');
    return list;
  }

  private async assertNameFree(
    repo: Repository<WatchlistEntity>,
    userId: string,
    name: string,
  ): Promise<void> {
    if (await repo.exists({ where: { userId, name } })) {
      throw new ConflictError(`A watchlist named "${name}" already exists`);
    }
  }

  /** One transaction; a unique-constraint race surfaces as CONFLICT. */
  private async write<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.dataSource.transaction(work);
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new ConflictError('The watchlist changed concurrently; retry');
      }
      throw e;
    }
  }

  private emit(
    change: WatchlistChange,
    userId: string,
    watchlistId: string,
    items: WatchlistItemKey[],
  ): void {
    const event: WatchlistChangedEvent = { change, userId, watchlistId, items };
    this.events.emit(WATCHLIST_CHANGED, event);
  }
}

function validName(raw: string): string {
  const name = raw.trim();
  if (name.length < 1 || name.length > WATCHLIST_NAME_MAX) {
    throw new BadUserInputError(`name must be 1-${WATCHLIST_NAME_MAX} characters after trimming`);
  }
  return name;
}

function keyOf(i: { segment: string; securityId: string }): WatchlistItemKey {
  return { segment: i.segment as ExchangeSegment, securityId: i.securityId };
}
