import type { ExchangeSegment } from '@app/dhan/types';
import { FeedMode } from '@app/dhan/types';
import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { MarketDataService } from '../../market-data/market-data.service';
import {
  ReferenceKind,
  type SubscriptionReference,
} from '../../market-data/feed/subscription-registry';
import { OrderStatus, type BrokerStatus } from '../../trading/order-status';
import { rupeesToUnits } from '../../trading/price-units';
import {
  ExecutionRejectedError,
  type ExecutionAck,
  type ExecutionModify,
  type ExecutionOrder,
} from '../execution.contract';
import type {
  BrokerGateway,
  BrokerOrderState,
  BrokerTrade,
  GatewayListener,
} from './broker-gateway';
import { decidePaperFill, type PaperQuote } from './paper-fill-rules';

export type PaperMarketData = Pick<MarketDataService, 'record' | 'acquire' | 'release'>;

interface PaperOrder {
  brokerOrderId: string;
  correlationId: string;
  order: ExecutionOrder;
  status: BrokerStatus;
  quantity: number;
  filled: number;
  /** Sum of fill quantity x price units, for the average. */
  valueUnits: number;
  triggered: boolean;
  reason?: string;
}

export interface PaperGatewayOptions {
  /** How often working orders are checked against the latest ticks, ms. Default 100. */
  matchIntervalMs?: number;
}

/**
 * Paper trading on live prices: orders are acknowledged at once with a generated broker id and
 * filled against the tick store by the simulator's rules (paper-fill-rules.ts), checked on a
 * short timer. Working orders hold an ORDER reference (FULL, for depth) so their prices stay
 * live. Fills become trades with generated unique ids and go through the same trades table and
 * FILL events as DhanHQ's. Working paper orders live in memory: a restart forgets them (their
 * trades are stored).
 */
export class PaperGateway implements BrokerGateway {
  readonly kind = 'paper' as const;
  readonly streaming = true;
  private readonly logger = new Logger(PaperGateway.name);
  private readonly byBrokerId = new Map<string, PaperOrder>();
  private readonly byCorrelation = new Map<string, PaperOrder>();
  private readonly trades: BrokerTrade[] = [];
  private readonly working = new Set<PaperOrder>();
  private listener: GatewayListener | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(
    private readonly marketData: PaperMarketData,
    private readonly options: PaperGatewayOptions = {},
  ) {}

  start(listener: GatewayListener): Promise<void> {
    this.listener = listener;
    this.timer = setInterval(() => this.matchAll(), this.options.matchIntervalMs ?? 100);
    this.timer.unref();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const o of this.working) this.releaseReference(o);
    this.working.clear();
    return Promise.resolve();
  }

  place(order: ExecutionOrder, correlationId: string): Promise<ExecutionAck> {
    const refusal = this.refusal(order.orderType, order.quantity, order.price, order.triggerPrice);
    if (refusal) return Promise.reject(new ExecutionRejectedError(refusal, 'PAPER'));
    const existing = this.byCorrelation.get(correlationId);
    if (existing) {
      return Promise.resolve({ brokerOrderId: existing.brokerOrderId, status: existing.status });
    }
    const paper: PaperOrder = {
      brokerOrderId: `P${Date.now().toString(36)}${(++this.seq).toString(36).padStart(4, '0')}`,
      correlationId,
      order: { ...order },
      status: OrderStatus.PENDING,
      quantity: order.quantity,
      filled: 0,
      valueUnits: 0,
      triggered: false,
    };
    this.byBrokerId.set(paper.brokerOrderId, paper);
    this.byCorrelation.set(correlationId, paper);
    this.working.add(paper);
    try {
      this.marketData.acquire([this.reference(paper)]);
    } catch (error) {
      this.logger.warn({ msg: 'no ORDER reference', err: (error as Error).message });
    }
    // After the caller has the acknowledgement: PENDING, then a first match.
    setImmediate(() => {
      this.publish(paper);
      this.match(paper);
    });
    return Promise.resolve({ brokerOrderId: paper.brokerOrderId, status: OrderStatus.TRANSIT });
  }

  modify(brokerOrderId: string, change: ExecutionModify): Promise<void> {
    const paper = this.byBrokerId.get(brokerOrderId);
    if (!paper) return Promise.reject(new ExecutionRejectedError('unknown order', 'PAPER'));
    if (!this.working.has(paper)) {
      return Promise.reject(new ExecutionRejectedError(`order is ${paper.status}`, 'PAPER'));
    }
    const refusal =
      this.refusal(change.orderType, change.quantity, change.price, change.triggerPrice) ??
      (change.quantity <= paper.filled
        ? `quantity ${change.quantity} not above the ${paper.filled} filled`
        : undefined);
    if (refusal) return Promise.reject(new ExecutionRejectedError(refusal, 'PAPER'));
    paper.order = {
      ...paper.order,
      orderType: change.orderType,
      validity: change.validity,
      quantity: change.quantity,
      price: change.price,
      triggerPrice: change.triggerPrice,
    };
    paper.quantity = change.quantity;
    setImmediate(() => {
      this.publish(paper);
      this.match(paper);
    });
    return Promise.resolve();
  }

  cancel(brokerOrderId: string): Promise<void> {
    const paper = this.byBrokerId.get(brokerOrderId);
    if (!paper) return Promise.reject(new ExecutionRejectedError('unknown order', 'PAPER'));
    if (!this.working.has(paper)) {
      return Promise.reject(new ExecutionRejectedError(`order is ${paper.status}`, 'PAPER'));
    }
    this.finish(paper, OrderStatus.CANCELLED);
    return Promise.resolve();
  }

  order(brokerOrderId: string): Promise<BrokerOrderState | undefined> {
    const paper = this.byBrokerId.get(brokerOrderId);
    return Promise.resolve(paper ? this.stateOf(paper) : undefined);
  }

  lookup(correlationId: string): Promise<BrokerOrderState | undefined> {
    const paper = this.byCorrelation.get(correlationId);
    return Promise.resolve(paper ? this.stateOf(paper) : undefined);
  }

  tradesOf(brokerOrderId: string): Promise<BrokerTrade[]> {
    return Promise.resolve(this.trades.filter((t) => t.brokerOrderId === brokerOrderId));
  }

  book(): Promise<{ orders: BrokerOrderState[]; trades: BrokerTrade[] }> {
    return Promise.resolve({
      orders: [...this.byBrokerId.values()].map((p) => this.stateOf(p)),
      trades: [...this.trades],
    });
  }

  /** One pass over the working orders (the timer's job; tests call it directly). */
  matchAll(): void {
    for (const paper of [...this.working]) this.match(paper);
  }

  private match(paper: PaperOrder): void {
    if (!this.working.has(paper)) return;
    const o = paper.order;
    const decision = decidePaperFill(
      {
        side: o.side,
        orderType: o.orderType,
        validity: o.validity,
        price: o.price,
        triggerPrice: o.triggerPrice,
        remaining: paper.quantity - paper.filled,
        triggered: paper.triggered,
      },
      this.quote(o.segment, o.securityId),
    );
    paper.triggered = decision.triggered;
    if (decision.fill) {
      const units = rupeesToUnits(decision.fill.price);
      if (units === undefined) return;
      const trade: BrokerTrade = {
        brokerOrderId: paper.brokerOrderId,
        exchangeTradeId: `PT${randomUUID().replace(/-/g, '').slice(0, 24)}`,
        quantity: decision.fill.quantity,
        price: decision.fill.price,
        tradedAt: new Date(),
      };
      paper.filled += trade.quantity;
      paper.valueUnits += trade.quantity * units;
      this.trades.push(trade);
      this.listener?.trade(trade, 'paper');
      if (paper.filled >= paper.quantity) {
        this.finish(paper, OrderStatus.TRADED);
        return;
      }
      paper.status = OrderStatus.PART_TRADED;
      this.publish(paper);
    }
    if (decision.cancelRest) this.finish(paper, OrderStatus.CANCELLED);
  }

  private finish(paper: PaperOrder, status: BrokerStatus): void {
    paper.status = status;
    this.working.delete(paper);
    this.releaseReference(paper);
    this.publish(paper);
  }

  private publish(paper: PaperOrder): void {
    this.listener?.orderUpdate(this.stateOf(paper), 'paper');
  }

  private stateOf(paper: PaperOrder): BrokerOrderState {
    return {
      brokerOrderId: paper.brokerOrderId,
      correlationId: paper.correlationId,
      status: paper.status,
      quantity: paper.quantity,
      filledQuantity: paper.filled,
      ...(paper.filled > 0 ? { averagePrice: paper.valueUnits / paper.filled / 10_000 } : {}),
      ...(paper.reason !== undefined ? { reason: paper.reason } : {}),
    };
  }

  private quote(segment: ExchangeSegment, securityId: string): PaperQuote {
    const record = this.marketData.record(segment, securityId);
    if (!record) return {};
    const quote: PaperQuote = { ltp: record.ltp, stale: record.stale };
    if (record.hasDepth) {
      // Level 1 of TickRecord.depth: bidQty, bidOrders, bidPrice, askQty, askOrders, askPrice.
      quote.bestBid = record.depth[2];
      quote.bestAsk = record.depth[5];
    }
    return quote;
  }

  private refusal(
    orderType: string,
    quantity: number,
    price: number | undefined,
    triggerPrice: number | undefined,
  ): string | undefined {
    if (!Number.isSafeInteger(quantity) || quantity <= 0) return `bad quantity ${quantity}`;
    if ((orderType === 'LIMIT' || orderType === 'STOP_LOSS') && !(price !== undefined && price > 0))
      return `${orderType} needs a price`;
    if (
      (orderType === 'STOP_LOSS' || orderType === 'STOP_LOSS_MARKET') &&
      !(triggerPrice !== undefined && triggerPrice > 0)
    )
      return `${orderType} needs a trigger price`;
    return undefined;
  }

  private reference(paper: PaperOrder): SubscriptionReference {
    return {
      segment: paper.order.segment,
      securityId: paper.order.securityId,
      kind: ReferenceKind.ORDER,
      holderId: `paper:${paper.brokerOrderId}`,
      mode: FeedMode.FULL,
    };
  }

  private releaseReference(paper: PaperOrder): void {
    try {
      this.marketData.release([this.reference(paper)]);
    } catch (error) {
      this.logger.warn({ msg: 'ORDER reference not released', err: (error as Error).message });
    }
  }
}
