import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { Repository } from 'typeorm';
import { QueryFailedError } from 'typeorm';
import { LeadershipService, standaloneLeadership } from '../cluster/leadership.service';
import { EntityRows } from '../database/entity-rows';
import { OrderStatus, type BrokerStatus } from '../trading/order-status';
import { rupeesToUnits } from '../trading/price-units';
import { correlationIdFor } from './domain';
import { ExecutionOrderEntity } from './entities/execution-order.entity';
import { TradeEntity } from './entities/trade.entity';
import { TRADE_STORED, type TradeStoredPayload } from './execution.events';
import {
  EXECUTION_ORDER_EVENT,
  EXECUTION_RECONCILED,
  ExecutionRejectedError,
  type ExecutionAck,
  type ExecutionLookup,
  type ExecutionModify,
  type ExecutionOrder,
  type ExecutionOrderEventPayload,
  type ExecutionPort,
  type ExecutionReconciledPayload,
} from './execution.contract';
import {
  BROKER_GATEWAY,
  type BrokerGateway,
  type BrokerOrderState,
  type BrokerTrade,
  type GatewayListener,
  type GatewayUpdateSource,
} from './gateway/broker-gateway';
import { PortfolioService, toTradeRecord } from './portfolio.service';

type EventSource = ExecutionOrderEventPayload['source'];

export const TRADE_CATCH_UP_DELAYS_MS: readonly number[] = [100, 200, 400, 800];

export interface ExecutionStats {
  updates: number;
  unmatchedUpdates: number;
  tradesAdded: number;
  duplicateTrades: number;
  reconciliations: number;
  /**
   * Broker answers about an id or correlationId of ours that carried another order's
   * correlationId (a broker that lost its books reused the id): never applied, never acted on.
   */
  foreignBrokerOrders: number;
}

/** Unique-index violation on SQLite or PostgreSQL. */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = (error as QueryFailedError & { driverError?: { code?: string } }).driverError;
  const code = driverError?.code ?? '';
  return (
    code === '23505' ||
    code.startsWith('SQLITE_CONSTRAINT') ||
    /UNIQUE constraint failed/i.test(error.message)
  );
}

/** Code of the refusal when the broker does not know (or no longer knows) one of our orders. */
export const UNKNOWN_TO_BROKER = 'UNKNOWN_TO_BROKER';

function unknownToBroker(orderId: string): ExecutionRejectedError {
  return new ExecutionRejectedError(
    `order ${orderId} is unknown to the broker (it may have lost its order book)`,
    UNKNOWN_TO_BROKER,
  );
}

/**
 * The EMS: sends our orders through the chosen gateway, keeps the routing record (written
 * before the request leaves), turns the broker's updates into EXECUTION_ORDER_EVENTs carrying
 * our order id, stores each exchange trade exactly once (unique index) and feeds positions.
 * Reconciles the whole day's book at startup, after every order-update reconnect and on demand.
 */
@Injectable()
export class ExecutionService
  implements ExecutionPort, OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(ExecutionService.name);
  private readonly routes = new Map<string, ExecutionOrderEntity>();
  private readonly byBroker = new Map<string, string>();
  private readonly byCorrelation = new Map<string, string>();
  /** Updates and trades no record in memory matched, looked up in the database in turn. */
  private misses: Promise<void> = Promise.resolve();
  /** Sum of stored trade quantities per order. */
  private readonly tradedQty = new Map<string, number>();
  /** Per-order chain, so an order's fills and updates are handled one at a time, in order. */
  private readonly queues = new Map<string, Promise<void>>();
  private reconcileChain: Promise<unknown> = Promise.resolve();
  private ready: Promise<void> = Promise.resolve();
  private stopped = false;
  private gatewayStarted = false;
  private listener: GatewayListener | undefined;
  private readonly leadership: LeadershipService;
  /** Waits before fetching an order's trades again when the trade book lags its alert. */
  catchUpDelaysMs: readonly number[] = TRADE_CATCH_UP_DELAYS_MS;
  readonly stats: ExecutionStats = {
    updates: 0,
    unmatchedUpdates: 0,
    tradesAdded: 0,
    duplicateTrades: 0,
    reconciliations: 0,
    foreignBrokerOrders: 0,
  };

  constructor(
    @InjectRepository(ExecutionOrderEntity)
    private readonly orders: Repository<ExecutionOrderEntity>,
    @InjectRepository(TradeEntity) private readonly tradeRows: Repository<TradeEntity>,
    @Inject(BROKER_GATEWAY) private readonly gateway: BrokerGateway,
    private readonly portfolio: PortfolioService,
    private readonly events: EventEmitter2,
    @Optional() leadership?: LeadershipService,
  ) {
    this.leadership = leadership ?? standaloneLeadership();
  }

  get gatewayKind(): 'dhan' | 'paper' {
    return this.gateway.kind;
  }

  /**
   * The broker's kill switch: 'ACTIVE' / 'INACTIVE', or 'NOT_APPLICABLE' on the paper gateway
   * (no broker account to stop). A refused or unanswered call throws the contract errors.
   */
  async setBrokerKillSwitch(active: boolean): Promise<BrokerKillSwitch> {
    if (!this.gateway.setKillSwitch) return 'NOT_APPLICABLE';
    return (await this.gateway.setKillSwitch(active)) ? 'ACTIVE' : 'INACTIVE';
  }

  async brokerKillSwitch(): Promise<BrokerKillSwitch> {
    if (!this.gateway.killSwitchActive) return 'NOT_APPLICABLE';
    return (await this.gateway.killSwitchActive()) ? 'ACTIVE' : 'INACTIVE';
  }

  /** True while the gateway's order-update stream is connected. */
  get streaming(): boolean {
    return this.gateway.streaming;
  }

  async onModuleInit(): Promise<void> {
    for (const route of await this.orders.find()) this.remember(route);
    const sums = await this.tradeRows
      .createQueryBuilder('t')
      .select('t.order_id', 'orderId')
      .addSelect('SUM(t.quantity)', 'qty')
      .groupBy('t.order_id')
      .getRawMany<{ orderId: string; qty: string | number }>();
    for (const s of sums) this.tradedQty.set(s.orderId, Number(s.qty));
  }

  onApplicationBootstrap(): void {
    this.logger.log({ msg: 'execution gateway', gateway: this.gateway.kind });
    const listener: GatewayListener = {
      orderUpdate: (update, source) => this.onOrderUpdate(update, source),
      trade: (trade, source) => this.onGatewayTrade(trade, source),
      reconnected: () => {
        if (this.stopped) return;
        void this.reconcile('reconnect').catch((err: Error) =>
          this.logger.error({ msg: 'reconciliation after reconnect failed', err: err.message }),
        );
      },
    };
    this.listener = listener;
    this.leadership.on('acquired', this.lead);
    this.leadership.on('lost', this.follow);
    // In the background: a slow broker must not hold the server's boot.
    if (this.leadership.isLeader()) this.ready = this.startGateway(listener);
  }

  /** First leadership: the gateway starts, then the startup reconciliation. */
  private startGateway(listener: GatewayListener): Promise<void> {
    this.gatewayStarted = true;
    return this.gateway
      .start(listener)
      .then(() => this.reconcile('startup'))
      .then(
        () => undefined,
        (err: Error) =>
          this.logger.error({ msg: 'startup reconciliation failed', err: err.message }),
      );
  }

  /** Leading (again): the update stream opens; its reconnect reconciles. */
  private readonly lead = (): void => {
    if (this.stopped || this.listener === undefined) return;
    const listener = this.listener;
    this.ready = this.ready.then(() => {
      if (!this.gatewayStarted) return this.startGateway(listener);
      this.gateway.resumeStream?.();
      return undefined;
    });
  };

  /** Following: the update stream closes (the leader's carries the broker's updates). */
  private readonly follow = (): void => {
    if (!this.gatewayStarted) return;
    void this.gateway.suspendStream?.();
  };

  /** Before DhanModule stops the embedded simulator (onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.leadership.off('acquired', this.lead);
    this.leadership.off('lost', this.follow);
    await this.ready;
    await this.reconcileChain.catch(() => undefined);
    await Promise.allSettled([...this.queues.values()]);
    await this.gateway.stop();
  }

  /** Resolves once the gateway started and the startup reconciliation finished (or failed). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  // ---- ExecutionPort -------------------------------------------------------------------------

  async place(order: ExecutionOrder): Promise<ExecutionAck> {
    if (!Number.isSafeInteger(order.quantity) || order.quantity <= 0) {
      throw new ExecutionRejectedError(`bad quantity ${order.quantity}`);
    }
    const route = await this.routeFor(order);
    // The broker already named this order: sending it again would duplicate it.
    if (route.brokerOrderId !== null) return { brokerOrderId: route.brokerOrderId };
    const ack = await this.gateway.place(order, route.correlationId);
    await this.learnBrokerId(route, ack.brokerOrderId);
    return ack;
  }

  async modify(orderId: string, change: ExecutionModify): Promise<void> {
    const brokerOrderId = await this.verifiedBrokerIdOf(orderId, 'modify');
    await this.gateway.modify(brokerOrderId, change);
  }

  async cancel(orderId: string): Promise<void> {
    const brokerOrderId = await this.verifiedBrokerIdOf(orderId, 'cancel');
    await this.gateway.cancel(brokerOrderId);
  }

  async lookup(orderId: string): Promise<ExecutionLookup> {
    const route = await this.storedRoute(orderId);
    if (!route) return { found: false };
    const asked = await this.gateway.lookup(route.correlationId);
    // A broker answering another order for our correlationId: as good as not found.
    const state =
      (asked && this.isOurs(route, asked, 'lookup') ? asked : undefined) ??
      this.lostPaperOrder(route);
    if (!state) return { found: false };
    await this.serial(orderId, async () => {
      await this.learnBrokerId(route, state.brokerOrderId);
      await this.catchUpTrades(route, state, 'lookup');
    });
    return {
      found: true,
      brokerOrderId: state.brokerOrderId,
      status: state.status,
      quantity: state.quantity ?? route.quantity,
      filledQuantity: state.filledQuantity ?? 0,
      ...(state.averagePrice !== undefined ? { averagePrice: state.averagePrice } : {}),
      ...(state.reason !== undefined ? { reason: state.reason } : {}),
    };
  }

  // ---- reconciliation ------------------------------------------------------------------------

  /**
   * Reads the broker's order and trade books and brings ours up to date: a BROKER_UPDATE for
   * each of our orders, each missing trade stored and emitted as a FILL (exactly once), then
   * EXECUTION_RECONCILED. Runs one at a time.
   */
  reconcile(
    reason: ExecutionReconciledPayload['reason'] = 'manual',
  ): Promise<ExecutionReconciledPayload> {
    const run = this.reconcileChain.then(
      () => this.runReconcile(reason),
      () => this.runReconcile(reason),
    );
    this.reconcileChain = run.catch(() => undefined);
    return run;
  }

  private async runReconcile(
    reason: ExecutionReconciledPayload['reason'],
  ): Promise<ExecutionReconciledPayload> {
    // Leader only, fenced: a replaced leader (paused past its lease) must not act on the book.
    await this.leadership.fence();
    const book = await this.gateway.book();
    const tradesByOrder = new Map<string, BrokerTrade[]>();
    for (const t of book.trades) {
      const list = tradesByOrder.get(t.brokerOrderId) ?? [];
      list.push(t);
      tradesByOrder.set(t.brokerOrderId, list);
    }
    let orders = 0;
    let tradesAdded = 0;
    await Promise.all(
      book.orders.map(async (state) => {
        const route = this.resolve(state) ?? (await this.resolveStored(state));
        if (!route) return;
        orders++;
        await this.serial(route.orderId, async () => {
          await this.learnBrokerId(route, state.brokerOrderId);
          for (const trade of tradesByOrder.get(state.brokerOrderId) ?? []) {
            if (await this.storeTrade(route, trade, 'reconciliation', state.status)) tradesAdded++;
          }
          this.emitUpdate(route, state, 'reconciliation');
        });
      }),
    );
    if (reason === 'startup') orders += this.closeLostPaperOrders(book.orders);
    this.stats.reconciliations++;
    const payload: ExecutionReconciledPayload = { reason, orders, tradesAdded };
    this.logger.log({ msg: 'reconciled', ...payload });
    this.events.emit(EXECUTION_RECONCILED, payload);
    return payload;
  }

  /**
   * A paper order acknowledged before a restart that the (in-memory) paper engine no longer
   * knows: it is over, with the fills stored in `trades`. Reported so that the OMS never resends
   * it (a resend could fill it twice).
   */
  private lostPaperOrder(route: ExecutionOrderEntity): BrokerOrderState | undefined {
    if (this.gateway.kind !== 'paper' || route.gateway !== 'paper' || !route.brokerOrderId) {
      return undefined;
    }
    const filled = this.tradedQty.get(route.orderId) ?? 0;
    return {
      brokerOrderId: route.brokerOrderId,
      correlationId: route.correlationId,
      status: filled >= route.quantity ? OrderStatus.TRADED : OrderStatus.CANCELLED,
      filledQuantity: filled,
      reason: 'paper order lost at restart',
    };
  }

  /** At startup: report the last day's acknowledged paper orders the engine forgot. */
  private closeLostPaperOrders(book: readonly BrokerOrderState[]): number {
    if (this.gateway.kind !== 'paper') return 0;
    const known = new Set(book.map((o) => o.brokerOrderId));
    const since = Date.now() - 24 * 3_600_000;
    let closed = 0;
    for (const route of this.routes.values()) {
      if (!route.brokerOrderId || known.has(route.brokerOrderId)) continue;
      if (route.createdAt.getTime() < since) continue;
      const lost = this.lostPaperOrder(route);
      if (!lost) continue;
      this.emitUpdate(route, lost, 'reconciliation');
      closed++;
    }
    return closed;
  }

  // ---- broker updates ------------------------------------------------------------------------

  private onOrderUpdate(state: BrokerOrderState, source: GatewayUpdateSource): void {
    this.stats.updates++;
    const route = this.resolve(state);
    if (!route) {
      // Sent by another instance (REDIS_URL), or not ours: the stored routing records decide, in
      // the order the updates came.
      this.misses = this.misses
        .then(() => this.resolveStored(state))
        .then((stored) => {
          if (stored) this.applyUpdate(stored, state, source);
          else this.stats.unmatchedUpdates++;
        })
        .catch((err: Error) => this.logger.error({ msg: 'order update not matched', err }));
      return;
    }
    this.applyUpdate(route, state, source);
  }

  private applyUpdate(
    route: ExecutionOrderEntity,
    state: BrokerOrderState,
    source: GatewayUpdateSource,
  ): void {
    void this.serial(route.orderId, async () => {
      await this.learnBrokerId(route, state.brokerOrderId);
      await this.catchUpTrades(route, state, source);
      this.emitUpdate(route, state, source);
    }).catch((err: Error) =>
      this.logger.error({ msg: 'order update not processed', orderId: route.orderId, err }),
    );
  }

  private onGatewayTrade(trade: BrokerTrade, source: GatewayUpdateSource): void {
    const orderId = this.byBroker.get(trade.brokerOrderId);
    const route = orderId === undefined ? undefined : this.routes.get(orderId);
    if (!route) {
      // Behind the misses before it, so a trade never overtakes its order's update.
      this.misses = this.misses
        .then(() => this.orders.findOneBy({ brokerOrderId: trade.brokerOrderId }))
        .then((stored) => {
          if (stored) this.remember(stored);
          const known = this.routes.get(this.byBroker.get(trade.brokerOrderId) ?? '');
          if (known) this.applyTrade(known, trade, source);
          else {
            this.logger.warn({
              msg: 'trade of an unknown order',
              brokerOrderId: trade.brokerOrderId,
            });
          }
        })
        .catch((err: Error) => this.logger.error({ msg: 'trade not matched', err }));
      return;
    }
    this.applyTrade(route, trade, source);
  }

  private applyTrade(
    route: ExecutionOrderEntity,
    trade: BrokerTrade,
    source: GatewayUpdateSource,
  ): void {
    void this.serial(route.orderId, async () => {
      await this.storeTrade(route, trade, source);
    }).catch((err: Error) =>
      this.logger.error({ msg: 'trade not stored', orderId: route.orderId, err }),
    );
  }

  /**
   * When the broker reports more filled than we stored, fetch the order's trades. DhanHQ's trade
   * book can lag its order alert by a moment, so a short gap is fetched again a few times
   * (TRADE_CATCH_UP_DELAYS_MS) before the update goes out: the OMS then sees each FILL before
   * the status that reports it. A gap left after that is closed by the next reconciliation.
   */
  private async catchUpTrades(
    route: ExecutionOrderEntity,
    state: BrokerOrderState,
    source: EventSource,
  ): Promise<void> {
    const filled = state.filledQuantity ?? 0;
    for (let attempt = 0; ; attempt++) {
      if (filled <= (this.tradedQty.get(route.orderId) ?? 0)) return;
      if (attempt > 0) {
        if (attempt > this.catchUpDelaysMs.length || this.stopped) break;
        await new Promise((r) => setTimeout(r, this.catchUpDelaysMs[attempt - 1]));
      }
      let trades: BrokerTrade[];
      try {
        trades = await this.gateway.tradesOf(state.brokerOrderId);
      } catch (error) {
        this.logger.warn({
          msg: 'trades of an order not fetched',
          orderId: route.orderId,
          err: (error as Error).message,
        });
        continue;
      }
      for (const trade of trades) await this.storeTrade(route, trade, source, state.status);
    }
    this.logger.warn({
      msg: 'fills still missing after catch-up; the next reconciliation adds them',
      orderId: route.orderId,
      reported: filled,
      stored: this.tradedQty.get(route.orderId) ?? 0,
    });
  }

  /**
   * Stores a trade; emits FILL and updates positions only when this call inserted the row (the
   * unique (segment, exchange trade id) index decides, so each trade is handled exactly once).
   */
  private async storeTrade(
    route: ExecutionOrderEntity,
    trade: BrokerTrade,
    source: EventSource,
    brokerStatus?: BrokerStatus,
  ): Promise<boolean> {
    const priceUnits = rupeesToUnits(trade.price);
    if (priceUnits === undefined || priceUnits <= 0 || !(trade.quantity > 0)) {
      this.logger.error({ msg: 'malformed trade ignored', orderId: route.orderId, trade });
      return false;
    }
    const row = this.tradeRows.create({
      id: randomUUID(),
      segment: route.segment,
      exchangeTradeId: trade.exchangeTradeId,
      orderId: route.orderId,
      userId: route.userId,
      brokerOrderId: trade.brokerOrderId,
      securityId: route.securityId,
      productType: route.productType,
      side: route.side,
      quantity: trade.quantity,
      priceUnits,
      source,
      tradedAt: trade.tradedAt,
      createdAt: new Date(),
    });
    try {
      await this.tradeRows.insert(row);
    } catch (error) {
      if (isUniqueViolation(error)) {
        this.stats.duplicateTrades++;
        return false;
      }
      throw error;
    }
    this.stats.tradesAdded++;
    this.tradedQty.set(route.orderId, (this.tradedQty.get(route.orderId) ?? 0) + trade.quantity);
    this.portfolio.applyTrade(row);
    try {
      const stored: TradeStoredPayload = { trade: toTradeRecord(row) };
      this.events.emit(TRADE_STORED, stored);
    } catch (error) {
      this.logger.error({ msg: 'trade listener failed', orderId: route.orderId, error });
    }
    this.emit(route, source, {
      type: 'FILL',
      tradeId: trade.exchangeTradeId,
      quantity: trade.quantity,
      price: trade.price,
      ...(brokerStatus !== undefined ? { brokerStatus } : {}),
    });
    return true;
  }

  private emitUpdate(
    route: ExecutionOrderEntity,
    state: BrokerOrderState,
    source: EventSource,
  ): void {
    this.emit(route, source, {
      type: 'BROKER_UPDATE',
      status: state.status,
      brokerOrderId: state.brokerOrderId,
      ...(state.filledQuantity !== undefined ? { filledQuantity: state.filledQuantity } : {}),
      ...(state.averagePrice !== undefined ? { averagePrice: state.averagePrice } : {}),
      ...(state.quantity !== undefined ? { quantity: state.quantity } : {}),
      ...(state.reason !== undefined ? { reason: state.reason } : {}),
    });
  }

  private emit(
    route: ExecutionOrderEntity,
    source: EventSource,
    event: ExecutionOrderEventPayload['event'],
  ): void {
    const payload: ExecutionOrderEventPayload = {
      orderId: route.orderId,
      userId: route.userId,
      event,
      source,
      at: new Date(),
    };
    try {
      this.events.emit(EXECUTION_ORDER_EVENT, payload);
    } catch (error) {
      this.logger.error({ msg: 'order event listener failed', orderId: route.orderId, error });
    }
  }

  // ---- routing record ------------------------------------------------------------------------

  /** The routing record's own statements on the order path (see EntityRows). */
  private get routeRows(): EntityRows<ExecutionOrderEntity> {
    return EntityRows.of(this.orders.manager.connection, ExecutionOrderEntity);
  }

  private async routeFor(order: ExecutionOrder): Promise<ExecutionOrderEntity> {
    const known = this.routes.get(order.orderId);
    if (known) return known;
    const route: ExecutionOrderEntity = this.orders.create({
      orderId: order.orderId,
      userId: order.userId,
      segment: order.segment,
      securityId: order.securityId,
      side: order.side,
      productType: order.productType,
      quantity: order.quantity,
      correlationId: correlationIdFor(order.orderId),
      gateway: this.gateway.kind,
      brokerOrderId: null,
      createdAt: new Date(),
    });
    try {
      // Durable: written ahead of the order's first request (see ExecutionPort).
      await this.routeRows.write({ insert: route }, { durability: 'durable' });
    } catch (error) {
      // A concurrent place of the same order id stored it first: use that one.
      if (!isUniqueViolation(error)) throw error;
      const stored = await this.routeRows.findOne({ orderId: order.orderId });
      if (!stored) throw error;
      this.remember(stored);
      return stored;
    }
    this.remember(route);
    return route;
  }

  private remember(route: ExecutionOrderEntity): void {
    const existing = this.routes.get(route.orderId);
    const kept = existing ?? route;
    // A record read again from the database may carry the broker id its sender learned since.
    if (kept.brokerOrderId === null) kept.brokerOrderId = route.brokerOrderId;
    this.routes.set(kept.orderId, kept);
    this.byCorrelation.set(kept.correlationId, kept.orderId);
    if (kept.brokerOrderId) this.byBroker.set(kept.brokerOrderId, kept.orderId);
  }

  /**
   * Which of our orders a broker update or book row is about. Its correlationId decides when it
   * has one: an order carrying another correlationId under a broker id we learned for one of ours
   * is someone else's (the broker reused the id) and is never applied to ours. Only an update
   * without a correlationId (DhanHQ before v2.2) is matched by the broker id alone.
   */
  /**
   * `resolve` for an update no routing record in memory matches: the order was sent by another
   * instance (with REDIS_URL only the leader holds the order-update socket and reconciles).
   * Its stored record, found by the update's correlationId or, for an update without one, by the
   * broker id, is remembered and resolve asked again.
   */
  private async resolveStored(state: BrokerOrderState): Promise<ExecutionOrderEntity | undefined> {
    const stored = await this.orders.findOneBy(
      state.correlationId !== undefined
        ? { correlationId: state.correlationId }
        : { brokerOrderId: state.brokerOrderId },
    );
    if (!stored) return undefined;
    this.remember(stored);
    return this.resolve(state);
  }

  /** An order's routing record: in memory, else stored by the instance that sent it. */
  private async storedRoute(orderId: string): Promise<ExecutionOrderEntity | undefined> {
    const known = this.routes.get(orderId);
    if (known) return known;
    const stored = await this.routeRows.findOne({ orderId });
    if (stored) this.remember(stored);
    return stored ? this.routes.get(orderId) : undefined;
  }

  private resolve(state: BrokerOrderState): ExecutionOrderEntity | undefined {
    const byId = this.byBroker.get(state.brokerOrderId);
    if (state.correlationId === undefined) {
      return byId === undefined ? undefined : this.routes.get(byId);
    }
    const orderId = this.byCorrelation.get(state.correlationId);
    if (orderId !== undefined) return this.routes.get(orderId);
    const claimed = byId === undefined ? undefined : this.routes.get(byId);
    if (claimed) this.isOurs(claimed, state, 'update');
    return undefined;
  }

  /**
   * Whether the broker's order is ours: it carries our order's correlationId. A mismatch is
   * logged and counted (stats.foreignBrokerOrders) and then treated as "the broker does not know
   * our order".
   */
  private isOurs(
    route: ExecutionOrderEntity,
    state: BrokerOrderState,
    context: 'modify' | 'cancel' | 'lookup' | 'update',
  ): boolean {
    if (state.correlationId === route.correlationId) return true;
    this.stats.foreignBrokerOrders++;
    this.logger.error({
      msg: "the broker's order is not ours (its correlationId differs): ignored",
      orderId: route.orderId,
      brokerOrderId: state.brokerOrderId,
      correlationId: route.correlationId,
      brokerCorrelationId: state.correlationId ?? null,
      context,
    });
    return false;
  }

  private async learnBrokerId(route: ExecutionOrderEntity, brokerOrderId: string): Promise<void> {
    if (route.brokerOrderId === brokerOrderId) return;
    if (route.brokerOrderId !== null && route.brokerOrderId !== brokerOrderId) {
      this.logger.error({
        msg: 'broker order id changed',
        orderId: route.orderId,
        known: route.brokerOrderId,
        reported: brokerOrderId,
      });
      return;
    }
    route.brokerOrderId = brokerOrderId;
    this.byBroker.set(brokerOrderId, route.orderId);
    // Deferred commit: lost with a machine crash, the id is learnt again from the broker (a
    // lookup by the record's correlationId, or its next update).
    await this.routeRows.write(
      { update: { brokerOrderId }, where: { orderId: route.orderId } },
      { durability: 'deferred' },
    );
  }

  /**
   * The broker id to modify or cancel our order by, checked first: the broker's order under the
   * id we learned must carry our correlationId. A broker that lost its books (a restarted
   * simulator) may have given the id to another order, which we must never touch; that, and an id
   * the broker no longer knows, is refused as "unknown to the broker" (the order is left as it is).
   */
  private async verifiedBrokerIdOf(orderId: string, action: 'modify' | 'cancel'): Promise<string> {
    const route = await this.storedRoute(orderId);
    if (!route) throw new ExecutionRejectedError(`order ${orderId} was never sent`);
    if (!route.brokerOrderId) {
      // Looked up by correlationId, which checks the answer.
      const found = await this.lookup(orderId);
      if (!found.found) throw unknownToBroker(orderId);
      return found.brokerOrderId;
    }
    const state = await this.gateway.order(route.brokerOrderId);
    if (!state || !this.isOurs(route, state, action)) {
      this.logger.warn({
        msg: `${action} refused: the broker no longer knows the order`,
        orderId,
        brokerOrderId: route.brokerOrderId,
      });
      throw unknownToBroker(orderId);
    }
    return route.brokerOrderId;
  }

  private serial(orderId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.queues.get(orderId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.queues.set(orderId, tail);
    void tail.then(() => {
      if (this.queues.get(orderId) === tail) this.queues.delete(orderId);
    });
    return next;
  }

  /** Resolves once the updates and trades received so far without a record in memory are matched. */
  whenUpdatesMatched(): Promise<void> {
    return this.misses;
  }

  /** Stored routing record of an order (tests, admin). */
  routeOf(orderId: string): ExecutionOrderEntity | undefined {
    return this.routes.get(orderId);
  }
}

export type BrokerKillSwitch = 'ACTIVE' | 'INACTIVE' | 'NOT_APPLICABLE';
