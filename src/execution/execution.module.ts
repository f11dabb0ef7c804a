import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminModule } from '../admin/admin.module';
import { AuthCoreModule } from '../auth/auth-core.module';
import { LeaderStatus } from '../cluster/leader-status';
import { LeadershipService } from '../cluster/leadership.service';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../dhan/dhan-endpoints';
import { ReadinessRegistry } from '../health/readiness.registry';
import { InstrumentsModule } from '../instruments/instruments.module';
import { MarketDataModule } from '../market-data/market-data.module';
import { MarketDataService } from '../market-data/market-data.service';
import { ExecutionOrderEntity } from './entities/execution-order.entity';
import { PositionCarryEntity } from './entities/position-carry.entity';
import { TradeEntity } from './entities/trade.entity';
import { ExecutionAdminResolver } from './execution-admin.resolver';
import { ExecutionMetrics } from './execution.metrics';
import { ExecutionResolver } from './execution.resolver';
import { ExecutionService } from './execution.service';
import { BROKER_GATEWAY, type BrokerGateway } from './gateway/broker-gateway';
import { DhanGateway } from './gateway/dhan.gateway';
import { PaperGateway } from './gateway/paper.gateway';
import { PortfolioService } from './portfolio.service';

/**
 * The gateway for this configuration. The embedded simulator (no DhanHQ credentials) always
 * gets the DhanHQ gateway, so the real code path runs every day; with live market data,
 * EXECUTION_MODE=live sends to DhanHQ and EXECUTION_MODE=paper fills against live ticks.
 */
export function chooseGateway(
  config: ResolvedAppConfig,
  endpoints: DhanEndpoints,
): 'dhan' | 'paper' {
  if (endpoints.mode === 'simulator') return 'dhan';
  return config.execution.mode === 'live' ? 'dhan' : 'paper';
}

export function createGateway(
  config: ResolvedAppConfig,
  endpoints: DhanEndpoints,
  marketData: MarketDataService,
  readiness?: ReadinessRegistry,
  leadership?: LeadershipService,
  leaderStatus?: LeaderStatus,
): BrokerGateway {
  const kind = chooseGateway(config, endpoints);
  new Logger(ExecutionModule.name).log({
    msg: 'execution gateway chosen',
    gateway: kind,
    dhan: endpoints.mode,
    executionMode: config.execution.mode,
  });
  if (kind === 'paper') return new PaperGateway(marketData);
  const account = config.execution.governor.account;
  // Only the leader holds the order-update socket, checked before every connection attempt.
  const gateway = new DhanGateway(endpoints, {
    algoId: config.execution.algoId,
    orderLimits: [
      { limit: account.perSecond, intervalMs: 1_000 },
      { limit: account.perMinute, intervalMs: 60_000 },
      { limit: account.perHour, intervalMs: 3_600_000 },
      { limit: account.perDay, intervalMs: 86_400_000 },
    ],
    ...(leadership ? { mayConnect: () => leadership.isLeader() } : {}),
  });
  // A follower is as ready as the leader's socket (heard through Redis).
  leaderStatus?.report('order-updates', () => gateway.streaming);
  // Orders can reach DhanHQ: readiness waits for the order-update socket too.
  readiness?.register('order-updates', async () => {
    if (gateway.streaming) return true;
    if (leadership && !leadership.isLeader()) {
      if (leaderStatus?.fact('order-updates') === true) return true;
      return { up: false, reason: 'follower: the leader instance holds the order-update socket' };
    }
    const token = endpoints.token.status();
    return {
      up: false,
      reason:
        token.state === 'REFUSED'
          ? `paused: DhanHQ refused the access token (${token.refusedReason ?? ''})`
          : `order-update socket ${gateway.socketState}`,
      ...(token.refusedSince !== undefined ? { since: token.refusedSince } : {}),
    };
  });
  return gateway;
}

/** The EMS: gateways, routing record, order updates, reconciliation, trades and positions. */
@Module({
  imports: [
    TypeOrmModule.forFeature([ExecutionOrderEntity, TradeEntity, PositionCarryEntity]),
    MarketDataModule,
  ],
  providers: [
    {
      provide: BROKER_GATEWAY,
      inject: [
        APP_CONFIG,
        DHAN_ENDPOINTS,
        MarketDataService,
        ReadinessRegistry,
        { token: LeadershipService, optional: true },
        { token: LeaderStatus, optional: true },
      ],
      useFactory: createGateway,
    },
    PortfolioService,
    ExecutionService,
    ExecutionMetrics,
  ],
  exports: [ExecutionService, PortfolioService],
})
export class ExecutionModule {}

/** User schema: trades, positions, positionUpdates (each caller sees only their own). */
@Module({
  imports: [ExecutionModule, InstrumentsModule],
  providers: [ExecutionResolver],
})
export class ExecutionGraphqlModule {}

/** Admin schema: reconcileOrders (audited). */
@Module({
  imports: [ExecutionModule, AdminModule, AuthCoreModule],
  providers: [ExecutionAdminResolver],
})
export class ExecutionAdminModule {}
