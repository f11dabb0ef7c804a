import type { BrokerStatus } from '../../trading/order-status';
import type { ExecutionAck, ExecutionModify, ExecutionOrder } from '../execution.contract';

/** DI token of the gateway chosen at boot (DhanHQ or paper). */
export const BROKER_GATEWAY = Symbol('BROKER_GATEWAY');

/** What the broker says about one order (order book row, order-update alert, lookup). */
export interface BrokerOrderState {
  brokerOrderId: string;
  correlationId?: string;
  status: BrokerStatus;
  quantity?: number;
  /** Cumulative filled quantity. */
  filledQuantity?: number;
  /** Rupees. */
  averagePrice?: number;
  reason?: string;
}

/** One exchange trade of one of our orders. */
export interface BrokerTrade {
  brokerOrderId: string;
  /** Unique per segment. */
  exchangeTradeId: string;
  quantity: number;
  /** Rupees. */
  price: number;
  tradedAt: Date;
}

export type GatewayUpdateSource = 'socket' | 'paper';

/** How a gateway reports what happens to orders after the request. */
export interface GatewayListener {
  /** An order changed (socket alert, paper engine). */
  orderUpdate(update: BrokerOrderState, source: GatewayUpdateSource): void;
  /** A trade pushed by the gateway itself (paper); DhanHQ trades are fetched instead. */
  trade(trade: BrokerTrade, source: GatewayUpdateSource): void;
  /** The order-update stream came back after a drop: updates may have been missed. */
  reconnected(): void;
}

/**
 * A broker adapter. Every command throws ExecutionRejectedError, ExecutionAmbiguousError or
 * ExecutionUnavailableError (the contract's errors), never the transport's own.
 */
export interface BrokerGateway {
  readonly kind: 'dhan' | 'paper';
  start(listener: GatewayListener): Promise<void>;
  stop(): Promise<void>;
  /**
   * Closes the update stream and keeps it closed (this instance lost the leadership); commands
   * still work. `resumeStream` opens it again; its reconnect reconciles.
   */
  suspendStream?(): Promise<void>;
  resumeStream?(): void;
  place(order: ExecutionOrder, correlationId: string): Promise<ExecutionAck>;
  modify(brokerOrderId: string, change: ExecutionModify): Promise<void>;
  cancel(brokerOrderId: string): Promise<void>;
  /**
   * The order the broker has under this id; undefined when it knows none. Before acting on an
   * id learned earlier, check the answer's correlationId: a broker that lost its books (a
   * restarted simulator) may have given the id to another order.
   */
  order(brokerOrderId: string): Promise<BrokerOrderState | undefined>;
  /** The order carrying this correlationId; undefined when the broker does not know it. */
  lookup(correlationId: string): Promise<BrokerOrderState | undefined>;
  tradesOf(brokerOrderId: string): Promise<BrokerTrade[]>;
  /** The whole day's order book and trade book. */
  book(): Promise<{ orders: BrokerOrderState[]; trades: BrokerTrade[] }>;
  /** True while the order-update stream is connected (paper: always). */
  readonly streaming: boolean;
  /**
   * The broker's own kill switch (DhanHQ: trading disabled for the rest of the day); paper has
   * none. Returns whether it is active afterwards / now.
   */
  setKillSwitch?(active: boolean): Promise<boolean>;
  killSwitchActive?(): Promise<boolean>;
}
