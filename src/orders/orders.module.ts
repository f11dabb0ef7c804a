import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG } from '../config/app-config';
import { InstrumentsModule } from '../instruments/instruments.module';
import { MarketDataModule } from '../market-data/market-data.module';
import { RiskModule } from '../risk/risk.module';
import { OrderEventEntity } from './entities/order-event.entity';
import { OrderEntity } from './entities/order.entity';
import { ORDERS_OPTIONS, ordersOptions } from './orders.options';
import { OrdersService } from './orders.service';
import { EXECUTION_PORT, FLAT_PORTFOLIO, PORTFOLIO_VIEW } from './orders.tokens';
import { UNAVAILABLE_EXECUTION } from './unavailable-execution.port';

/** The OMS (no resolvers): orders, their state machine and event log, RMS calls. */
@Module({
  imports: [
    TypeOrmModule.forFeature([OrderEntity, OrderEventEntity]),
    InstrumentsModule,
    MarketDataModule,
    RiskModule,
  ],
  providers: [
    { provide: ORDERS_OPTIONS, inject: [APP_CONFIG], useFactory: ordersOptions },
    { provide: EXECUTION_PORT, useValue: UNAVAILABLE_EXECUTION },
    { provide: PORTFOLIO_VIEW, useValue: FLAT_PORTFOLIO },
    OrdersService,
  ],
  exports: [OrdersService, RiskModule],
})
export class OrdersModule {}
