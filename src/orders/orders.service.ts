import { FeedMode, type ExchangeSegment, type Instrument } from '@app/dhan/types';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import { DataSource, In, QueryFailedError, type EntityManager, type Repository } from 'typeorm';
import {
  BadUserInputError,
  ConflictError,
  DomainError,
  NotFoundError,
} from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import {
  EXECUTION_ORDER_EVENT,
  ExecutionAmbiguousError,
  ExecutionRejectedError,
  ExecutionUnavailableError,
  type ExecutionOrder,
  type ExecutionOrderEventPayload,
  type ExecutionPort,
} from '../execution/execution.contract';
import { MetricsService } from '../health/metrics.service';
import { InstrumentsService } from '../instruments/instruments.service';
import { MarketDataService } from '../market-data/market-data.service';
import { ReferenceKind, type SubscriptionReference } from '../market-data/subscription-registry';
import { rupeesToUnits } from '../risk/price-units';
import type { RiskCheckParts } from '../risk/risk.service';
import { RiskService } from '../risk/risk.service';
import type { MarketSnapshot, OrderTerms, RiskAction, RiskOrder } from '../risk/risk.types';
import {
  averagePrice,
  isTerminal,
  newOrderState,
  OrderStatus,
  transition,
  type OrderEvent,
  type OrderState,
} from './domain/order-state';
import { OrderEventEntity } from './entities/order-event.entity';
import { OrderEntity } from './entities/order.entity';
import {
  CLIENT_ORDER_ID_PATTERN,
  priceText,
  validateTerms,
  type ModifyOrderCommand,
  type PlaceOrderCommand,
  type ValidTerms,
} from './order-terms';
import { toOrderView, type OrderView } from './order-view';
import { ORDERS_UPDATED, type OrderUpdatedEvent } from './orders.events';
import { backoffMs, ORDERS_OPTIONS, type OrdersOptions } from './orders.options';
import { EXECUTION_PORT, PORTFOLIO_VIEW, type PortfolioView } from './orders.tokens';

/** Statuses of an order the broker may still fill (or that may still reach it). */
const WORKING: readonly OrderStatus[] = [
  OrderStatus.NEW,
  OrderStatus.IN_FLIGHT,
  OrderStatus.UNKNOWN,
  OrderStatus.TRANSIT,
  OrderStatus.PENDING,
  OrderStatus.PART_TRADED,
];

const IST_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Kolkata',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The terms a pending modification asks for, kept on the row until the broker answers. */
interface PendingTerms {
  orderType: string;
  validity: string;
  price: string | null;
  triggerPrice: string | null;
}

interface Applied {
  row: OrderEntity;
  applied: boolean;
}

/**
 * The OMS. Every change of an order is a state-machine transition written with its event row
 * in one transaction (optimistic version), and all work on one order runs on that order's
 * promise chain, so user requests, broker events, lookups and retries never interleave.
 * Sends are written ahead (SENT) before the ExecutionPort is called; an ambiguous outcome is
 * resolved by lookup, never by a blind resend.
 */
@Injectable()
export class OrdersService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OrdersService.name);
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly placing = new Map<string, Promise<{ id: string; created: boolean }>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly illegalCounter: Counter<'event' | 'from'>;
  private closing = false;
  private txQueue: Promise<unknown> = Promise.resolve();
  private recovered: Promise<void> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    @InjectRepository(OrderEntity) private readonly orders: Repository<OrderEntity>,
    @InjectRepository(OrderEventEntity) private readonly events: Repository<OrderEventEntity>,
    private readonly instruments: InstrumentsService,
    private readonly marketData: MarketDataService,
    private readonly risk: RiskService,
    private readonly emitter: EventEmitter2,
    metrics: MetricsService,
    @Inject(EXECUTION_PORT) private readonly port: ExecutionPort,
    @Inject(PORTFOLIO_VIEW) private readonly portfolio: PortfolioView,
    @Inject(ORDERS_OPTIONS) private readonly options: OrdersOptions,
  ) {
    this.illegalCounter = new Counter({
      name: 'oms_illegal_transitions_total',
      help: 'Order events the state machine refused (logged, never applied)',
      labelNames: ['event', 'from'],
      registers: [metrics.registry],
    });
  }

  onModuleInit(): void {
    this.risk.useReservationSource(async (userId) => {
      const rows = await this.orders.find({
        where: { userId, status: In(WORKING) },
        select: { id: true, reservedPaise: true },
      });
      return rows.map((r) => ({ orderId: r.id, amountPaise: r.reservedPaise }));
    });
  }

  /** Startup recovery runs in the background; `whenRecovered` lets tests wait for it. */
  onApplicationBootstrap(): void {
    this.recovered = this.recover().catch((e: unknown) =>
      this.logger.error({ msg: 'order recovery failed', err: e }),
    );
  }

  whenRecovered(): Promise<void> {
    return this.recovered;
  }

  onModuleDestroy(): void {
    this.closing = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Resolves when the order's queued work (including an in-progress send) is done. */
  async settled(orderId: string): Promise<void> {
    await this.chains.get(orderId)?.catch(() => undefined);
  }

  // ---- queries ----

  async get(userId: string, id: string): Promise<OrderView> {
    return toOrderView(await this.owned(userId, id));
  }

  async list(userId: string): Promise<OrderView[]> {
    const rows = await this.orders.find({
      where: { userId },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: 500,
    });
    return rows.map(toOrderView);
  }

  /** The audit trail of one of the user's orders, oldest first. */
  async history(userId: string, id: string): Promise<OrderEventEntity[]> {
    await this.owned(userId, id);
    return this.events.find({ where: { orderId: id }, order: { seq: 'ASC' } });
  }

  instrumentOf(order: Pick<OrderView, 'segment' | 'securityId'>): Instrument | undefined {
    return this.instruments.get(order.segment, order.securityId);
  }

  // ---- place ----

  /**
   * Validates (BAD_USER_INPUT, nothing stored), then stores the order once per (user,
   * clientOrderId): concurrent calls with one key share one promise, a unique-index violation
   * reads the winner, and a repeat returns the original order, or CONFLICT when its terms
   * differ. Returns after the first send attempt has an outcome (or the order was rejected).
   */
  async place(userId: string, input: PlaceOrderCommand): Promise<OrderView> {
    if (
      typeof input.clientOrderId !== 'string' ||
      !CLIENT_ORDER_ID_PATTERN.test(input.clientOrderId)
    ) {
      throw new BadUserInputError('clientOrderId must be 1-64 characters of A-Z a-z 0-9 _ . : -');
    }
    await this.instruments.ready();
    const instrument = this.instruments.get(input.segment, input.securityId);
    const terms = validateTerms(input, instrument, IST_DATE.format(Date.now()));
    const key = `${userId}\u0000${input.clientOrderId}`;
    let run = this.placing.get(key);
    const first = run === undefined;
    if (run === undefined) {
      const started = this.createAndAdmit(userId, input, terms);
      this.placing.set(key, started);
      void started
        .catch(() => undefined)
        .then(() => {
          if (this.placing.get(key) === started) this.placing.delete(key);
        });
      run = started;
    }
    const { id, created } = await run;
    if (first && created) return toOrderView(await this.load(id));
    return this.repeated(userId, id, input, terms);
  }

  private async createAndAdmit(
    userId: string,
    input: PlaceOrderCommand,
    terms: ValidTerms,
  ): Promise<{ id: string; created: boolean }> {
    const existing = await this.orders.findOne({
      where: { userId, clientOrderId: input.clientOrderId },
      select: { id: true },
    });
    if (existing) return { id: existing.id, created: false };
    const now = new Date();
    const state = newOrderState(terms.quantity);
    const row: OrderEntity = {
      id: randomUUID(),
      userId,
      clientOrderId: input.clientOrderId,
      segment: input.segment,
      securityId: input.securityId,
      side: terms.side,
      quantity: terms.quantity,
      orderType: terms.orderType,
      productType: terms.productType,
      validity: terms.validity,
      price: terms.priceText,
      triggerPrice: terms.triggerText,
      status: state.status,
      filledQuantity: 0,
      averagePrice: null,
      brokerOrderId: null,
      rejectionReason: null,
      modificationCount: 0,
      sendAttempts: 0,
      reservedPaise: 0,
      pendingTerms: null,
      state: JSON.stringify(state),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    try {
      await this.transaction(async (em) => {
        await em.getRepository(OrderEntity).insert(row);
        await em.getRepository(OrderEventEntity).insert({
          id: randomUUID(),
          orderId: row.id,
          seq: 1,
          type: 'CREATED',
          fromStatus: null,
          toStatus: OrderStatus.NEW,
          cause: 'user',
          payload: JSON.stringify(creationTerms(row)),
          at: now,
        });
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const winner = await this.orders.findOne({
        where: { userId, clientOrderId: input.clientOrderId },
        select: { id: true },
      });
      if (!winner) throw e;
      return { id: winner.id, created: false };
    }
    this.publish(row);
    await this.serial(row.id, async () => {
      await this.admit(row.id);
      await this.sendLocked(row.id);
    });
    return { id: row.id, created: true };
  }

  /** A repeated clientOrderId: the original order when the terms match, CONFLICT otherwise. */
  private async repeated(
    userId: string,
    id: string,
    input: PlaceOrderCommand,
    terms: ValidTerms,
  ): Promise<OrderView> {
    await this.settled(id);
    const row = await this.load(id);
    const created = await this.events.findOne({ where: { orderId: id, seq: 1 } });
    const original = created ? (JSON.parse(created.payload) as Record<string, unknown>) : {};
    const asked = creationTerms({
      segment: input.segment,
      securityId: input.securityId,
      side: terms.side,
      quantity: terms.quantity,
      orderType: terms.orderType,
      productType: terms.productType,
      validity: terms.validity,
      price: terms.priceText,
      triggerPrice: terms.triggerText,
    });
    if (row.userId !== userId || JSON.stringify(original) !== JSON.stringify(asked)) {
      throw new ConflictError(
        `clientOrderId ${input.clientOrderId} was already used for an order with other terms`,
      );
    }
    return toOrderView(row);
  }

  // ---- RMS and sending (always on the order's chain) ----

  /** NEW -> RMS -> REJECTED (reason code) or IN_FLIGHT with the margin reserved. */
  private async admit(orderId: string): Promise<void> {
    let row = await this.load(orderId);
    if (row.status !== OrderStatus.NEW) return;
    this.holdReference(row);
    await this.instruments.ready();
    const instrument = this.instruments.get(row.segment as ExchangeSegment, row.securityId);
    if (row.orderType === 'MARKET' && instrument) {
      await this.waitForPrice(row.segment as ExchangeSegment, row.securityId);
    }
    const riskOrder = this.riskOrder(row, termsOf(row), 'PLACE');
    const verdict = await this.risk.check(riskOrder, await this.riskParts(row, instrument));
    if (!verdict.pass) {
      row = (
        await this.apply(row, { type: 'RISK_DENIED', code: verdict.code }, 'rms', {
          message: verdict.message,
        })
      ).row;
      return;
    }
    await this.apply(row, { type: 'RISK_APPROVED' }, 'rms', undefined, {
      reservedPaise: verdict.reservation?.amountPaise ?? 0,
    });
  }

  /** IN_FLIGHT -> SENT (written ahead) -> ExecutionPort.place -> its outcome. */
  private async sendLocked(orderId: string): Promise<void> {
    let row = await this.load(orderId);
    if (row.status !== OrderStatus.IN_FLIGHT || this.closing) return;
    const state = parseState(row);
    if (state.sendAttempts >= this.options.maxSendAttempts) {
      await this.apply(
        row,
        { type: 'BROKER_UPDATE', status: OrderStatus.REJECTED, reason: 'BROKER_UNAVAILABLE' },
        'oms',
        { attempts: state.sendAttempts },
      );
      return;
    }
    row = (await this.apply(row, { type: 'SENT' }, 'oms')).row;
    try {
      const ack = await this.port.place(this.executionOrder(row));
      await this.apply(
        row,
        { type: 'ACKNOWLEDGED', brokerOrderId: ack.brokerOrderId, status: ack.status },
        'broker',
      );
    } catch (e) {
      await this.onSendFailure(row, e);
    }
  }

  private async onSendFailure(row: OrderEntity, e: unknown): Promise<void> {
    if (e instanceof ExecutionRejectedError) {
      await this.apply(
        row,
        { type: 'BROKER_UPDATE', status: OrderStatus.REJECTED, reason: e.reason.slice(0, 200) },
        'broker',
        { brokerCode: e.brokerCode ?? null },
      );
      return;
    }
    if (e instanceof ExecutionUnavailableError) {
      const state = parseState(row);
      const delay =
        e.retryAfterMs ??
        backoffMs(
          state.sendAttempts - 1,
          this.options.sendRetryBaseMs,
          this.options.sendRetryCapMs,
        );
      this.logger.warn({ msg: 'broker unavailable, send retried later', orderId: row.id, delay });
      this.later(delay, row.id, () => this.sendLocked(row.id));
      return;
    }
    // Ambiguous, or anything unexpected after the request may have left: resolve by lookup.
    const cause = e instanceof ExecutionAmbiguousError ? e.causeDescription : String(e);
    if (!(e instanceof ExecutionAmbiguousError)) {
      this.logger.error({
        msg: 'unexpected send failure, resolving by lookup',
        orderId: row.id,
        err: e,
      });
    }
    await this.apply(row, { type: 'AMBIGUOUS', cause: cause.slice(0, 200) }, 'broker');
    this.scheduleResolve(row.id, 0, Date.now());
  }

  private scheduleResolve(orderId: string, attempt: number, since: number): void {
    const delay = backoffMs(attempt, this.options.lookupBaseMs, this.options.lookupCapMs);
    this.later(delay, orderId, () => this.resolveOnce(orderId, attempt, since));
  }

  /**
   * One lookup of an UNKNOWN order by correlationId: found -> ACKNOWLEDGED and the broker's
   * status; not found within the grace period -> look again; not found after it ->
   * RESOLVED_NOT_FOUND and a resend with the same correlationId.
   */
  private async resolveOnce(orderId: string, attempt: number, since: number): Promise<void> {
    let row = await this.load(orderId);
    if (row.status !== OrderStatus.UNKNOWN) return;
    let found;
    try {
      found = await this.port.lookup(orderId);
    } catch (e) {
      this.logger.warn({ msg: 'order lookup failed, retried', orderId, err: String(e) });
      this.scheduleResolve(orderId, attempt + 1, since);
      return;
    }
    if (found.found) {
      row = (
        await this.apply(
          row,
          { type: 'ACKNOWLEDGED', brokerOrderId: found.brokerOrderId },
          'lookup',
        )
      ).row;
      await this.apply(
        row,
        {
          type: 'BROKER_UPDATE',
          status: found.status,
          brokerOrderId: found.brokerOrderId,
          quantity: found.quantity,
          filledQuantity: found.filledQuantity,
          averagePrice: found.averagePrice,
          reason: found.reason,
        },
        'lookup',
      );
      return;
    }
    if (Date.now() - since < this.options.notFoundGraceMs) {
      this.scheduleResolve(orderId, attempt + 1, since);
      return;
    }
    await this.apply(row, { type: 'RESOLVED_NOT_FOUND' }, 'lookup');
    await this.sendLocked(orderId);
  }

  // ---- modify and cancel ----

  /**
   * Changes quantity, price, trigger, type or validity of a working order: RMS again (action
   * MODIFY; a denial is BAD_USER_INPUT with `rejectionReason`, the order unchanged), then
   * MODIFY_REQUESTED (at most 25 per order) and the broker's answer.
   */
  modify(userId: string, id: string, input: ModifyOrderCommand): Promise<OrderView> {
    return this.serial(id, async () => {
      let row = await this.owned(userId, id);
      const instrument = this.instruments.get(row.segment as ExchangeSegment, row.securityId);
      const old = termsOf(row);
      const orderType = input.orderType ?? old.orderType;
      const keepsPrices = orderType === old.orderType;
      const terms = validateTerms(
        {
          side: old.side,
          productType: old.productType,
          quantity: input.quantity ?? old.quantity,
          orderType,
          validity: input.validity ?? old.validity,
          price: input.price !== undefined ? input.price : keepsPrices ? old.price : undefined,
          triggerPrice:
            input.triggerPrice !== undefined
              ? input.triggerPrice
              : keepsPrices
                ? old.triggerPrice
                : undefined,
        },
        instrument,
        IST_DATE.format(Date.now()),
      );
      const state = parseState(row);
      const check = transition(state, { type: 'MODIFY_REQUESTED', quantity: terms.quantity });
      if (check.kind !== 'APPLIED') {
        throw new ConflictError(
          check.kind === 'ILLEGAL' ? `Cannot modify: ${check.illegal.reason}` : check.reason,
        );
      }
      const heldBefore = this.risk.reservationOf(userId, id);
      const verdict = await this.risk.check(
        {
          ...this.riskOrder(row, terms, 'MODIFY'),
          previous: old,
          filledQuantity: row.filledQuantity,
        },
        await this.riskParts(row, instrument),
      );
      if (!verdict.pass) {
        throw new DomainError(
          ErrorCode.BAD_USER_INPUT,
          `Modification denied by risk checks (${verdict.code}): ${verdict.message}`,
          { rejectionReason: verdict.code },
        );
      }
      const pending: PendingTerms = {
        orderType: terms.orderType,
        validity: terms.validity,
        price: terms.priceText,
        triggerPrice: terms.triggerText,
      };
      row = (
        await this.apply(
          row,
          { type: 'MODIFY_REQUESTED', quantity: terms.quantity },
          'user',
          { ...pending },
          {
            pendingTerms: JSON.stringify(pending),
            reservedPaise: this.risk.reservationOf(userId, id),
          },
        )
      ).row;
      try {
        await this.port.modify(id, {
          orderType: terms.orderType,
          validity: terms.validity,
          quantity: terms.quantity,
          price: terms.price,
          triggerPrice: terms.triggerPrice,
        });
      } catch (e) {
        await this.risk.restoreReservation(userId, id, heldBefore);
        const reason = e instanceof Error ? e.message : String(e);
        await this.apply(
          row,
          { type: 'MODIFY_REJECTED', reason: reason.slice(0, 200) },
          'broker',
          undefined,
          {
            pendingTerms: null,
            reservedPaise: heldBefore,
          },
        );
        throw brokerRefusal('Modification', e);
      }
      row = await this.load(id);
      const after = await this.apply(row, { type: 'MODIFY_ACKED' }, 'broker', undefined, {
        orderType: pending.orderType,
        validity: pending.validity,
        price: pending.price,
        triggerPrice: pending.triggerPrice,
        pendingTerms: null,
      });
      return toOrderView(after.row);
    });
  }

  /** Cancels a working order (RMS never blocks a cancel). CONFLICT when it cannot be cancelled. */
  cancel(userId: string, id: string): Promise<OrderView> {
    return this.serial(id, async () => {
      let row = await this.owned(userId, id);
      const check = transition(parseState(row), { type: 'CANCEL_REQUESTED' });
      if (check.kind === 'ILLEGAL') {
        throw new ConflictError(`Cannot cancel: ${check.illegal.reason}`);
      }
      if (check.kind === 'IGNORED') return toOrderView(row);
      row = (await this.apply(row, { type: 'CANCEL_REQUESTED' }, 'user')).row;
      if (isTerminal(row.status as OrderStatus)) return toOrderView(row); // NEW: cancelled here
      try {
        await this.port.cancel(id);
      } catch (e) {
        if (e instanceof ExecutionRejectedError) {
          await this.apply(
            row,
            { type: 'CANCEL_REJECTED', reason: e.reason.slice(0, 200) },
            'broker',
          );
          throw brokerRefusal('Cancel', e);
        }
        // Outcome unknown: the broker's updates or a lookup settle it.
        this.scheduleSettleCancel(id, 0);
        return toOrderView(await this.load(id));
      }
      row = await this.load(id);
      return toOrderView((await this.apply(row, { type: 'CANCEL_ACKED' }, 'broker')).row);
    });
  }

  private scheduleSettleCancel(orderId: string, attempt: number): void {
    const delay = backoffMs(attempt, this.options.lookupBaseMs, this.options.lookupCapMs);
    this.later(delay, orderId, async () => {
      const row = await this.load(orderId);
      if (!parseState(row).pendingCancel) return;
      try {
        const found = await this.port.lookup(orderId);
        if (found.found && isTerminal(found.status)) {
          await this.apply(
            row,
            {
              type: 'BROKER_UPDATE',
              status: found.status,
              quantity: found.quantity,
              filledQuantity: found.filledQuantity,
              averagePrice: found.averagePrice,
            },
            'lookup',
          );
        } else {
          await this.apply(row, { type: 'CANCEL_REJECTED', reason: 'not cancelled' }, 'lookup');
        }
      } catch {
        this.scheduleSettleCancel(orderId, attempt + 1);
      }
    });
  }

  // ---- broker events ----

  @OnEvent(EXECUTION_ORDER_EVENT)
  onExecutionEvent(payload: ExecutionOrderEventPayload): void {
    void this.serial(payload.orderId, async () => {
      const row = await this.orders.findOne({ where: { id: payload.orderId } });
      if (!row || row.userId !== payload.userId) {
        this.logger.warn({
          msg: 'broker event for an unknown order ignored',
          orderId: payload.orderId,
          event: payload.event.type,
        });
        return;
      }
      await this.apply(row, payload.event, payload.source);
    }).catch((e: unknown) =>
      this.logger.error({ msg: 'broker event not applied', orderId: payload.orderId, err: e }),
    );
  }

  // ---- recovery ----

  private async recover(): Promise<void> {
    const rows = await this.orders.find({ where: { status: In(WORKING) } });
    if (rows.length === 0) return;
    await this.instruments.ready();
    this.logger.log({ msg: 'recovering working orders', count: rows.length });
    for (const row of rows) {
      this.holdReference(row);
      const state = parseState(row);
      switch (row.status as OrderStatus) {
        case OrderStatus.NEW:
          // Crashed before RMS: checked again now, then sent if approved.
          void this.serial(row.id, async () => {
            await this.admit(row.id);
            await this.sendLocked(row.id);
          });
          break;
        case OrderStatus.IN_FLIGHT:
          if (state.sendAttempts === 0) {
            void this.serial(row.id, () => this.sendLocked(row.id));
          } else {
            // It may have reached the broker before the crash: resolve, never resend blindly.
            void this.serial(row.id, async () => {
              await this.apply(
                await this.load(row.id),
                { type: 'AMBIGUOUS', cause: 'restart' },
                'recovery',
              );
              this.scheduleResolve(row.id, 0, Date.now());
            });
          }
          break;
        case OrderStatus.UNKNOWN:
          this.scheduleResolve(row.id, 0, Date.now());
          break;
        default:
          break;
      }
    }
  }

  // ---- transitions ----

  /**
   * Applies one event: ILLEGAL is logged (warn) and counted, never applied; IGNORED changes
   * nothing; APPLIED writes the row (WHERE version matches) and its event in one transaction,
   * settles funds and references, then publishes `orders.updated`.
   */
  private async apply(
    row: OrderEntity,
    event: OrderEvent,
    cause: string,
    details?: Record<string, unknown>,
    extra: Partial<OrderEntity> = {},
  ): Promise<Applied> {
    const before = parseState(row);
    const result = transition(before, event);
    if (result.kind === 'ILLEGAL') {
      this.illegalCounter.inc({ event: event.type, from: result.illegal.from });
      this.logger.warn({
        msg: 'illegal order transition refused',
        orderId: row.id,
        from: result.illegal.from,
        event: event.type,
        reason: result.illegal.reason,
        cause,
      });
      return { row, applied: false };
    }
    if (result.kind === 'IGNORED') return { row, applied: false };
    const next = result.state;

    // Funds first (synchronous on a loaded ledger), so the row records what is held.
    const filledNow = next.filledQuantity - before.filledQuantity;
    if (filledNow > 0) {
      await this.risk.consumeFill(
        row.userId,
        row.id,
        filledNow,
        before.quantity - before.filledQuantity,
      );
    }
    if (isTerminal(next.status)) await this.risk.release(row.userId, row.id);
    const reservedPaise =
      extra.reservedPaise ??
      (filledNow > 0 || isTerminal(next.status)
        ? this.risk.reservationOf(row.userId, row.id)
        : row.reservedPaise);

    const avg = averagePrice(next);
    const updated: OrderEntity = {
      ...row,
      ...extra,
      status: next.status,
      quantity: next.quantity,
      filledQuantity: next.filledQuantity,
      averagePrice: avg === undefined ? null : averageText(avg),
      brokerOrderId: next.brokerOrderId ?? null,
      rejectionReason: next.rejectionReason ?? null,
      modificationCount: next.modificationCount,
      sendAttempts: next.sendAttempts,
      reservedPaise,
      state: JSON.stringify(next),
      updatedAt: new Date(),
      version: row.version + 1,
    };
    await this.transaction(async (em: EntityManager) => {
      const { id, version, ...changes } = updated;
      const res = await em
        .getRepository(OrderEntity)
        .update({ id, version: row.version }, { ...changes, version });
      if (res.affected !== 1) {
        throw new Error(`order ${id} changed concurrently (version ${row.version})`);
      }
      await em.getRepository(OrderEventEntity).insert({
        id: randomUUID(),
        orderId: id,
        seq: version,
        type: event.type,
        fromStatus: result.from,
        toStatus: result.to,
        cause,
        payload: JSON.stringify(details ? { ...event, ...details } : event),
        at: updated.updatedAt,
      });
    });
    if (isTerminal(next.status) && !isTerminal(before.status)) this.dropReference(updated);
    this.publish(updated);
    return { row: updated, applied: true };
  }

  private publish(row: OrderEntity): void {
    const event: OrderUpdatedEvent = { userId: row.userId, order: toOrderView(row) };
    this.emitter.emit(ORDERS_UPDATED, event);
  }

  // ---- helpers ----

  /**
   * A transaction. SQLite has one connection and no nested transactions, so there they are
   * queued one after another; PostgreSQL runs them side by side on the pool.
   */
  private transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    if (this.dataSource.options.type !== 'better-sqlite3') return this.dataSource.transaction(work);
    const run = this.txQueue.then(() => this.dataSource.transaction(work));
    this.txQueue = run.catch(() => undefined);
    return run;
  }

  /** Runs `work` after everything queued for this order; the chain never rejects. */
  private serial<T>(orderId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(orderId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    this.chains.set(orderId, tail);
    void tail.then(() => {
      if (this.chains.get(orderId) === tail) this.chains.delete(orderId);
    });
    return run;
  }

  /** Queues `work` on the order's chain after `delayMs` (dropped when the module closes). */
  private later(delayMs: number, orderId: string, work: () => Promise<void>): void {
    if (this.closing) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closing) return;
      void this.serial(orderId, work).catch((e: unknown) =>
        this.logger.error({ msg: 'order retry failed', orderId, err: e }),
      );
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  private async load(id: string): Promise<OrderEntity> {
    const row = await this.orders.findOne({ where: { id } });
    if (!row) throw new NotFoundError('Order not found');
    return row;
  }

  /** Someone else's order is NOT_FOUND, exactly like a missing one, so ids do not leak. */
  private async owned(userId: string, id: string): Promise<OrderEntity> {
    if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id)) {
      throw new NotFoundError('Order not found');
    }
    const row = await this.orders.findOne({ where: { id, userId } });
    if (!row) throw new NotFoundError('Order not found');
    return row;
  }

  private reference(row: OrderEntity): SubscriptionReference {
    return {
      segment: row.segment as ExchangeSegment,
      securityId: row.securityId,
      kind: ReferenceKind.ORDER,
      holderId: row.id,
      mode: FeedMode.QUOTE,
    };
  }

  /** Keeps the instrument on the feed while the order works; a full feed does not stop it. */
  private holdReference(row: OrderEntity): void {
    try {
      this.marketData.acquire([this.reference(row)]);
    } catch (e) {
      this.logger.warn({ msg: 'order instrument not streamed', orderId: row.id, err: String(e) });
    }
  }

  private dropReference(row: OrderEntity): void {
    try {
      this.marketData.release([this.reference(row)]);
    } catch (e) {
      this.logger.warn({ msg: 'order reference not released', orderId: row.id, err: String(e) });
    }
  }

  /** Waits (bounded) for a fresh tick of an instrument that has just been subscribed. */
  private async waitForPrice(segment: ExchangeSegment, securityId: string): Promise<void> {
    const deadline = Date.now() + this.options.marketPriceWaitMs;
    for (;;) {
      const rec = this.marketData.record(segment, securityId);
      const live = rec !== undefined && !rec.stale && Number.isFinite(rec.ltp) && rec.ltp > 0;
      if (live || Date.now() >= deadline || this.closing) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private riskOrder(row: OrderEntity, terms: OrderTerms, action: RiskAction): RiskOrder {
    return {
      orderId: row.id,
      userId: row.userId,
      action,
      side: terms.side,
      quantity: terms.quantity,
      orderType: terms.orderType,
      productType: terms.productType,
      validity: terms.validity,
      price: terms.price,
      triggerPrice: terms.triggerPrice,
    };
  }

  /** Market, position and account facts for RMS: tick store, portfolio and working orders. */
  private async riskParts(
    row: OrderEntity,
    instrument: Instrument | undefined,
  ): Promise<RiskCheckParts> {
    const segment = row.segment as ExchangeSegment;
    const rec = this.marketData.record(segment, row.securityId);
    const market: MarketSnapshot =
      rec && rec.hasData
        ? {
            ltp: Number.isFinite(rec.ltp) ? rec.ltp : undefined,
            lastTickAt: rec.updatedAt,
            stale: rec.stale,
          }
        : {};
    const others = (
      await this.orders.find({
        where: { userId: row.userId, status: In(WORKING) },
        select: {
          id: true,
          segment: true,
          securityId: true,
          productType: true,
          side: true,
          quantity: true,
          filledQuantity: true,
          price: true,
        },
      })
    ).filter((o) => o.id !== row.id);
    let openBuy = 0;
    let openSell = 0;
    let workingValuePaise = 0;
    for (const o of others) {
      const remaining = o.quantity - o.filledQuantity;
      if (o.segment === row.segment && o.securityId === row.securityId) {
        if (o.productType === row.productType) {
          if (o.side === 'BUY') openBuy += remaining;
          else openSell += remaining;
        }
      }
      const units = o.price === null ? undefined : rupeesToUnits(Number(o.price));
      if (units !== undefined) workingValuePaise += Math.ceil((remaining * units) / 100);
    }
    const snapshot = this.portfolio.riskSnapshot(
      row.userId,
      segment,
      row.securityId,
      row.productType as OrderTerms['productType'],
    );
    return {
      instrument,
      market,
      position: {
        netQuantity: snapshot.netQuantity,
        openBuyQuantity: openBuy,
        openSellQuantity: openSell,
      },
      account: {
        openOrderCount: others.length,
        grossExposurePaise: snapshot.grossExposurePaise + workingValuePaise,
        dayPnlPaise: snapshot.dayPnlPaise,
      },
    };
  }

  private executionOrder(row: OrderEntity): ExecutionOrder {
    const state = parseState(row);
    return {
      orderId: row.id,
      userId: row.userId,
      segment: row.segment as ExchangeSegment,
      securityId: row.securityId,
      side: row.side as ExecutionOrder['side'],
      quantity: state.quantity,
      orderType: row.orderType as ExecutionOrder['orderType'],
      productType: row.productType as ExecutionOrder['productType'],
      validity: row.validity as ExecutionOrder['validity'],
      price: row.price === null ? undefined : Number(row.price),
      triggerPrice: row.triggerPrice === null ? undefined : Number(row.triggerPrice),
    };
  }
}

function parseState(row: OrderEntity): OrderState {
  return JSON.parse(row.state) as OrderState;
}

function termsOf(row: OrderEntity): OrderTerms {
  return {
    side: row.side as OrderTerms['side'],
    quantity: row.quantity,
    orderType: row.orderType as OrderTerms['orderType'],
    productType: row.productType as OrderTerms['productType'],
    validity: row.validity as OrderTerms['validity'],
    price: row.price === null ? undefined : Number(row.price),
    triggerPrice: row.triggerPrice === null ? undefined : Number(row.triggerPrice),
  };
}

/** The terms an idempotency key is bound to (as stored in the CREATED event). */
function creationTerms(
  t: Pick<
    OrderEntity,
    | 'segment'
    | 'securityId'
    | 'side'
    | 'quantity'
    | 'orderType'
    | 'productType'
    | 'validity'
    | 'price'
    | 'triggerPrice'
  >,
): Record<string, unknown> {
  return {
    segment: t.segment,
    securityId: t.securityId,
    side: t.side,
    quantity: t.quantity,
    orderType: t.orderType,
    productType: t.productType,
    validity: t.validity,
    price: t.price,
    triggerPrice: t.triggerPrice,
  };
}

/** Average price in rupees, to 1/10,000 rupee. */
function averageText(rupees: number): string {
  return priceText(Math.round(rupees * 10_000));
}

function isUniqueViolation(e: unknown): boolean {
  if (!(e instanceof QueryFailedError)) return false;
  const code = (e.driverError as { code?: string } | undefined)?.code;
  return code === '23505' || /unique/i.test(e.message);
}

function brokerRefusal(what: string, e: unknown): DomainError {
  if (e instanceof ExecutionRejectedError) {
    return new ConflictError(`${what} refused by the broker: ${e.reason}`);
  }
  return new DomainError(
    ErrorCode.CONFLICT,
    `${what} not confirmed by the broker; the order is unchanged, try again`,
  );
}
