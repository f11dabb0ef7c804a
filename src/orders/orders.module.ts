import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG } from '../config/app-config';
import { InstrumentsModule } from '../instruments/instruments.module';
import { ExecutionModule } from '../execution/execution.module';
import { ExecutionService } from '../execution/execution.service';
import { MarketDataModule } from '../market-data/market-data.module';
import { RiskModule } from '../risk/risk.module';
import { OrderEventEntity } from './entities/order-event.entity';
import { OrderEntity } from './entities/order.entity';
import { BasketService } from './baskets/basket.service';
import { BasketsResolver } from './baskets/baskets.resolver';
import { BasketEntity, BasketLegEntity } from './baskets/entities/basket.entity';
import { ORDERS_OPTIONS, ordersOptions } from './orders.options';
import { OrderGovernorService } from './governor/order-governor.service';
import { OrderGovernorMetrics } from './governor/order-governor.metrics';
import { BasketMetrics } from './baskets/basket.metrics';
import { OrderGovernorAdminResolver } from './governor/order-governor-admin.resolver';
import { OrderAdmissionService } from './order-admission.service';
import { OrderAmendmentService } from './order-amendment.service';
import { OrderDispatchService } from './order-dispatch.service';
import { MarketProtectionService } from './market-protection.service';
import { OrderPlacementService } from './order-placement.service';
import { OrderRecoveryService } from './order-recovery.service';
import { OrderReferences } from './order-references';
import { OrderScheduler } from './order-scheduler';
import { OrderSlicingService } from './order-slicing.service';
import { OrderStore } from './order-store';
import { OrdersService } from './orders.service';
import { OrdersResolver } from './orders.resolver';
import { EXECUTION_PORT } from './orders.tokens';

/** The OMS's parts; OrdersService is the one the rest of the application uses. */
export const OMS_PROVIDERS = [
  OrderGovernorService,
  OrderScheduler,
  OrderReferences,
  OrderStore,
  OrderAdmissionService,
  MarketProtectionService,
  OrderDispatchService,
  OrderPlacementService,
  OrderAmendmentService,
  OrderSlicingService,
  OrderRecoveryService,
  OrdersService,
];

/** The OMS (no resolvers): orders, their state machine and event log, RMS calls. */
@Module({
  imports: [
    TypeOrmModule.forFeature([OrderEntity, OrderEventEntity, BasketEntity, BasketLegEntity]),
    InstrumentsModule,
    MarketDataModule,
    RiskModule,
    ExecutionModule,
  ],
  providers: [
    { provide: ORDERS_OPTIONS, inject: [APP_CONFIG], useFactory: ordersOptions },
    { provide: EXECUTION_PORT, useExisting: ExecutionService },
    ...OMS_PROVIDERS,
    OrderGovernorMetrics,
    BasketMetrics,
    BasketService,
  ],
  exports: [OrdersService, OrderGovernorService, BasketService, RiskModule],
})
export class OrdersModule {}

/**
 * User schema: placeOrder, modifyOrder, cancelOrder, orders, order, funds, orderUpdates;
 * placeBasket, cancelBasket, baskets, basket.
 */
@Module({
  imports: [OrdersModule],
  providers: [OrdersResolver, BasketsResolver],
})
export class OrdersGraphqlModule {}

/** Admin schema: orderBudget (the order governor's use per segment and dealer). */
@Module({
  imports: [OrdersModule],
  providers: [OrderGovernorAdminResolver],
})
export class OrdersAdminModule {}
