import { ExchangeSegment } from '@app/dhan/types';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { getRepositoryToken } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { Repository } from 'typeorm';
import type { ResolvedAppConfig } from '../src/config/app-config';
import { TradeEntity } from '../src/execution/entities/trade.entity';
import {
  EXECUTION_ORDER_EVENT,
  EXECUTION_RECONCILED,
  type ExecutionOrder,
  type ExecutionOrderEventPayload,
  type ExecutionReconciledPayload,
} from '../src/execution/execution.contract';
import { ExecutionService } from '../src/execution/execution.service';
import { PortfolioService } from '../src/execution/portfolio.service';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { until } from './dhan/helpers';
import { createTestApp, type TestApp } from './utils/test-app';

const configure = (config: ResolvedAppConfig) => ({
  ...config,
  marketData: { tierB: { enabled: false } },
});

/** Every EXECUTION_ORDER_EVENT of the app, in emission order. */
class EventLog {
  readonly events: ExecutionOrderEventPayload[] = [];
  readonly reconciled: ExecutionReconciledPayload[] = [];
  constructor(emitter: EventEmitter2) {
    emitter.on(EXECUTION_ORDER_EVENT, (p: ExecutionOrderEventPayload) => this.events.push(p));
    emitter.on(EXECUTION_RECONCILED, (p: ExecutionReconciledPayload) => this.reconciled.push(p));
  }
  of(orderId: string): ExecutionOrderEventPayload[] {
    return this.events.filter((e) => e.orderId === orderId);
  }
  fills(orderId: string): Array<Extract<ExecutionOrderEventPayload['event'], { type: 'FILL' }>> {
    return this.of(orderId)
      .map((e) => e.event)
      .filter((e) => e.type === 'FILL');
  }
  filledQty(orderId: string): number {
    return this.fills(orderId).reduce((sum, f) => sum + f.quantity, 0);
  }
  lastStatus(orderId: string): string | undefined {
    const updates = this.of(orderId)
      .map((e) => e.event)
      .filter((e) => e.type === 'BROKER_UPDATE');
    return updates.at(-1)?.status;
  }
}

async function anEquity(app: TestApp) {
  const instruments = app.app.get(InstrumentsService);
  await instruments.ready();
  const equity = instruments
    .all()
    .find((i) => i.segment === ExchangeSegment.NSE_EQ && i.instrumentType === 'EQUITY');
  if (!equity) throw new Error('no NSE equity in the simulator universe');
  return equity;
}

function marketBuy(
  userId: string,
  securityId: string,
  quantity: number,
  side: 'BUY' | 'SELL' = 'BUY',
): ExecutionOrder {
  return {
    orderId: randomUUID(),
    userId,
    segment: ExchangeSegment.NSE_EQ,
    securityId,
    side,
    quantity,
    orderType: 'MARKET',
    productType: 'INTRADAY',
    validity: 'DAY',
  };
}

describe('ExecutionService against the embedded simulator (e2e)', () => {
  let app: TestApp;
  let execution: ExecutionService;
  let portfolio: PortfolioService;
  let trades: Repository<TradeEntity>;
  let log: EventLog;
  let securityId: string;

  beforeAll(async () => {
    app = await createTestApp({}, { configure });
    execution = app.app.get(ExecutionService);
    portfolio = app.app.get(PortfolioService);
    trades = app.app.get(getRepositoryToken(TradeEntity));
    log = new EventLog(app.app.get(EventEmitter2));
    await execution.whenReady();
    securityId = (await anEquity(app)).securityId;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('uses the DhanHQ gateway with the embedded simulator and reconciles at startup', () => {
    expect(execution.gatewayKind).toBe('dhan');
    expect(execution.stats.reconciliations).toBeGreaterThanOrEqual(1);
  });

  it('place -> BROKER_UPDATE ... FILL -> trade row -> position', async () => {
    const userId = randomUUID();
    const order = marketBuy(userId, securityId, 10);
    const ack = await execution.place(order);
    expect(ack.brokerOrderId).toMatch(/\S/);
    expect(execution.routeOf(order.orderId)?.brokerOrderId).toBe(ack.brokerOrderId);

    await until(
      () => log.lastStatus(order.orderId) === 'TRADED' && log.filledQty(order.orderId) === 10,
      'the order traded and its fills arrived',
    );
    const types = log.of(order.orderId).map((e) => e.event.type);
    expect(types[0]).toBe('BROKER_UPDATE');
    // Fills are emitted before the update that reports them.
    expect(types.lastIndexOf('FILL')).toBeLessThan(types.lastIndexOf('BROKER_UPDATE'));
    expect(log.of(order.orderId).every((e) => e.userId === userId)).toBe(true);

    const rows = await trades.findBy({ orderId: order.orderId });
    expect(rows.reduce((s, r) => s + r.quantity, 0)).toBe(10);
    expect(rows.map((r) => r.exchangeTradeId).sort()).toEqual(
      log
        .fills(order.orderId)
        .map((f) => f.tradeId)
        .sort(),
    );

    const [position] = portfolio.positions(userId);
    expect(position.view.netQuantity).toBe(10);
    expect(position.view.buyQuantity).toBe(10);
    const snapshot = portfolio.riskSnapshot(userId, ExchangeSegment.NSE_EQ, securityId, 'INTRADAY');
    expect(snapshot.netQuantity).toBe(10);
    expect(snapshot.grossExposurePaise).toBeGreaterThan(0);
    expect((await portfolio.trades(userId)).length).toBe(rows.length);
  });
});
