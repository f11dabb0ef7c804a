import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import {
  And,
  DataSource,
  In,
  IsNull,
  LessThan,
  MoreThanOrEqual,
  type EntityManager,
  type FindOperator,
  type FindOptionsWhere,
  type Repository,
} from 'typeorm';
import { Clock } from '../common/clock';
import { NotFoundError } from '../common/errors/domain-error';
import { isUniqueViolation } from '../database/unique-violation';
import { MetricsService } from '../health/metrics.service';
import { RiskService } from '../risk/risk.service';
import { averagePrice, transition } from './domain/order-state';
import { isTerminal, OrderStatus } from '../trading/order-status';
import { type OrderEvent } from '../trading/order-events';
import { OrderEventEntity } from './entities/order-event.entity';
import { OrderEntity } from './entities/order.entity';
import { OrderReferences } from './order-references';
import { averageText, creationTerms, parseState, WORKING_STATUSES } from './order-row';
import { toOrderView } from './order-view';
import {
  ORDER_TRANSITION,
  ORDERS_UPDATED,
  type OrderTransitionEvent,
  type OrderUpdatedEvent,
} from './orders.events';

export interface Applied {
  row: OrderEntity;
  applied: boolean;
}

/** The columns of a working order that RMS's exposure figures need. */
export type WorkingOrderFacts = Pick<
  OrderEntity,
  'id' | 'segment' | 'securityId' | 'productType' | 'side' | 'quantity' | 'filledQuantity' | 'price'
>;

/**
 * The orders and their event log. Every change of an order is a state-machine transition
 * written with its event row in one transaction (optimistic version); funds and feed references
 * follow the transition, and `orders.updated` is published after the write.
 */
@Injectable()
export class OrderStore implements OnModuleInit {
  private readonly logger = new Logger(OrderStore.name);
  private readonly illegalCounter: Counter<'event' | 'from'>;
  private txQueue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    private readonly risk: RiskService,
    private readonly references: OrderReferences,
    private readonly emitter: EventEmitter2,
    private readonly clock: Clock,
    metrics: MetricsService,
  ) {
    this.illegalCounter = new Counter({
      name: 'oms_illegal_transitions_total',
      help: 'Order events the state machine refused (logged, never applied)',
      labelNames: ['event', 'from'],
      registers: [metrics.registry],
    });
  }

  private get orders(): Repository<OrderEntity> {
    return this.dataSource.getRepository(OrderEntity);
  }

  private get events(): Repository<OrderEventEntity> {
    return this.dataSource.getRepository(OrderEventEntity);
  }

  /**
   * RMS rebuilds a user's ledger from the margin their working orders still hold, and reads a
   * user's other working orders when it checks an order.
   */
  onModuleInit(): void {
    this.risk.useReservationSource(async (userId) => {
      const rows = await this.orders.find({
        where: { userId, status: In(WORKING_STATUSES) },
        select: { id: true, reservedPaise: true },
      });
      return rows.map((r) => ({ orderId: r.id, amountPaise: r.reservedPaise }));
    });
    this.risk.useWorkingOrderSource(async (userId, exceptId) =>
      (await this.workingFacts(userId, exceptId)).map((o) => ({
        segment: o.segment,
        securityId: o.securityId,
        productType: o.productType,
        side: o.side,
        quantity: o.quantity,
        filledQuantity: o.filledQuantity,
        price: o.price === null ? undefined : Number(o.price),
      })),
    );
  }

  // ---- reads ----

  async load(id: string): Promise<OrderEntity> {
    const row = await this.orders.findOne({ where: { id } });
    if (!row) throw new NotFoundError('Order not found');
    return row;
  }

  /** Someone else's order is NOT_FOUND, exactly like a missing one, so ids do not leak. */
  async owned(userId: string, id: string): Promise<OrderEntity> {
    if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id)) {
      throw new NotFoundError('Order not found');
    }
    const row = await this.orders.findOne({ where: { id, userId } });
    if (!row) throw new NotFoundError('Order not found');
    return row;
  }

  /** An order the broker reported on, if it is this user's. */
  async find(id: string): Promise<OrderEntity | null> {
    return this.orders.findOne({ where: { id } });
  }

  list(userId: string): Promise<OrderEntity[]> {
    return this.orders.find({
      where: { userId },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: 500,
    });
  }

  /** Orders of every user matching `filter`, newest first, one page of them (the risk desk). */
  async search(filter: OrderSearch, page: { limit: number; offset: number }) {
    const where: FindOptionsWhere<OrderEntity> = {};
    if (filter.userId !== undefined) where.userId = filter.userId;
    if (filter.segment !== undefined) where.segment = filter.segment;
    if (filter.securityId !== undefined) where.securityId = filter.securityId;
    if (filter.productType !== undefined) where.productType = filter.productType;
    if (filter.statuses !== undefined) where.status = In(filter.statuses);
    const range = instantRange(filter.from, filter.to);
    if (range) where.createdAt = range;
    const [rows, total] = await this.orders.findAndCount({
      where,
      order: { createdAt: 'DESC', id: 'DESC' },
      take: page.limit,
      skip: page.offset,
    });
    return { rows, total };
  }

  /** The audit trail of one of the user's orders, oldest first. */
  async history(userId: string, id: string): Promise<OrderEventEntity[]> {
    await this.owned(userId, id);
    return this.events.find({ where: { orderId: id }, order: { seq: 'ASC' } });
  }

  async idOfClientOrder(userId: string, clientOrderId: string): Promise<string | undefined> {
    const row = await this.orders.findOne({
      where: { userId, clientOrderId },
      select: { id: true },
    });
    return row?.id;
  }

  /** The terms stored with the order's CREATED event (what its idempotency key is bound to). */
  async creationTermsOf(id: string): Promise<Record<string, unknown>> {
    const created = await this.events.findOne({ where: { orderId: id, seq: 1 } });
    return created ? (JSON.parse(created.payload) as Record<string, unknown>) : {};
  }

  /** The children of a sliced order, first slice first. */
  children(parentId: string): Promise<OrderEntity[]> {
    return this.orders.find({ where: { parentId }, order: { clientOrderId: 'ASC' } });
  }

  working(): Promise<OrderEntity[]> {
    return this.orders.find({ where: { status: In(WORKING_STATUSES) } });
  }

  /** The user's working orders other than `exceptId`, with the columns RMS needs. */
  async workingFacts(userId: string, exceptId: string): Promise<WorkingOrderFacts[]> {
    const rows = await this.orders.find({
      // A sliced order's children are counted through their parent, never twice.
      where: { userId, status: In(WORKING_STATUSES), parentId: IsNull() },
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
    });
    return rows.filter((o) => o.id !== exceptId);
  }

  // ---- writes ----

  /**
   * Stores a NEW order with its CREATED event. When the (user, clientOrderId) key is already
   * taken, by an earlier call or a concurrent one that won the unique index, returns that
   * order's id with `created: false`.
   */
  async insertNew(row: OrderEntity): Promise<{ id: string; created: boolean }> {
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
          at: row.createdAt,
        });
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const winner = await this.idOfClientOrder(row.userId, row.clientOrderId);
      if (winner === undefined) throw e;
      return { id: winner, created: false };
    }
    const created: OrderTransitionEvent = {
      orderId: row.id,
      userId: row.userId,
      type: 'CREATED',
      from: null,
      to: OrderStatus.NEW,
    };
    this.emitter.emit(ORDER_TRANSITION, created);
    this.publish(row);
    return { id: row.id, created: true };
  }

  /**
   * Applies one event: ILLEGAL is logged (warn) and counted, never applied; IGNORED changes
   * nothing; APPLIED writes the row (WHERE version matches) and its event in one transaction,
   * settles funds and references, then publishes `orders.updated`.
   */
  async apply(
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
      await this.risk.releaseFilled(
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
      updatedAt: this.clock.now(),
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
    if (isTerminal(next.status) && !isTerminal(before.status)) this.references.drop(updated);
    const transitioned: OrderTransitionEvent = {
      orderId: updated.id,
      userId: updated.userId,
      type: event.type,
      from: result.from,
      to: result.to,
      ...(event.type === 'RISK_DENIED' ? { reason: event.code } : {}),
    };
    this.emitter.emit(ORDER_TRANSITION, transitioned);
    // One orderUpdates message per change a client can see (SENT, for one, changes nothing shown).
    if (visibleChange(row, updated)) this.publish(updated);
    return { row: updated, applied: true };
  }

  private publish(row: OrderEntity): void {
    const event: OrderUpdatedEvent = { userId: row.userId, order: toOrderView(row) };
    this.emitter.emit(ORDERS_UPDATED, event);
  }

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
}

/** Whether the order as the API shows it differs (its update time aside). */
function visibleChange(before: OrderEntity, after: OrderEntity): boolean {
  const shown = (row: OrderEntity) => JSON.stringify({ ...toOrderView(row), updatedAt: 0 });
  return shown(before) !== shown(after);
}

/** What the risk desk filters orders by (every field optional). */
export interface OrderSearch {
  userId?: string;
  segment?: string;
  securityId?: string;
  productType?: string;
  statuses?: string[];
  from?: Date;
  to?: Date;
}

/** `from` inclusive, `to` exclusive; undefined when neither is given. */
export function instantRange(from?: Date, to?: Date): FindOperator<Date> | undefined {
  if (from && to) return And(MoreThanOrEqual(from), LessThan(to));
  if (from) return MoreThanOrEqual(from);
  if (to) return LessThan(to);
  return undefined;
}
