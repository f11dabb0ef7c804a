import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import type { Principal } from '../common/graphql/graphql-context';
import { InstrumentModel } from '../instruments/models/instrument.model';
import { MarketDataService } from '../market-data/market-data.service';
import { marketState } from '../market-data/models/tick.model';
import {
  AddWatchlistItemArgs,
  CreateWatchlistArgs,
  RemoveWatchlistItemArgs,
  RenameWatchlistArgs,
  WatchlistIdArgs,
} from './dto/watchlist.args';
import { WatchlistModel, type WatchlistItemModel } from './models/watchlist.model';
import { WatchlistService, type WatchlistView } from './watchlist.service';

@Resolver(() => WatchlistModel)
export class WatchlistResolver {
  constructor(
    private readonly watchlist: WatchlistService,
    private readonly marketData: MarketDataService,
  ) {}

  @Query(() => [WatchlistModel], { description: "The caller's watchlists with live quotes." })
  async watchlists(@CurrentUser() user: Principal): Promise<WatchlistModel[]> {
    return (await this.watchlist.watchlists(user.id)).map((v) => this.toModel(v));
  }

  @Mutation(() => WatchlistModel, { description: 'Limits: WATCHLIST_MAX_LISTS per user.' })
  async createWatchlist(
    @CurrentUser() user: Principal,
    @Args() { name }: CreateWatchlistArgs,
  ): Promise<WatchlistModel> {
    return this.toModel(await this.watchlist.createWatchlist(user.id, name));
  }

  @Mutation(() => WatchlistModel)
  async renameWatchlist(
    @CurrentUser() user: Principal,
    @Args() { id, name }: RenameWatchlistArgs,
  ): Promise<WatchlistModel> {
    return this.toModel(await this.watchlist.renameWatchlist(user.id, id, name));
  }

  @Mutation(() => Boolean, {
    description: 'Stops streaming its instruments (unless held elsewhere).',
  })
  deleteWatchlist(
    @CurrentUser() user: Principal,
    @Args() { id }: WatchlistIdArgs,
  ): Promise<boolean> {
    return this.watchlist.deleteWatchlist(user.id, id);
  }

  @Mutation(() => WatchlistModel, {
    description:
      'Streams the instrument at once (CAPACITY_EXCEEDED, nothing changed, when the feed is ' +
      'full). Adding an existing item updates includeOptionChain.',
  })
  async addWatchlistItem(
    @CurrentUser() user: Principal,
    @Args() { watchlistId, instrument, includeOptionChain }: AddWatchlistItemArgs,
  ): Promise<WatchlistModel> {
    return this.toModel(
      await this.watchlist.addWatchlistItem(user.id, watchlistId, instrument, includeOptionChain),
    );
  }

  @Mutation(() => WatchlistModel)
  async removeWatchlistItem(
    @CurrentUser() user: Principal,
    @Args() { watchlistId, instrument }: RemoveWatchlistItemArgs,
  ): Promise<WatchlistModel> {
    return this.toModel(await this.watchlist.removeWatchlistItem(user.id, watchlistId, instrument));
  }

  private toModel({ list, items }: WatchlistView): WatchlistModel {
    return {
      id: list.id,
      name: list.name,
      position: list.position,
      createdAt: list.createdAt,
      updatedAt: list.updatedAt,
      items: items.map((item): WatchlistItemModel => {
        const instrument: InstrumentModel = this.watchlist.instrumentOf(item) ?? {
          // The master no longer lists it (expired contract): identity only, until removed.
          segment: item.segment as InstrumentModel['segment'],
          securityId: item.securityId,
          symbol: item.securityId,
          displayName: item.securityId,
          instrumentType: '',
          lotSize: 0,
          tickSize: 0,
        };
        const record = this.marketData.record(instrument.segment, instrument.securityId);
        return {
          instrument,
          quote: record && record.version > 0 ? marketState(record) : null,
          includeOptionChain: item.includeOptionChain,
          addedAt: item.createdAt,
        };
      }),
    };
  }
}
