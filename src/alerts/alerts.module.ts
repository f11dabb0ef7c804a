import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { InstrumentsModule } from '../instruments/instruments.module';
import { MarketDataModule } from '../market-data/market-data.module';
import { OrdersModule } from '../orders/orders.module';
import { AlertActions } from './alert-actions';
import { AlertFeedHolds } from './alert-feed-holds';
import { AlertsMetrics } from './alerts.metrics';
import { AlertsResolver } from './alerts.resolver';
import { AlertsService } from './alerts.service';
import { AlertEntity, AlertFiringEntity } from './entities/alert.entity';

/** Server-side alerts: evaluated on the tick path, fired once per crossing, ATO orders/baskets. */
@Module({
  imports: [
    TypeOrmModule.forFeature([AlertEntity, AlertFiringEntity]),
    InstrumentsModule,
    MarketDataModule,
    OrdersModule,
  ],
  providers: [AlertsService, AlertFeedHolds, AlertActions, AlertsMetrics],
  exports: [AlertsService],
})
export class AlertsModule {}

/** User schema: createAlert, deleteAlert, alerts, alert, subscription alerts. */
@Module({
  imports: [AlertsModule, InstrumentsModule],
  providers: [AlertsResolver],
})
export class AlertsGraphqlModule {}
