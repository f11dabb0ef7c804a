import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import {
  And,
  DataSource,
  In,
  IsNull,
  LessThan,
  MoreThanOrEqual,
  Not,
  type FindOperator,
  type FindOptionsWhere,
  type Repository,
} from 'typeorm';
import { Clock } from '../common/clock';
import { ConflictError, NotFoundError } from '../common/errors/domain-error';
import { EntityRows } from '../database/entity-rows';
import { type CommitDurability } from '../database/sqlite-serial';
import { isUniqueViolation } from '../database/unique-violation';
import { MetricsService } from '../health/metrics.service';
import { RESERVATION_SETTLED, type ReservationSettledEvent } from '../risk/funds.events';
import { exposureOf } from '../risk/risk-facts.service';
import { RiskService } from '../risk/risk.service';
import { averagePrice, transition } from './domain/order-state';
import { isTerminal, OrderStatus } from '../trading/order-status';
import { type OrderEvent } from '../trading/order-events';
import { OrderEventEntity } from './entities/order-event.entity';
import { OrderEntity } from './entities/order.entity';
import { OrderReferences } from './order-references';
import {
  averageText,
  creationTerms,
  parseState,
  reservationRow,
  WORKING_STATUSES,
} from './order-row';
import { KeptOrderRows } from './kept-order-rows';
import { toOrderView, type OrderView } from './order-view';
import {
  WORKING_FACT_COLUMNS,
  WorkingOrderIndex,
  type WorkingOrderFacts,
} from './working-order-index';
import {
  ORDER_TRANSITION,
  ORDERS_UPDATED,
  type OrderTransitionEvent,
  type OrderUpdatedEvent,
} from './orders.events';

/** A step applied in memory, written as an event row with seq `at`. */
interface WrittenStep {
  step: OrderStep;
  from: OrderStatus;
  to: OrderStatus;
  at: number;
}

/** `writeSteps` found the row at another version than the one it read. */
const CHANGED_CONCURRENTLY = Symbol('changed concurrently');
/** Tries of one write against a row other instances keep changing before it gives up. */
const MAX_WRITE_ATTEMPTS = 5;

export interface Applied {
  row: OrderEntity;
  applied: boolean;
}

/** One event to apply to an order, with what the transition writes besides the state. */
export interface OrderStep {
  event: OrderEvent;
  cause: string;
  details?: Record<string, unknown>;
  extra?: Partial<OrderEntity>;
}

/**
 * The orders and their event log. Every change of an order is a state-machine transition
 * written with its event row in one transaction (optimistic version); funds and feed references
 * follow the transition, and `orders.updated` is published after the write.
 */
@Injectable()
export class OrderStore implements OnModuleInit {
  private readonly logger = new Logger(OrderStore.name);
  private readonly illegalCounter: Counter<'event' | 'from'>;
  private readonly conflictCounter: Counter;
  /** Every working order by user, on a single instance (see onModuleInit); else undefined. */
  private workingIndex: WorkingOrderIndex | undefined;
  /**
   * The last committed row of recently used orders, on a single instance (see KeptOrderRows);
   * undefined where other instances write orders too.
   */
  private rows: KeptOrderRows | undefined;

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
    this.conflictCounter = new Counter({
      name: 'oms_write_conflicts_total',
      help: 'Order writes that found the row changed by another instance and were applied again',
      registers: [metrics.registry],
    });
  }

  private get orders(): Repository<OrderEntity> {
    return this.dataSource.getRepository(OrderEntity);
  }

  private get events(): Repository<OrderEventEntity> {
    return this.dataSource.getRepository(OrderEventEntity);
  }

  /** The order path's own statements (see EntityRows): one order by id, its writes. */
  private get orderRows(): EntityRows<OrderEntity> {
    return EntityRows.of(this.dataSource, OrderEntity);
  }

  private get eventRows(): EntityRows<OrderEventEntity> {
    return EntityRows.of(this.dataSource, OrderEventEntity);
  }

  /**
   * RMS rebuilds a user's ledger from the reservations orders store (working orders, and ended
   * ones still holding a filled share whose trade may not be settled), and reads a user's other
   * working orders when it checks an order: from memory on a single instance (loaded here,
   * before the app serves, and kept by every write below), from the database when other
   * instances write orders too (REDIS_URL).
   */
  async onModuleInit(): Promise<void> {
    this.risk.useReservationSource(async (userId) => {
      const select = {
        id: true,
        quantity: true,
        filledQuantity: true,
        reservedPaise: true,
        reservation: true,
        sliceCount: true,
      } as const;
      const rows = await this.orders.find({
        where: [
          { userId, status: In(WORKING_STATUSES) },
          { userId, reservation: Not(IsNull()) },
        ],
        select,
      });
      const sliced = rows.filter((r) => r.sliceCount > 0).map((r) => r.id);
      const children =
        sliced.length === 0
          ? []
          : await this.orders.find({
              where: { parentId: In(sliced) },
              select: { id: true, parentId: true },
            });
      return rows.map((r) => ({
        ...reservationRow(r),
        children: children.filter((c) => c.parentId === r.id).map((c) => c.id),
      }));
    });
    this.risk.useWorkingOrderSource(async (query) => {
      // A single instance keeps the sums as orders change; across instances they are read.
      if (this.workingIndex) return this.workingIndex.exposure(query);
      const rows = await this.workingFacts(query.userId, query.exceptOrderId);
      return exposureOf(
        rows.map((o) => ({
          segment: o.segment,
          securityId: o.securityId,
          productType: o.productType,
          side: o.side,
          quantity: o.quantity,
          filledQuantity: o.filledQuantity,
          price: o.price === null ? undefined : Number(o.price),
        })),
        query,
      );
    });
    if (this.risk.clustered) return;
    const index = new WorkingOrderIndex();
    const rows = await this.orders.find({
      where: { status: In(WORKING_STATUSES) },
      select: { ...WORKING_FACT_COLUMNS, userId: true, status: true, parentId: true },
    });
    for (const row of rows) index.track(row);
    this.workingIndex = index;
    this.rows = new KeptOrderRows();
  }

  /**
   * Forgets the rows kept in memory: for a database changed behind the store's back (an
   * operator's repair, a test standing in for an earlier version's rows). The next read of each
   * order reads the database.
   */
  forgetRows(): void {
    this.rows?.clear();
  }

  // ---- reads ----

  async load(id: string): Promise<OrderEntity> {
    const row = await this.find(id);
    if (!row) throw new NotFoundError('Order not found');
    return row;
  }

  /** Someone else's order is NOT_FOUND, exactly like a missing one, so ids do not leak. */
  async owned(userId: string, id: string): Promise<OrderEntity> {
    if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id)) {
      throw new NotFoundError('Order not found');
    }
    const kept = this.rows?.get(id);
    if (kept !== undefined) {
      if (kept.userId !== userId) throw new NotFoundError('Order not found');
      return kept;
    }
    const ticket = this.rows?.ticket();
    const row = await this.orderRows.findOne({ id, userId });
    if (!row) throw new NotFoundError('Order not found');
    if (ticket !== undefined) this.rows?.read(ticket, row);
    return row;
  }

  /** One order by id, or null. */
  async find(id: string): Promise<OrderEntity | null> {
    const kept = this.rows?.get(id);
    if (kept !== undefined) return kept;
    const ticket = this.rows?.ticket();
    const row = await this.orderRows.findOne({ id });
    if (row && ticket !== undefined) this.rows?.read(ticket, row);
    return row;
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
    if (this.workingIndex) return this.workingIndex.facts(userId, exceptId);
    const rows = await this.orders.find({
      // A sliced order's children are counted through their parent, never twice.
      where: { userId, status: In(WORKING_STATUSES), parentId: IsNull() },
      select: WORKING_FACT_COLUMNS,
    });
    return rows.filter((o) => o.id !== exceptId);
  }

  // ---- writes ----

  /**
   * Stores a NEW order with its CREATED event. When the (user, clientOrderId) key is already
   * taken, by an earlier call or a concurrent one that won the unique index, returns that
   * order's id with `created: false`. Its commit is deferred (see CommitDurability): what
   * matters of a placement after a machine crash is made durable further on (the routing record
   * stored ahead of the send, a queued order).
   */
  async insertNew(row: OrderEntity): Promise<{ id: string; created: boolean }> {
    try {
      await this.orderRows.write(
        { insert: row },
        {
          durability: 'deferred',
          then: {
            into: this.eventRows,
            rows: [
              {
                id: randomUUID(),
                orderId: row.id,
                seq: 1,
                type: 'CREATED',
                fromStatus: null,
                toStatus: OrderStatus.NEW,
                cause: 'user',
                payload: JSON.stringify(creationTerms(row)),
                at: row.createdAt,
              },
            ],
          },
        },
      );
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const winner = await this.idOfClientOrder(row.userId, row.clientOrderId);
      if (winner === undefined) throw e;
      return { id: winner, created: false };
    }
    this.workingIndex?.track(row);
    this.rows?.created(row);
    // A sliced order's child: its trades settle the margin its parent holds.
    if (row.parentId !== null) await this.risk.linkSlice(row.userId, row.id, row.parentId);
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
  apply(
    row: OrderEntity,
    event: OrderEvent,
    cause: string,
    details?: Record<string, unknown>,
    extra: Partial<OrderEntity> = {},
  ): Promise<Applied> {
    return this.applySteps(row, [{ event, cause, details, extra }]);
  }

  /**
   * Applies events in order, as `apply` does each, in ONE transaction: the row written once
   * (its version advanced by the steps applied) with one event row per step. A step the state
   * machine refuses (ILLEGAL) ends the list there; IGNORED steps are skipped. One
   * `orders.updated` for the whole, when it changed what a client sees.
   */
  async applySteps(
    row: OrderEntity,
    steps: readonly OrderStep[],
    /** How its commit reaches the disk; the engine's default when undefined. */
    durability?: CommitDurability,
  ): Promise<Applied> {
    // With REDIS_URL another instance writes the same order (the leader applies the broker's
    // word on an order this instance sent): a write that finds the row changed reads it again
    // and applies the same steps to it, as the state machine decides for the newer state. Not
    // so for a step carrying a reservation RMS computed from the row as it was.
    const reapplicable = steps.every((s) => s.extra?.reservation === undefined);
    let current = row;
    for (let attempt = 1; ; attempt++) {
      const done = await this.writeSteps(current, steps, durability);
      if (done !== CHANGED_CONCURRENTLY) return done;
      if (!reapplicable || attempt >= MAX_WRITE_ATTEMPTS) {
        throw new ConflictError('The order changed meanwhile; read it again and retry');
      }
      this.conflictCounter.inc();
      current = await this.load(row.id);
    }
  }

  private async writeSteps(
    row: OrderEntity,
    steps: readonly OrderStep[],
    durability: CommitDurability | undefined,
  ): Promise<Applied | typeof CHANGED_CONCURRENTLY> {
    let current = row;
    const written: WrittenStep[] = [];
    for (const step of steps) {
      const next = await this.advance(current, step);
      if (next === 'ILLEGAL') break;
      if (next === undefined) continue;
      written.push({ step, from: next.from, to: next.to, at: next.row.version });
      current = next.row;
    }
    if (written.length === 0) return { row, applied: false };
    const updated = current;
    // Not kept while the write is open; kept after only when it committed (a failed commit, or
    // a flush that failed after it, leaves the database's row the one to read next).
    this.rows?.begin(row.id);
    let committed: OrderEntity | undefined;
    try {
      committed = await this.writeRow(row, updated, written, durability);
    } finally {
      this.rows?.end(row.id, committed);
    }
    if (committed === undefined) return CHANGED_CONCURRENTLY;
    this.workingIndex?.track(updated);
    if (updated.reservation !== row.reservation || updated.reservedPaise !== row.reservedPaise) {
      this.risk.reservationStored(updated.userId);
    }
    if (isTerminal(updated.status as OrderStatus) && !isTerminal(row.status as OrderStatus)) {
      this.references.drop(updated);
    }
    for (const { step, from, to } of written) {
      const transitioned: OrderTransitionEvent = {
        orderId: updated.id,
        userId: updated.userId,
        type: step.event.type,
        from,
        to,
        ...(step.event.type === 'RISK_DENIED' ? { reason: step.event.code } : {}),
      };
      this.emitter.emit(ORDER_TRANSITION, transitioned);
    }
    // One orderUpdates message per change a client can see (SENT, for one, changes nothing shown).
    if (visibleChange(row, updated)) this.publish(updated);
    return { row: updated, applied: true };
  }

  /** Writes `updated` over `row` (same version) with its events; undefined if the row moved on. */
  private async writeRow(
    row: OrderEntity,
    updated: OrderEntity,
    written: readonly WrittenStep[],
    durability: CommitDurability | undefined,
  ): Promise<OrderEntity | undefined> {
    const { id, version } = updated;
    const stored = await this.orderRows.write(
      { where: { id, version: row.version }, update: { ...changedColumns(row, updated), version } },
      {
        durability,
        then: {
          into: this.eventRows,
          rows: written.map(({ step, from, to, at }) => ({
            id: randomUUID(),
            orderId: id,
            seq: at,
            type: step.event.type,
            fromStatus: from,
            toStatus: to,
            cause: step.cause,
            payload: JSON.stringify(step.details ? { ...step.event, ...step.details } : step.event),
            at: updated.updatedAt,
          })),
        },
      },
    );
    return stored ? updated : undefined;
  }

  /**
   * One step in memory: the row after it (funds settled first, synchronous on a loaded ledger,
   * so the row records what is held), undefined when IGNORED, 'ILLEGAL' when refused.
   */
  private async advance(
    row: OrderEntity,
    { event, cause, extra = {} }: OrderStep,
  ): Promise<{ row: OrderEntity; from: OrderStatus; to: OrderStatus } | undefined | 'ILLEGAL'> {
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
      return 'ILLEGAL';
    }
    if (result.kind === 'IGNORED') return undefined;
    const next = result.state;

    // Funds first, so the row records what is held. A fill releases nothing here: its share
    // stays reserved until the trade that carries it is settled (RMS, from the stored trade).
    // An order that ends keeps the share of its filled units only.
    let reservation: { terms: string | null; heldPaise: number } = {
      terms: row.reservation,
      heldPaise: row.reservedPaise,
    };
    if (extra.reservation !== undefined) {
      reservation = { terms: extra.reservation, heldPaise: extra.reservedPaise ?? 0 };
    } else if (isTerminal(next.status)) {
      reservation = await this.risk.endReservation(
        row.userId,
        reservationRow(row),
        next.filledQuantity,
      );
    } else if (row.reservation === null && row.reservedPaise > 0) {
      // Written before reservations were stored by units (its amount held its unfilled units):
      // stored by units from this change on.
      reservation = await this.risk.restoreReservation(row.userId, reservationRow(row));
    }

    const avg = averagePrice(next);
    return {
      from: result.from,
      to: result.to,
      row: {
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
        reservedPaise: reservation.heldPaise,
        reservation: reservation.terms,
        state: JSON.stringify(next),
        updatedAt: this.clock.now(),
        version: row.version + 1,
      },
    };
  }

  /**
   * RMS says the order's reservation holds nothing more (its filled units' trades are settled):
   * an ended order's stored one is dropped, so rebuilds stop reading it (a working order's is
   * dropped when it ends). Not a transition: the version stays, and a write that raced this one
   * and put it back only leaves a reservation a rebuild finds empty.
   */
  @OnEvent(RESERVATION_SETTLED)
  async onReservationSettled(event: ReservationSettledEvent): Promise<void> {
    // Not a transition (no version change), so a row kept from before would hide it.
    this.rows?.begin(event.orderId);
    try {
      await this.orders.update(
        {
          id: event.orderId,
          userId: event.userId,
          status: Not(In(WORKING_STATUSES)),
          reservation: Not(IsNull()),
        },
        { reservation: null, reservedPaise: 0 },
      );
    } catch (e) {
      this.logger.warn({ msg: 'settled reservation not dropped', orderId: event.orderId, err: e });
    } finally {
      this.rows?.end(event.orderId, undefined);
    }
  }

  private publish(row: OrderEntity): void {
    const event: OrderUpdatedEvent = { userId: row.userId, order: toOrderView(row) };
    this.emitter.emit(ORDERS_UPDATED, event);
  }
}

/**
 * The columns `after` changed (the query builder's cost grows with the columns it writes, and
 * most transitions change four or five of thirty).
 */
function changedColumns(before: OrderEntity, after: OrderEntity): Partial<OrderEntity> {
  const changes: Record<string, unknown> = {};
  for (const key of Object.keys(after) as Array<keyof OrderEntity>) {
    const a = after[key];
    const b = before[key];
    const same = a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;
    if (!same) changes[key] = a;
  }
  return changes as Partial<OrderEntity>;
}

/** Whether the order as the API shows it differs (its update time aside). */
function visibleChange(before: OrderEntity, after: OrderEntity): boolean {
  const a = toOrderView(before);
  const b = toOrderView(after);
  for (const key of Object.keys(b) as Array<keyof OrderView>) {
    if (key === 'updatedAt') continue;
    const x = a[key];
    const y = b[key];
    if (x instanceof Date && y instanceof Date ? x.getTime() !== y.getTime() : x !== y) return true;
  }
  return false;
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
