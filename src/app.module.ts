import { type DynamicModule, Logger, Module, type Type } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { GraphQLModule } from '@nestjs/graphql';
import type { MercuriusDriverConfig } from '@nestjs/mercurius';
import { ScheduleModule } from '@nestjs/schedule';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AdminModule } from './admin/admin.module';
import { AlertsGraphqlModule, AlertsModule } from './alerts/alerts.module';
import { DeskAdminModule } from './admin/desk/desk-admin.module';
import { AuthCoreModule } from './auth/auth-core.module';
import { AuthModule } from './auth/auth.module';
import { bearerToken } from './auth/auth.guard';
import { AuthService } from './auth/auth.service';
import { Role } from './auth/role.enum';
import { tokenFromConnectionParams, WsAuthGate } from './auth/ws-auth.gate';
import { ClusterModule } from './cluster/cluster.module';
import { CommonModule } from './common/common.module';
import { buildGraphqlOptions } from './common/graphql/graphql-options';
import { RequestLimiter } from './common/graphql/request-limiter';
import { ScopedMercuriusDriver } from './common/graphql/scoped-mercurius.driver';
import type { GraphQLEndpoint } from './common/graphql/graphql-context';
import { APP_CONFIG, type ResolvedAppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { MarketStatusGraphqlModule } from './calendar/market-status.resolver';
import { DhanAdminModule } from './dhan/broker-token-admin.resolver';
import { DhanModule } from './dhan/dhan.module';
import {
  ExecutionAdminModule,
  ExecutionGraphqlModule,
  ExecutionModule,
} from './execution/execution.module';
import { GraphiqlModule } from './graphiql/graphiql.module';
import { HealthModule } from './health/health.module';
import { MetricsService } from './health/metrics.service';
import { OperationsMetricsModule } from './health/operations-metrics.module';
import { InstrumentsAdminModule } from './instruments/instruments-admin.module';
import { InstrumentsGraphqlModule } from './instruments/instruments-graphql.module';
import { InstrumentsModule } from './instruments/instruments.module';
import {
  MarketDataAdminModule,
  MarketDataGraphqlModule,
  MarketDataModule,
} from './market-data/market-data.module';
import { OrdersAdminModule, OrdersGraphqlModule, OrdersModule } from './orders/orders.module';
import { RiskAdminModule } from './risk/risk.module';
import { SchedulerAdminModule } from './scheduler/scheduler-admin.module';
import { SchedulerModule } from './scheduler/scheduler.module';
import { WatchlistGraphqlModule, WatchlistModule } from './watchlist/watchlist.module';
import { WebModule } from './web/web.module';

/** Feature modules whose resolvers form the user schema (`/graphql`). */
export const USER_GRAPHQL_MODULES: Type[] = [
  AuthModule,
  InstrumentsGraphqlModule,
  MarketDataGraphqlModule,
  WatchlistGraphqlModule,
  OrdersGraphqlModule,
  ExecutionGraphqlModule,
  MarketStatusGraphqlModule,
  AlertsGraphqlModule,
];
/** Feature modules whose resolvers form the admin schema (`/admin/graphql`). */
export const ADMIN_GRAPHQL_MODULES: Type[] = [
  AdminModule,
  InstrumentsAdminModule,
  MarketDataAdminModule,
  SchedulerAdminModule,
  RiskAdminModule,
  ExecutionAdminModule,
  OrdersAdminModule,
  DeskAdminModule,
  DhanAdminModule,
];
/** Every feature module of the application. */
export const FEATURE_MODULES: Type[] = [
  AuthCoreModule,
  AuthModule,
  AdminModule,
  DhanModule,
  DhanAdminModule,
  InstrumentsModule,
  InstrumentsGraphqlModule,
  InstrumentsAdminModule,
  MarketDataModule,
  MarketDataGraphqlModule,
  MarketDataAdminModule,
  WatchlistModule,
  WatchlistGraphqlModule,
  SchedulerModule,
  SchedulerAdminModule,
  ExecutionModule,
  ExecutionGraphqlModule,
  ExecutionAdminModule,
  OrdersModule,
  OrdersGraphqlModule,
  OrdersAdminModule,
  AlertsModule,
  AlertsGraphqlModule,
  MarketStatusGraphqlModule,
  RiskAdminModule,
  DeskAdminModule,
  OperationsMetricsModule,
];

export const GRAPHQL_PATHS = { user: '/graphql', admin: '/admin/graphql' } as const;

/**
 * Schemas are written at boot outside production, into the source tree, so schema changes show
 * in review; only when run from a checkout (elsewhere they stay in memory).
 */
function schemaFile(endpoint: GraphQLEndpoint): string | undefined {
  const root = process.cwd();
  if (!fs.existsSync(path.join(root, 'src', 'app.module.ts'))) return undefined;
  return endpoint === 'user'
    ? path.join(root, 'src/schema.graphql')
    : path.join(root, 'src/admin/admin-schema.graphql');
}

function graphqlEndpoint(endpoint: GraphQLEndpoint, include: Type[]): DynamicModule {
  const logger = new Logger(`GraphQL:${endpoint}`);
  return GraphQLModule.forRootAsync<MercuriusDriverConfig>({
    driver: ScopedMercuriusDriver,
    imports: [AuthCoreModule],
    inject: [APP_CONFIG, WsAuthGate, MetricsService, AuthService, RequestLimiter],
    useFactory: (
      config: ResolvedAppConfig,
      gate: WsAuthGate,
      metrics: MetricsService,
      auth: AuthService,
      limiter: RequestLimiter,
    ) =>
      buildGraphqlOptions({
        endpoint,
        path: GRAPHQL_PATHS[endpoint],
        include,
        schemaFile: schemaFile(endpoint),
        production: config.server.production,
        connectionToken: tokenFromConnectionParams,
        authenticateConnection: (token, target) => gate.authorizeConnection(token, target),
        registerSubscriptions: (schema, rules, depthLimit) =>
          gate.registerSchema(endpoint, { schema, rules, depthLimit }),
        countOperation: (name, type, result) => metrics.countGraphqlOperation(name, type, result),
        logError: (error, message) => logger.error({ msg: message, err: error }),
        logRefusal: ({ code, message, path }) =>
          logger.log({ msg: 'GraphQL operation refused', code, reason: message, path }),
        identifyCaller: async (authorization) => {
          const token = bearerToken(authorization);
          if (!token) return undefined;
          const user = await auth.authenticate(token);
          return { id: user.id, admin: user.role === Role.ADMIN };
        },
        admit: (caller) => limiter.admit(caller),
        executionBudgetMs: config.requestLimits.executionBudgetMs,
      }),
  });
}

@Module({})
export class AppModule {
  static forRoot(config: ResolvedAppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        // Every orderUpdates/positionUpdates subscription is a listener: as many as the
        // WebSocket gate admits, so no "possible leak" warning at the 11th.
        EventEmitterModule.forRoot({ wildcard: false, maxListeners: 0 }),
        ScheduleModule.forRoot(),
        DatabaseModule,
        HealthModule,
        ClusterModule,
        WebModule,
        ...FEATURE_MODULES,
        graphqlEndpoint('user', USER_GRAPHQL_MODULES),
        graphqlEndpoint('admin', ADMIN_GRAPHQL_MODULES),
        // GraphiQL and introspection are development tools: neither exists in production.
        ...(config.server.production ? [] : [GraphiqlModule]),
      ],
    };
  }
}
