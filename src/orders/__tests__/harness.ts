import {
  TRADE_STORED,
  type TradeRecord,
  type TradeStoredPayload,
} from '../../execution/execution.events';
import { ExchangeSegment, type Instrument } from '@app/dhan/types';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../../config/app-config';
import { buildDataSourceOptions } from '../../database/data-source-options';
import { serialiseSqliteAccess } from '../../database/sqlite-serial';
import {
  EXECUTION_ORDER_EVENT,
  ExecutionAmbiguousError,
  ExecutionRejectedError,
  ExecutionUnavailableError,
  type ExecutionAck,
  type ExecutionLookup,
  type ExecutionModify,
  type ExecutionOrder,
  type ExecutionOrderEventPayload,
  type ExecutionPort,
} from '../../execution/execution.contract';
import { Clock, SystemClock } from '../../common/clock';
import { MetricsService } from '../../health/metrics.service';
import { InstrumentsService } from '../../instruments/instruments.service';
import { MarketDataService } from '../../market-data/market-data.service';
import type { SubscriptionReference } from '../../market-data/feed/subscription-registry';
import {
  PORTFOLIO_VIEW,
  type PortfolioView,
  type RiskAccountSnapshot,
} from '../../risk/portfolio-view';
import { RISK_ENTITIES, RISK_PROVIDERS } from '../../risk/risk.module';
import { RISK_OPTIONS } from '../../risk/risk.options';
import { RiskService } from '../../risk/risk.service';
import { OrderStatus } from '../../trading/order-status';
import { OrderEventEntity } from '../entities/order-event.entity';
import { OrderEntity } from '../entities/order.entity';
import type { PlaceOrderCommand } from '../order-terms';
import { ORDERS_UPDATED, type OrderUpdatedEvent } from '../orders.events';
import { DEFAULT_ORDERS_OPTIONS, ORDERS_OPTIONS, type OrdersOptions } from '../orders.options';
import { OMS_PROVIDERS } from '../orders.module';
import { OrdersService } from '../orders.service';
import { EXECUTION_PORT } from '../orders.tokens';

export const RELIANCE: Instrument = {
  segment: ExchangeSegment.NSE_EQ,
  securityId: '2885',
  exchange: 'NSE',
  instrumentType: 'EQUITY',
  symbol: 'RELIANCE',
  displayName: 'Reliance Industries',
  lotSize: 1,
  tickSize: 0.05,
};

export const NIFTY_FUT: Instrument = {
  segment: ExchangeSegment.NSE_FNO,
  securityId: '35001',
  exchange: 'NSE',
  instrumentType: 'FUTIDX',
  symbol: 'NIFTY-Dec2099-FUT',
  displayName: 'NIFTY DEC FUT',
  underlying: 'NIFTY',
  expiry: '2099-12-29',
  lotSize: 75,
  tickSize: 0.1,
};

export const NIFTY_INDEX: Instrument = {
  segment: ExchangeSegment.IDX_I,
  securityId: '13',
  exchange: 'NSE',
  instrumentType: 'INDEX',
  symbol: 'NIFTY',
  displayName: 'Nifty 50',
  lotSize: 1,
  tickSize: 0.05,
};

type PlaceBehaviour = (order: ExecutionOrder, call: number) => Promise<ExecutionAck>;

/**
 * An in-memory ExecutionPort: remembers what was placed (by our order id, like the broker's
 * correlationId book), acknowledges with TRANSIT unless told otherwise.
 */
export class FakeExecutionPort implements ExecutionPort {
  readonly gatewayKind = 'paper' as const;
  readonly placed: ExecutionOrder[] = [];
  readonly modified: Array<{ orderId: string; change: ExecutionModify }> = [];
  readonly cancelled: string[] = [];
  readonly lookups: string[] = [];
  /** Orders the "broker" holds, by our order id. */
  readonly book = new Map<string, { brokerOrderId: string; quantity: number }>();
  onPlace: PlaceBehaviour = (order) => Promise.resolve(this.accept(order));
  onModify: (orderId: string) => Promise<void> = () => Promise.resolve();
  onCancel: (orderId: string) => Promise<void> = () => Promise.resolve();
  lookupFinds = true;
  private seq = 0;

  place(order: ExecutionOrder): Promise<ExecutionAck> {
    this.placed.push(order);
    return this.onPlace(order, this.placed.length);
  }

  /** What a broker does with an order it takes. */
  accept(order: ExecutionOrder): ExecutionAck {
    const brokerOrderId = `B${++this.seq}`;
    this.book.set(order.orderId, { brokerOrderId, quantity: order.quantity });
    return { brokerOrderId, status: OrderStatus.TRANSIT };
  }

  modify(orderId: string, change: ExecutionModify): Promise<void> {
    this.modified.push({ orderId, change });
    return this.onModify(orderId);
  }

  cancel(orderId: string): Promise<void> {
    this.cancelled.push(orderId);
    return this.onCancel(orderId);
  }

  lookup(orderId: string): Promise<ExecutionLookup> {
    this.lookups.push(orderId);
    const held = this.book.get(orderId);
    if (!held || !this.lookupFinds) return Promise.resolve({ found: false });
    return Promise.resolve({
      found: true,
      brokerOrderId: held.brokerOrderId,
      status: OrderStatus.PENDING,
      quantity: held.quantity,
      filledQuantity: 0,
    });
  }
}

export { ExecutionAmbiguousError, ExecutionRejectedError, ExecutionUnavailableError };

/** Positions the fake portfolio reports, by `${userId}:${securityId}`. */
export class FakePortfolio implements PortfolioView {
  readonly positions = new Map<string, number>();
  /** The trades "stored" (Harness.storeTrade), which a funds rebuild replays. */
  readonly trades: TradeRecord[] = [];
  dayPnlPaise = 0;

  tradesOf(userId: string): Promise<TradeRecord[]> {
    return Promise.resolve(this.trades.filter((t) => t.userId === userId));
  }

  unrealizedPnlPaise(): number {
    return 0;
  }

  riskSnapshot(userId: string, _segment: string, securityId: string): RiskAccountSnapshot {
    return {
      netQuantity: this.positions.get(`${userId}:${securityId}`) ?? 0,
      grossExposurePaise: 0,
      dayPnlPaise: this.dayPnlPaise,
    };
  }
}

/** The instruments and a live price of Rs 1,000 (RELIANCE) / 24,000 (NIFTY future). */
function fakeMarketData() {
  const held: SubscriptionReference[] = [];
  return {
    held,
    acquire: (refs: readonly SubscriptionReference[]) => {
      held.push(...refs);
      return { added: refs.length };
    },
    release: (refs: readonly SubscriptionReference[]) => {
      for (const r of refs) {
        const i = held.findIndex((h) => h.holderId === r.holderId);
        if (i >= 0) held.splice(i, 1);
      }
      return { released: refs.length, removed: 0 };
    },
    record: (_segment: ExchangeSegment, securityId: string) => ({
      hasData: true,
      stale: false,
      ltp: securityId === NIFTY_FUT.securityId ? 24_000 : 1_000,
      updatedAt: Date.now(),
    }),
    /** No quote answered: circuit limits unknown, as for an instrument only on the feed. */
    circuitLimits: (): { upper: number; lower: number } | undefined => undefined,
  };
}

export interface Harness {
  module: TestingModule;
  orders: OrdersService;
  risk: RiskService;
  port: FakeExecutionPort;
  portfolio: FakePortfolio;
  marketData: ReturnType<typeof fakeMarketData>;
  metrics: MetricsService;
  dataSource: DataSource;
  updates: OrderUpdatedEvent[];
  emitBroker(payload: Omit<ExecutionOrderEventPayload, 'at'>): void;
  /**
   * What execution does when it stores a trade: the trade joins the stored ones and
   * TRADE_STORED goes out (resolves once its listeners, the funds settlement, are done). BUY
   * RELIANCE CNC unless told otherwise; the FILL event is the caller's to send.
   */
  storeTrade(
    trade: Pick<TradeRecord, 'userId' | 'orderId' | 'exchangeTradeId' | 'quantity'> &
      Partial<TradeRecord> & { price: number },
  ): Promise<void>;
  rows(): Promise<OrderEntity[]>;
  eventRows(orderId?: string): Promise<OrderEventEntity[]>;
  close(): Promise<void>;
}

/**
 * The database of a harness: in-memory SQLite, or a fresh PostgreSQL schema when these specs
 * run in the e2e-postgres project (test/orders-service.e2e-spec.ts imports them).
 */
async function harnessDatabase(): Promise<{ config: DatabaseConfig; drop(): Promise<void> }> {
  const engine = (globalThis as { __DATABASE_ENGINE__?: string }).__DATABASE_ENGINE__;
  const url = process.env.TEST_DATABASE_URL;
  if (engine !== 'postgres' || !url) {
    return {
      config: { engine: 'sqlite', url: 'sqlite::memory:', sqlitePath: ':memory:' },
      drop: () => Promise.resolve(),
    };
  }
  return postgresScratchSchema(url, 'oms');
}

/** A fresh PostgreSQL schema on `url` (its config, and how to drop it). */
export async function postgresScratchSchema(
  url: string,
  prefix: string,
): Promise<{ config: DatabaseConfig; drop(): Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const run = async (sql: string) => {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE SCHEMA "${schema}"`);
  return {
    config: { engine: 'postgres', url, schema },
    drop: () => run(`DROP SCHEMA "${schema}" CASCADE`),
  };
}

/**
 * OrdersService and RiskService over a real database (in-memory SQLite, or PostgreSQL in the
 * e2e-postgres project) with the real migrations, the fake port, fake instruments and market data.
 */
export async function createHarness(options: Partial<OrdersOptions> = {}): Promise<Harness> {
  const database = await harnessDatabase();
  const port = new FakeExecutionPort();
  const portfolio = new FakePortfolio();
  const marketData = fakeMarketData();
  const instruments = [RELIANCE, NIFTY_FUT, NIFTY_INDEX];
  const module = await Test.createTestingModule({
    imports: [
      EventEmitterModule.forRoot(),
      // As the app's DatabaseModule makes it: SQLite's one connection serialised (sqlite-serial).
      TypeOrmModule.forRootAsync({
        useFactory: () => ({
          ...buildDataSourceOptions(database.config),
          entities: [OrderEntity, OrderEventEntity, ...RISK_ENTITIES],
        }),
        dataSourceFactory: async (options?: DataSourceOptions) => {
          if (options === undefined) throw new Error('database options missing');
          return serialiseSqliteAccess(await new DataSource(options).initialize());
        },
      }),
      TypeOrmModule.forFeature([OrderEntity, OrderEventEntity, ...RISK_ENTITIES]),
    ],
    providers: [
      MetricsService,
      { provide: Clock, useClass: SystemClock },
      ...RISK_PROVIDERS,
      ...OMS_PROVIDERS,
      { provide: RISK_OPTIONS, useValue: { paperFundsRupees: 1_000_000, charges: false } },
      {
        provide: ORDERS_OPTIONS,
        useValue: {
          ...DEFAULT_ORDERS_OPTIONS,
          lookupBaseMs: 5,
          lookupCapMs: 20,
          notFoundGraceMs: 50,
          sendRetryBaseMs: 5,
          sendRetryCapMs: 20,
          marketPriceWaitMs: 100,
          ...options,
        },
      },
      { provide: EXECUTION_PORT, useValue: port },
      { provide: PORTFOLIO_VIEW, useValue: portfolio },
      {
        provide: InstrumentsService,
        useValue: {
          ready: () => Promise.resolve(),
          get: (segment: string, securityId: string) =>
            instruments.find((i) => i.segment === segment && i.securityId === securityId),
        },
      },
      { provide: MarketDataService, useValue: marketData },
    ],
  }).compile();
  await module.init();
  const orders = module.get(OrdersService);
  await orders.whenRecovered();
  const dataSource = module.get(DataSource);
  const emitter = module.get(EventEmitter2);
  const updates: OrderUpdatedEvent[] = [];
  emitter.on(ORDERS_UPDATED, (e: OrderUpdatedEvent) => updates.push(e));
  return {
    module,
    orders,
    risk: module.get(RiskService),
    port,
    portfolio,
    marketData,
    metrics: module.get(MetricsService),
    dataSource,
    updates,
    emitBroker: (payload) => emitter.emit(EXECUTION_ORDER_EVENT, { ...payload, at: new Date() }),
    storeTrade: async ({ price, ...trade }) => {
      const record: TradeRecord = {
        segment: RELIANCE.segment,
        securityId: RELIANCE.securityId,
        productType: 'CNC',
        side: 'BUY',
        priceUnits: Math.round(price * 10_000),
        tradedAt: new Date(),
        ...trade,
      };
      portfolio.trades.push(record);
      const payload: TradeStoredPayload = { trade: record };
      await emitter.emitAsync(TRADE_STORED, payload);
    },
    rows: () => dataSource.getRepository(OrderEntity).find(),
    eventRows: (orderId) =>
      dataSource
        .getRepository(OrderEventEntity)
        .find({ where: orderId ? { orderId } : {}, order: { seq: 'ASC' } }),
    close: async () => {
      await module.close();
      await database.drop();
    },
  };
}

let keys = 0;

/** BUY 10 RELIANCE LIMIT 1,000 CNC DAY with a fresh clientOrderId. */
export function aPlaceOrder(overrides: Partial<PlaceOrderCommand> = {}): PlaceOrderCommand {
  return {
    clientOrderId: `key-${++keys}`,
    segment: RELIANCE.segment,
    securityId: RELIANCE.securityId,
    side: 'BUY',
    quantity: 10,
    orderType: 'LIMIT',
    productType: 'CNC',
    validity: 'DAY',
    price: 1000,
    ...overrides,
  };
}

/** Resolves once `condition` holds (re-checked on every order update, then every 10 ms). */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  label: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
