import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ExecutionAmbiguousError,
  ExecutionRejectedError,
  ExecutionUnavailableError,
  type ExecutionModify,
  type ExecutionOrder,
  type ExecutionPort,
} from '../execution/execution.contract';
import { isTerminal, OrderStatus } from '../trading/order-status';
import type { OrderEntity } from './entities/order.entity';
import { SendPriority, type SendPermit, type SendRequest } from './governor/order-governor';
import { OrderGovernorService } from './governor/order-governor.service';
import { MarketProtectionService } from './market-protection.service';
import { parseState } from './order-row';
import { OrderScheduler } from './order-scheduler';
import { OrderStore, type OrderStep } from './order-store';
import { backoffMs, ORDERS_OPTIONS, type OrdersOptions } from './orders.options';
import { EXECUTION_PORT } from './orders.tokens';

/** Sends of one cancel that never left before it is refused as unavailable. */
const CANCEL_SEND_ATTEMPTS = 5;

/**
 * Everything the OMS asks of the broker (the ExecutionPort): sends written ahead (SENT before
 * the call), retries of sends that never left, and resolution by lookup of every outcome the
 * broker left ambiguous, never by a blind resend. Runs on the order's queue.
 */
@Injectable()
export class OrderDispatchService {
  private readonly logger = new Logger(OrderDispatchService.name);

  constructor(
    private readonly store: OrderStore,
    private readonly scheduler: OrderScheduler,
    @Inject(EXECUTION_PORT) private readonly port: ExecutionPort,
    @Inject(ORDERS_OPTIONS) private readonly options: OrdersOptions,
    private readonly governor: OrderGovernorService,
    private readonly protection: MarketProtectionService,
  ) {}

  /**
   * IN_FLIGHT -> (the order budget) -> SENT (written ahead) -> ExecutionPort.place -> its
   * outcome. When the budget is in use the order is QUEUED and this returns; the governor's
   * grant sends it later on the order's queue, or its refusal ends it REJECTED.
   * `order` is the order's id, or its row as just read on this queue; `approval` is RMS's
   * RISK_APPROVED step not stored yet (see OrderAdmissionService): it is written in the same
   * transaction as whatever this writes first.
   */
  async send(order: string | OrderEntity, approval?: OrderStep): Promise<void> {
    const row = typeof order === 'string' ? await this.store.load(order) : order;
    const pending = approval ? [approval] : [];
    const status = approval ? OrderStatus.IN_FLIGHT : (row.status as OrderStatus);
    if (
      (status !== OrderStatus.IN_FLIGHT && status !== OrderStatus.QUEUED) ||
      this.scheduler.closing ||
      this.governor.governor.isQueued(row.id) ||
      // A sliced order is sent as its children, never itself.
      row.sliceCount > 0
    ) {
      if (approval) await this.store.applySteps(row, pending);
      return;
    }
    const orderId = row.id;
    const state = parseState(row);
    if (state.sendAttempts >= this.options.maxSendAttempts) {
      await this.store.applySteps(row, [
        ...pending,
        {
          event: {
            type: 'BROKER_UPDATE',
            status: OrderStatus.REJECTED,
            reason: 'BROKER_UNAVAILABLE',
          },
          cause: 'oms',
          details: { attempts: state.sendAttempts },
        },
      ]);
      return;
    }
    const request: SendRequest = {
      id: orderId,
      dealer: row.userId,
      segment: row.segment,
      priority: this.governor.priorityOf(orderId),
    };
    // Synchronous without Redis; with it, the shared budget answers first.
    const acquired = this.governor.governor.acquire(request);
    const permit = acquired instanceof Promise ? await acquired : acquired;
    if (permit !== undefined) {
      if (this.scheduler.closing) {
        permit.release();
        if (approval) await this.store.applySteps(row, pending);
        return;
      }
      await this.sendNow(row, permit, pending);
      return;
    }
    const queued =
      status === OrderStatus.QUEUED
        ? row
        : // Durable: the caller is told QUEUED, and a queued order is the OMS's alone.
          (
            await this.store.applySteps(
              row,
              [...pending, { event: { type: 'QUEUED' }, cause: 'governor' }],
              'durable',
            )
          ).row;
    if (queued.status !== OrderStatus.QUEUED) return;
    this.governor.governor.enqueue(request, {
      granted: (granted) => {
        void this.scheduler
          .serial(orderId, () => this.sendGranted(orderId, granted))
          .catch((e: unknown) => {
            granted.release();
            this.logger.error({ msg: 'queued send failed', orderId, err: e });
          });
      },
      refused: (reason) => {
        void this.scheduler
          .serial(orderId, () => this.refuseQueued(orderId, reason))
          .catch((e: unknown) =>
            this.logger.error({ msg: 'queue refusal failed', orderId, err: e }),
          );
      },
    });
  }

  /** The order left the queue by cancel (or its queue is gone): no grant will come for it. */
  withdraw(orderId: string): void {
    this.governor.governor.withdraw(orderId);
    this.governor.forget(orderId);
  }

  private async sendGranted(orderId: string, permit: SendPermit): Promise<void> {
    const row = await this.store.load(orderId);
    if (row.status !== OrderStatus.QUEUED || this.scheduler.closing) {
      permit.release();
      return;
    }
    await this.sendNow(row, permit);
  }

  private async refuseQueued(orderId: string, reason: string): Promise<void> {
    this.governor.forget(orderId);
    const row = await this.store.load(orderId);
    if (row.status !== OrderStatus.QUEUED) return;
    await this.store.apply(
      row,
      { type: 'QUEUE_TIMEOUT', reason: `${QUEUE_TIMEOUT}: ${reason}`.slice(0, 200) },
      'governor',
      { reason },
    );
  }

  /**
   * SENT written ahead, then the request. The permit is stamped when the answer (or failure)
   * comes: the broker received the request before it answered, so stamping then can never be
   * earlier than its arrival, however late the request left or travelled.
   */
  private async sendNow(
    before: OrderEntity,
    permit: SendPermit,
    pending: readonly OrderStep[] = [],
  ): Promise<void> {
    let row: OrderEntity;
    try {
      const protection = this.protection.protectionOf(before);
      if (protection === 'NO_PRICE') {
        permit.release();
        // Never sent: refused here as the broker would refuse an unprotected market order.
        await this.store.applySteps(before, [
          ...pending,
          {
            event: {
              type: 'BROKER_UPDATE',
              status: OrderStatus.REJECTED,
              reason: `${NO_PROTECTION_PRICE}: no live price to protect a market order with`,
            },
            cause: 'oms',
          },
        ]);
        return;
      }
      // Written ahead of the request, so durable before it leaves: a first send's by the
      // routing record ExecutionPort.place commits durably first (see ExecutionPort), which
      // flushes this one too; a resend's (the record exists) here.
      const firstSend = parseState(before).sendAttempts === 0;
      row = (
        await this.store.applySteps(
          before,
          [...pending, { event: { type: 'SENT' }, cause: 'oms', extra: protection }],
          firstSend ? 'deferred' : 'durable',
        )
      ).row;
    } catch (e) {
      permit.release();
      throw e;
    }
    this.governor.forget(row.id);
    let ack: Awaited<ReturnType<ExecutionPort['place']>>;
    try {
      ack = await this.port.place(executionOrder(row)).finally(permit.commit);
    } catch (e) {
      await this.onSendFailure(row, e);
      return;
    }
    // The broker holds the order: a failure to store that is not a failed send (never resolved
    // by lookup nor sent again); the broker's updates and the reconciliation carry it. Deferred
    // commit: the order is durably SENT, so lost with a machine crash the acknowledgement is
    // restored by the boot's lookup of every order in flight.
    await this.store.applySteps(
      row,
      [
        {
          event: { type: 'ACKNOWLEDGED', brokerOrderId: ack.brokerOrderId, status: ack.status },
          cause: 'broker',
        },
      ],
      'deferred',
    );
  }

  /** A modification, through the order budget at the priority of new exposure. */
  async modify(row: OrderEntity, terms: ExecutionModify): Promise<void> {
    const permit = await this.budget(row, 'modify', SendPriority.NEW);
    try {
      await this.port.modify(row.id, terms);
    } finally {
      permit.commit();
    }
  }

  /**
   * A cancel, through the order budget ahead of everything else. A cancel that never left (a
   * DhanHQ rate limit on it or on the check before it, no connection) is sent again after the
   * broker's hint or a short backoff, up to CANCEL_SEND_ATTEMPTS times; then the
   * ExecutionUnavailableError is the caller's (nothing was cancelled).
   */
  async cancel(row: OrderEntity): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const permit = await this.budget(row, 'cancel', SendPriority.CANCEL);
      try {
        await this.port.cancel(row.id);
        return;
      } catch (e) {
        if (!(e instanceof ExecutionUnavailableError) || attempt >= CANCEL_SEND_ATTEMPTS) throw e;
        const delay =
          e.retryAfterMs ??
          backoffMs(attempt - 1, this.options.sendRetryBaseMs, this.options.sendRetryCapMs);
        await new Promise((resolve) => setTimeout(resolve, delay));
      } finally {
        permit.commit();
      }
    }
  }

  /**
   * Waits for a slot of the order budget (on the order's queue: a modify or cancel is answered
   * when sent). Refused after the queue bound as a broker refusal would be: nothing was sent.
   */
  private async budget(
    row: OrderEntity,
    action: string,
    priority: SendPriority,
  ): Promise<SendPermit> {
    const request: SendRequest = {
      id: `${row.id}:${action}`,
      dealer: row.userId,
      segment: row.segment,
      priority,
    };
    const acquired = this.governor.governor.acquire(request);
    const permit =
      (acquired instanceof Promise ? await acquired : acquired) ??
      (await new Promise<SendPermit>((resolve, reject) =>
        this.governor.governor.enqueue(request, {
          granted: resolve,
          refused: (reason) => reject(new ExecutionRejectedError(reason, QUEUE_TIMEOUT)),
        }),
      ));
    return permit;
  }

  /** Looks the order up by correlationId until the broker's answer settles it. */
  resolveLater(orderId: string, attempt = 0, since = Date.now()): void {
    const delay = backoffMs(attempt, this.options.lookupBaseMs, this.options.lookupCapMs);
    this.scheduler.later(delay, orderId, () => this.resolveOnce(orderId, attempt, since));
  }

  /**
   * Looks up an acknowledged working order; one the broker no longer knows (its books restarted,
   * as the embedded simulator's do, or the order belonged to a past trading day) is ended
   * CANCELLED with the tag BROKER_LOST, releasing its funds; one the broker reports final takes
   * that status. True when the order is final afterwards. A failed lookup throws.
   */
  async endIfLost(orderId: string): Promise<boolean> {
    let row = await this.store.load(orderId);
    if (isTerminal(row.status as OrderStatus)) return true;
    if (!ACKNOWLEDGED.has(row.status as OrderStatus)) return false;
    const found = await this.port.lookup(orderId);
    row = await this.store.load(orderId);
    if (isTerminal(row.status as OrderStatus)) return true;
    if (found.found) {
      if (!isTerminal(found.status)) return false;
      await this.store.apply(
        row,
        {
          type: 'BROKER_UPDATE',
          status: found.status,
          quantity: found.quantity,
          filledQuantity: found.filledQuantity,
          averagePrice: found.averagePrice,
          reason: found.reason,
        },
        'lookup',
      );
      return true;
    }
    const ended = await this.store.apply(
      row,
      { type: 'BROKER_UPDATE', status: OrderStatus.CANCELLED, reason: LOST_REASON },
      'lookup',
      { lost: true },
      { tag: BROKER_LOST },
    );
    if (ended.applied) this.logger.warn({ msg: 'order unknown to the broker ended', orderId });
    return isTerminal(ended.row.status as OrderStatus);
  }

  /** endIfLost on the order's queue, retried with backoff while the broker cannot be asked. */
  endIfLostLater(orderId: string, attempt = 0): void {
    const delay =
      attempt === 0 ? 0 : backoffMs(attempt, this.options.lookupBaseMs, this.options.lookupCapMs);
    this.scheduler.later(delay, orderId, async () => {
      try {
        await this.endIfLost(orderId);
      } catch (e) {
        this.logger.warn({ msg: 'lost-order lookup failed, retried', orderId, err: String(e) });
        this.endIfLostLater(orderId, attempt + 1);
      }
    });
  }

  /** A cancel whose outcome is unknown: the broker's final status, or the cancel refused. */
  settleCancelLater(orderId: string, attempt = 0): void {
    const delay = backoffMs(attempt, this.options.lookupBaseMs, this.options.lookupCapMs);
    this.scheduler.later(delay, orderId, async () => {
      const row = await this.store.load(orderId);
      if (!parseState(row).pendingCancel) return;
      try {
        const found = await this.port.lookup(orderId);
        if (found.found && isTerminal(found.status)) {
          await this.store.apply(
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
          await this.store.apply(
            row,
            { type: 'CANCEL_REJECTED', reason: 'not cancelled' },
            'lookup',
          );
        }
      } catch {
        this.settleCancelLater(orderId, attempt + 1);
      }
    });
  }

  private async onSendFailure(row: OrderEntity, e: unknown): Promise<void> {
    if (e instanceof ExecutionRejectedError) {
      await this.store.apply(
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
      this.scheduler.later(delay, row.id, () => this.send(row.id));
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
    await this.store.apply(row, { type: 'AMBIGUOUS', cause: cause.slice(0, 200) }, 'broker');
    this.resolveLater(row.id);
  }

  /**
   * One lookup of an UNKNOWN order by correlationId: found -> ACKNOWLEDGED and the broker's
   * status; not found within the grace period -> look again; not found after it ->
   * RESOLVED_NOT_FOUND and a resend with the same correlationId.
   */
  private async resolveOnce(orderId: string, attempt: number, since: number): Promise<void> {
    let row = await this.store.load(orderId);
    if (row.status !== OrderStatus.UNKNOWN) return;
    let found;
    try {
      found = await this.port.lookup(orderId);
    } catch (e) {
      this.logger.warn({ msg: 'order lookup failed, retried', orderId, err: String(e) });
      this.resolveLater(orderId, attempt + 1, since);
      return;
    }
    if (found.found) {
      row = (
        await this.store.apply(
          row,
          { type: 'ACKNOWLEDGED', brokerOrderId: found.brokerOrderId },
          'lookup',
        )
      ).row;
      await this.store.apply(
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
      this.resolveLater(orderId, attempt + 1, since);
      return;
    }
    await this.store.apply(row, { type: 'RESOLVED_NOT_FOUND' }, 'lookup');
    await this.send(orderId);
  }
}

/** Statuses of an order the broker acknowledged and may still hold. */
const ACKNOWLEDGED: ReadonlySet<OrderStatus> = new Set([
  OrderStatus.TRANSIT,
  OrderStatus.PENDING,
  OrderStatus.PART_TRADED,
]);

/** Reason code of a MARKET order refused at send for want of a live price to protect it with. */
export const NO_PROTECTION_PRICE = 'NO_PROTECTION_PRICE';

/** Reason code of an order (or a modify or cancel) refused after waiting for the order budget. */
export const QUEUE_TIMEOUT = 'QUEUE_TIMEOUT';

/** Tag of an order ended because the broker no longer knew it. */
export const BROKER_LOST = 'BROKER_LOST';
const LOST_REASON = 'Unknown to the broker (its books were reset or the trading day ended)';

function executionOrder(row: OrderEntity): ExecutionOrder {
  const state = parseState(row);
  // A MARKET / SL-M order goes as a LIMIT / STOP_LOSS at its protected price.
  const protectedPrice = row.protectedPrice === null ? undefined : Number(row.protectedPrice);
  const orderType =
    protectedPrice === undefined
      ? (row.orderType as ExecutionOrder['orderType'])
      : row.orderType === 'STOP_LOSS_MARKET'
        ? 'STOP_LOSS'
        : 'LIMIT';
  return {
    orderId: row.id,
    userId: row.userId,
    segment: row.segment as ExecutionOrder['segment'],
    securityId: row.securityId,
    side: row.side as ExecutionOrder['side'],
    quantity: state.quantity,
    orderType,
    productType: row.productType as ExecutionOrder['productType'],
    validity: row.validity as ExecutionOrder['validity'],
    price: protectedPrice ?? (row.price === null ? undefined : Number(row.price)),
    triggerPrice: row.triggerPrice === null ? undefined : Number(row.triggerPrice),
  };
}
