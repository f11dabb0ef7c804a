import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminModule } from '../admin/admin.module';
import { AuthCoreModule } from '../auth/auth-core.module';
import { APP_CONFIG } from '../config/app-config';
import { FundsAccountEntity } from './entities/funds-account.entity';
import { RiskLimitsEntity } from './entities/risk-limits.entity';
import { TradingStateEntity } from './entities/trading-state.entity';
import { RiskAdminResolver } from './risk-admin.resolver';
import { RiskEngine } from './risk-engine';
import { RISK_OPTIONS, riskOptions } from './risk.options';
import { RiskService } from './risk.service';

/** The tables RMS owns: a harness that builds RiskService on its own database lists these. */
export const RISK_ENTITIES = [RiskLimitsEntity, TradingStateEntity, FundsAccountEntity];

/** RMS: the engine, limits, trading states and paper funds (no resolvers). */
@Module({
  imports: [TypeOrmModule.forFeature(RISK_ENTITIES)],
  providers: [
    { provide: RISK_OPTIONS, inject: [APP_CONFIG], useFactory: riskOptions },
    RiskEngine,
    RiskService,
  ],
  exports: [RiskService],
})
export class RiskModule {}

/** Admin schema: riskLimits, setRiskLimits, setTradingState (audited). */
@Module({
  imports: [RiskModule, AdminModule, AuthCoreModule],
  providers: [RiskAdminResolver],
})
export class RiskAdminModule {}
