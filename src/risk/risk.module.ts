import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminModule } from '../admin/admin.module';
import { AuthCoreModule } from '../auth/auth-core.module';
import { APP_CONFIG } from '../config/app-config';
import { ExecutionModule } from '../execution/execution.module';
import { PortfolioService } from '../execution/portfolio.service';
import { MarketDataModule } from '../market-data/market-data.module';
import { FundsAccountEntity } from './entities/funds-account.entity';
import { FundsEntryEntity } from './entities/funds-entry.entity';
import { FundsService } from './funds.service';
import { InstrumentsModule } from '../instruments/instruments.module';
import { RiskLimitsEntity } from './entities/risk-limits.entity';
import { TradingStateEntity } from './entities/trading-state.entity';
import { RiskAdminResolver } from './risk-admin.resolver';
import { PORTFOLIO_VIEW } from './portfolio-view';
import { RiskEngine } from './risk-engine';
import { RiskFactsService } from './risk-facts.service';
import { RISK_OPTIONS, riskOptions } from './risk.options';
import { RiskService } from './risk.service';

/** The tables RMS owns: a harness that builds RiskService on its own database lists these. */
export const RISK_ENTITIES = [
  RiskLimitsEntity,
  TradingStateEntity,
  FundsAccountEntity,
  FundsEntryEntity,
];

/** RMS's own parts: a harness that builds RiskService lists these (and binds the ports). */
export const RISK_PROVIDERS = [RiskEngine, RiskFactsService, FundsService, RiskService];

/**
 * RMS: the engine, limits, trading states, paper funds and the facts it checks against (the
 * tick store, and positions through PORTFOLIO_VIEW, bound here to execution's PortfolioService);
 * no resolvers.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature(RISK_ENTITIES),
    MarketDataModule,
    ExecutionModule,
    InstrumentsModule,
  ],
  providers: [
    { provide: RISK_OPTIONS, inject: [APP_CONFIG], useFactory: riskOptions },
    { provide: PORTFOLIO_VIEW, useExisting: PortfolioService },
    ...RISK_PROVIDERS,
  ],
  exports: [RiskService, FundsService],
})
export class RiskModule {}

/** Admin schema: riskLimits, setRiskLimits, setTradingState (audited). */
@Module({
  imports: [RiskModule, ExecutionModule, AdminModule, AuthCoreModule],
  providers: [RiskAdminResolver],
})
export class RiskAdminModule {}
