import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG } from '../config/app-config';
import { InstrumentsModule } from '../instruments/instruments.module';
import { MarketDataModule } from '../market-data/market-data.module';
import { WatchlistItemEntity } from './entities/watchlist-item.entity';
import { WatchlistEntity } from './entities/watchlist.entity';
import { WatchlistReferences } from './watchlist-references.service';
import { WatchlistResolver } from './watchlist.resolver';
import { WatchlistService } from './watchlist.service';
import { WatchlistTierAListener } from './watchlist-tier-a.listener';
import { WATCHLIST_OPTIONS, watchlistOptions } from './watchlist.options';

/** Watchlists and their Tier A references (no resolvers; the scheduler can import it). */
@Module({
  imports: [
    TypeOrmModule.forFeature([WatchlistEntity, WatchlistItemEntity]),
    InstrumentsModule,
    MarketDataModule,
  ],
  providers: [
    { provide: WATCHLIST_OPTIONS, inject: [APP_CONFIG], useFactory: watchlistOptions },
    WatchlistService,
    WatchlistReferences,
    WatchlistTierAListener,
  ],
  exports: [WatchlistService, WatchlistReferences, WatchlistTierAListener],
})
export class WatchlistModule {}

/** User schema: watchlists and their mutations. */
@Module({
  imports: [WatchlistModule, MarketDataModule],
  providers: [WatchlistResolver],
})
export class WatchlistGraphqlModule {}
