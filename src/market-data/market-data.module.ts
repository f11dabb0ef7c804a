import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminModule } from '../admin/admin.module';
import { APP_CONFIG } from '../config/app-config';
import { HealthModule } from '../health/health.module';
import { InstrumentsModule } from '../instruments/instruments.module';
import { CalendarModule } from '../calendar/calendar.module';
import { FeedPool } from './feed/feed-pool.service';
import { MarketDataAdminResolver } from './market-data-admin.resolver';
import {
  MARKET_DATA_OPTIONS,
  marketDataOptions,
  type MarketDataOptions,
} from './market-data.options';
import { MarketDataResolver } from './market-data.resolver';
import { MarketDataService } from './market-data.service';
import { FEED_PORT, REGISTRY_LIMITS, SubscriptionRegistry } from './feed/subscription-registry';
import { TICK_FANOUT_OPTIONS, TickFanout } from './ticks/tick-fanout';
import { TickSerializer } from './ticks/tick-serializer';
import { TICK_STORE_OPTIONS, TickStore } from './ticks/tick-store';
import { TickTransport } from './ticks/tick-transport';
import { TickRelay } from './relay/tick-relay.service';
import { ReferenceRelay } from './relay/reference-relay.service';
import { TierBService } from './chains/tier-b.service';
import { ChainAnalyticsService } from './chains/chain-analytics.service';
import { DhanDataClient } from './rest/dhan-data.client';
import { RestMarketDataService } from './rest/rest-market-data.service';
import { CandlesService } from './candles/candles.service';
import { CandleDayEntity, CandleEntity } from './candles/entities/candle.entity';

/**
 * Market data (no resolvers, so modules of either schema can import it): the feed pool, the
 * subscription registry, the tick store and fan-out, Tier B; MarketDataService is the facade.
 */
@Module({
  imports: [
    InstrumentsModule,
    CalendarModule,
    HealthModule,
    TypeOrmModule.forFeature([CandleEntity, CandleDayEntity]),
  ],
  providers: [
    { provide: MARKET_DATA_OPTIONS, inject: [APP_CONFIG], useFactory: marketDataOptions },
    {
      provide: TICK_STORE_OPTIONS,
      inject: [MARKET_DATA_OPTIONS],
      useFactory: ({ staleAfterMs, tickChecks }: MarketDataOptions) => {
        const { enabled, ...checks } = tickChecks;
        return { staleAfterMs, checks: enabled ? checks : null };
      },
    },
    {
      provide: TICK_FANOUT_OPTIONS,
      inject: [MARKET_DATA_OPTIONS],
      useFactory: (o: MarketDataOptions) => o.fanout,
    },
    {
      provide: REGISTRY_LIMITS,
      inject: [MARKET_DATA_OPTIONS],
      useFactory: (o: MarketDataOptions) => o.registry,
    },
    { provide: FEED_PORT, useExisting: FeedPool },
    TickStore,
    TickSerializer,
    TickFanout,
    TickTransport,
    TickRelay,
    ReferenceRelay,
    SubscriptionRegistry,
    FeedPool,
    MarketDataService,
    TierBService,
    ChainAnalyticsService,
    DhanDataClient,
    RestMarketDataService,
    CandlesService,
  ],
  exports: [
    MarketDataService,
    TierBService,
    ChainAnalyticsService,
    RestMarketDataService,
    CandlesService,
  ],
})
export class MarketDataModule {}

/** User schema: quote, optionChain, optionChainUpdates, ticks, feedHealth. */
@Module({
  imports: [MarketDataModule],
  providers: [MarketDataResolver],
})
export class MarketDataGraphqlModule {}

/** Admin schema: feedStatus, reconnectFeed. */
@Module({
  imports: [MarketDataModule, AdminModule],
  providers: [MarketDataAdminResolver],
})
export class MarketDataAdminModule {}
