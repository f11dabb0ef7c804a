import { Module } from '@nestjs/common';
import { AuthCoreModule } from '../../auth/auth-core.module';
import { ExecutionModule } from '../../execution/execution.module';
import { InstrumentsModule } from '../../instruments/instruments.module';
import { MarketDataModule } from '../../market-data/market-data.module';
import { OrdersModule } from '../../orders/orders.module';
import { AdminModule } from '../admin.module';
import { DeskResolver } from './desk.resolver';
import { DeskService } from './desk.service';

/**
 * Admin schema: the risk desk (every dealer's orders, trades, positions, the desk summary and
 * its subscriptions, cancel / square-off / funds on a dealer's behalf). Imports only modules
 * without user-schema resolvers.
 */
@Module({
  imports: [
    OrdersModule,
    ExecutionModule,
    InstrumentsModule,
    MarketDataModule,
    AdminModule,
    AuthCoreModule,
  ],
  providers: [DeskService, DeskResolver],
})
export class DeskAdminModule {}
