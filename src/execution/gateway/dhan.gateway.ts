import {
  DhanRestClient,
  OrderUpdateConnection,
  type DhanOrder,
  type DhanTrade,
  type OrderUpdate,
} from '@app/dhan';
import { Logger } from '@nestjs/common';
import type { DhanEndpoints } from '../../dhan/dhan-endpoints';
import { parseBrokerStatus, OrderStatus } from '../../trading/order-status';
import type { ExecutionAck, ExecutionModify, ExecutionOrder } from '../execution.contract';
import type {
  BrokerGateway,
  BrokerOrderState,
  BrokerTrade,
  GatewayListener,
} from './broker-gateway';
import { mapDhanError } from './error-mapping';

/** DhanHQ's IST wall-clock timestamps ("YYYY-MM-DD HH:mm:ss") as instants. */
export function parseIstTime(raw: string | undefined, fallback: Date): Date {
  if (!raw || raw.startsWith('0001')) return fallback;
  const parsed = new Date(`${raw.trim().replace(' ', 'T')}+05:30`);
  return Number.isNaN(parsed.getTime()) ? fallback : parsed;
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined;
}

function textOrUndefined(value: string | undefined): string | undefined {
  return value && value !== 'NA' ? value : undefined;
}

export function orderStateOfBook(order: DhanOrder): BrokerOrderState | undefined {
  const status = parseBrokerStatus(String(order.orderStatus ?? ''));
  if (!status || !order.orderId) return undefined;
  return {
    brokerOrderId: String(order.orderId),
    ...(order.correlationId ? { correlationId: order.correlationId } : {}),
    status,
    quantity: order.quantity,
    filledQuantity: order.filledQty ?? 0,
    averagePrice: positive(order.averageTradedPrice),
    reason:
      status === OrderStatus.REJECTED ? textOrUndefined(order.omsErrorDescription) : undefined,
  };
}

export function orderStateOfAlert(update: OrderUpdate): BrokerOrderState | undefined {
  const status = parseBrokerStatus(update.status);
  if (!status || !update.orderNo) return undefined;
  return {
    brokerOrderId: update.orderNo,
    ...(update.correlationId ? { correlationId: update.correlationId } : {}),
    status,
    quantity: update.quantity,
    filledQuantity: update.tradedQty ?? 0,
    averagePrice: positive(update.avgTradedPrice),
    reason: status === OrderStatus.REJECTED ? textOrUndefined(update.reasonDescription) : undefined,
  };
}

export function tradeOfBook(trade: DhanTrade, now: Date): BrokerTrade | undefined {
  if (!trade.exchangeTradeId || !trade.orderId) return undefined;
  if (!(trade.tradedQuantity > 0) || !(trade.tradedPrice > 0)) return undefined;
  return {
    brokerOrderId: String(trade.orderId),
    exchangeTradeId: String(trade.exchangeTradeId),
    quantity: trade.tradedQuantity,
    price: trade.tradedPrice,
    tradedAt: parseIstTime(trade.exchangeTime ?? trade.createTime, now),
  };
}

/**
 * DhanHQ (or the embedded simulator) over libs/dhan: REST for commands and books, the
 * order-update socket for what happens next. The token is read from the endpoints before every
 * request and connect, so a rotated token is used at once.
 */
export class DhanGateway implements BrokerGateway {
  readonly kind = 'dhan' as const;
  private readonly logger = new Logger(DhanGateway.name);
  private readonly rest: DhanRestClient;
  private readonly socket: OrderUpdateConnection;
  private connectedOnce = false;
  private firstConnect: Promise<void>;
  private resolveFirstConnect!: () => void;

  private readonly settleMs: number;
  private readonly algoId: string | undefined;
  private readonly mayConnect: (() => boolean) | undefined;

  /**
   * `settleMs`: wait after the socket opens before reading the books, so the read happens after
   * the server took the login (DhanHQ has no login acknowledgement); what happens before is in
   * the books, what happens after comes on the socket (a trade seen both ways is stored once).
   */
  constructor(
    private readonly endpoints: DhanEndpoints,
    options: {
      timeoutMs?: number;
      settleMs?: number;
      /** The account's order windows (DHAN_ORDER_LIMITS); the client's limiter backs the governor. */
      orderLimits?: ReadonlyArray<{ limit: number; intervalMs: number }>;
      /** DHAN_ALGO_ID: carried by every order placed. */
      algoId?: string;
      /** Asked before every order-update connection attempt (only the cluster's leader connects). */
      mayConnect?: () => boolean;
    } = {},
  ) {
    this.settleMs = options.settleMs ?? 250;
    this.algoId = options.algoId;
    this.mayConnect = options.mayConnect;
    this.rest = new DhanRestClient({
      baseUrl: endpoints.apiUrl,
      clientId: endpoints.clientId,
      token: () => endpoints.accessToken(),
      timeoutMs: options.timeoutMs ?? 10_000,
      ...(options.orderLimits ? { rateLimit: { limits: { order: options.orderLimits } } } : {}),
    });
    this.socket = new OrderUpdateConnection({
      url: endpoints.orderUpdateUrl,
      clientId: endpoints.clientId,
      token: () => endpoints.accessToken(),
      backoff: { baseMs: 200, capMs: 5_000 },
      ...(options.mayConnect ? { mayConnect: options.mayConnect } : {}),
    });
    this.firstConnect = new Promise((resolve) => (this.resolveFirstConnect = resolve));
  }

  get streaming(): boolean {
    return this.socket.state === 'open';
  }

  async start(listener: GatewayListener): Promise<void> {
    this.socket.on('update', (update) => {
      // An update read after this instance lost the lead (buffered while it was paused) is
      // the new leader's to ingest.
      if (this.mayConnect && !this.mayConnect()) return;
      const state = orderStateOfAlert(update);
      if (state) listener.orderUpdate(state, 'socket');
    });
    this.socket.on('connected', () => {
      const first = !this.connectedOnce;
      this.connectedOnce = true;
      setTimeout(() => {
        if (first) {
          this.resolveFirstConnect();
          return;
        }
        this.logger.log({ msg: 'order-update socket reconnected; reconciling' });
        listener.reconnected();
      }, this.settleMs).unref();
    });
    this.socket.on('disconnected', (info) =>
      this.logger.warn({ msg: 'order-update socket down', ...info }),
    );
    this.socket.on('error', (err) =>
      this.logger.warn({ msg: 'order-update socket error', err: err.message }),
    );
    this.socket.on('fatal', (info) => {
      this.logger.error({ msg: 'order-update socket refused', ...info });
      // A refused login or handshake is the token's fault: the whole process pauses on it.
      if (info.auth) {
        if (this.socket.lastToken !== this.endpoints.accessToken()) {
          this.socket.resume();
          return;
        }
        this.endpoints.token.refused(info.message);
      }
    });
    this.endpoints.token.on('refused', this.pause);
    this.endpoints.token.on('changed', this.resumeAfterRefusal);
    if (this.endpoints.token.paused) return;
    this.socket.start();
    // Startup reconciliation runs once the stream is up (or after a bounded wait), so nothing
    // that happens between the book read and the socket login is lost.
    await Promise.race([this.firstConnect, new Promise((r) => setTimeout(r, 5_000).unref())]);
  }

  /** DhanHQ refused the token: the socket stays down (no retries) until a new one arrives. */
  private readonly pause = (): void => {
    this.logger.warn({ msg: 'order-update socket paused: DhanHQ refused the access token' });
    void this.socket.stop();
  };

  /** A new token after a refusal: reconnect; the reconnect reconciles the order book. */
  private readonly resumeAfterRefusal = (change: { wasRefused: boolean }): void => {
    if (!change.wasRefused) return;
    this.logger.log({ msg: 'order-update socket resuming with a new access token' });
    if (!this.connectedOnce) this.connectedOnce = true;
    this.socket.resume();
  };

  async suspendStream(): Promise<void> {
    this.logger.warn({ msg: 'order-update socket closed: this instance no longer leads' });
    await this.socket.stop();
  }

  resumeStream(): void {
    if (this.endpoints.token.paused) return;
    if (!this.connectedOnce) this.connectedOnce = true;
    this.socket.resume();
  }

  /** The socket's state, `paused` while DhanHQ refuses the token. */
  get socketState(): string {
    const state = this.socket.state;
    return this.endpoints.token.paused && state !== 'open' ? 'paused' : state;
  }

  async stop(): Promise<void> {
    this.endpoints.token.off('refused', this.pause);
    this.endpoints.token.off('changed', this.resumeAfterRefusal);
    await this.socket.stop();
    await this.rest.close();
  }

  async place(order: ExecutionOrder, correlationId: string): Promise<ExecutionAck> {
    try {
      const ack = await this.rest.placeOrder({
        correlationId,
        transactionType: order.side,
        exchangeSegment: order.segment,
        productType: order.productType,
        orderType: order.orderType,
        validity: order.validity,
        securityId: order.securityId,
        quantity: order.quantity,
        price: order.price,
        triggerPrice: order.triggerPrice,
        boProfitValue: order.boProfitValue,
        boStopLossValue: order.boStopLossValue,
        ...(this.algoId !== undefined ? { algoId: this.algoId } : {}),
      });
      const status = parseBrokerStatus(String(ack.orderStatus ?? ''));
      return { brokerOrderId: String(ack.orderId), ...(status ? { status } : {}) };
    } catch (error) {
      throw mapDhanError(error, true);
    }
  }

  async modify(brokerOrderId: string, change: ExecutionModify): Promise<void> {
    try {
      await this.rest.modifyOrder(brokerOrderId, {
        orderType: change.orderType,
        validity: change.validity,
        quantity: change.quantity,
        price: change.price,
        triggerPrice: change.triggerPrice,
      });
    } catch (error) {
      throw mapDhanError(error, true);
    }
  }

  async setKillSwitch(active: boolean): Promise<boolean> {
    try {
      await this.rest.setKillSwitch(active ? 'ACTIVATE' : 'DEACTIVATE');
    } catch (error) {
      throw mapDhanError(error, true);
    }
    return this.killSwitchActive();
  }

  async killSwitchActive(): Promise<boolean> {
    try {
      const answer = await this.rest.getKillSwitch();
      return /^activ/i.test(answer.killSwitchStatus);
    } catch (error) {
      throw mapDhanError(error, false);
    }
  }

  async cancel(brokerOrderId: string): Promise<void> {
    try {
      await this.rest.cancelOrder(brokerOrderId);
    } catch (error) {
      throw mapDhanError(error, true);
    }
  }

  async order(brokerOrderId: string): Promise<BrokerOrderState | undefined> {
    try {
      const order = await this.rest.getOrder(brokerOrderId);
      return order ? orderStateOfBook(order) : undefined;
    } catch (error) {
      throw mapDhanError(error, false);
    }
  }

  async lookup(correlationId: string): Promise<BrokerOrderState | undefined> {
    try {
      const orders = await this.rest.getOrderByCorrelationId(correlationId);
      const states = orders.map(orderStateOfBook).filter((s) => s !== undefined);
      return states[0];
    } catch (error) {
      throw mapDhanError(error, false);
    }
  }

  async tradesOf(brokerOrderId: string): Promise<BrokerTrade[]> {
    try {
      const now = new Date();
      return (await this.rest.getTradesOfOrder(brokerOrderId))
        .map((t) => tradeOfBook(t, now))
        .filter((t) => t !== undefined);
    } catch (error) {
      throw mapDhanError(error, false);
    }
  }

  async book(): Promise<{ orders: BrokerOrderState[]; trades: BrokerTrade[] }> {
    try {
      const [orders, trades] = await Promise.all([this.rest.getOrders(), this.rest.getTrades()]);
      const now = new Date();
      return {
        orders: orders.map(orderStateOfBook).filter((s) => s !== undefined),
        trades: trades.map((t) => tradeOfBook(t, now)).filter((t) => t !== undefined),
      };
    } catch (error) {
      throw mapDhanError(error, false);
    }
  }
}
