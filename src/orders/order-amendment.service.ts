import type { ExchangeSegment } from '@app/dhan/types';
import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { ConflictError, DomainError, UnavailableError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { ExecutionRejectedError, ExecutionUnavailableError } from '../execution/execution.contract';
import { InstrumentsService } from '../instruments/instruments.service';
import { RiskService } from '../risk/risk.service';
import { isTerminal, type OrderStatus } from '../trading/order-status';
import { transition } from './domain/order-state';
import { BROKER_LOST, OrderDispatchService } from './order-dispatch.service';
import type { OrderEntity } from './entities/order.entity';
import {
  brokerRefusal,
  parseState,
  reservationRow,
  riskOrder,
  termsOf,
  type PendingTerms,
} from './order-row';
import { istDate } from '../trading/ist-date';
import { OrderScheduler } from './order-scheduler';
import { OrderStore } from './order-store';
import { validateTerms, type ModifyOrderCommand } from './order-terms';
import { toOrderView, type OrderView } from './order-view';

/** Who cancels when it is not the user: the day cycle (cause and the tag the order shows). */
export interface CancelOrigin {
  cause: string;
  tag: string;
}

/** A cancel the risk desk asks for on the dealer's behalf: who, why, and what the dealer sees. */
export interface DeskAction {
  actor: string;
  reason: string;
  /** Shown to the dealer on the order (`deskNote`). */
  note: string;
}

/** modifyOrder and cancelOrder, each on the order's queue. */
@Injectable()
export class OrderAmendmentService {
  private readonly logger = new Logger(OrderAmendmentService.name);

  constructor(
    private readonly store: OrderStore,
    private readonly scheduler: OrderScheduler,
    private readonly instruments: InstrumentsService,
    private readonly risk: RiskService,
    private readonly dispatch: OrderDispatchService,
    private readonly clock: Clock,
  ) {}

  /**
   * Changes quantity, price, trigger, type or validity of a working order: RMS again (action
   * MODIFY; a denial is BAD_USER_INPUT with `rejectionReason`, the order unchanged), then
   * MODIFY_REQUESTED (at most 25 per order) and the broker's answer.
   */
  modify(userId: string, id: string, input: ModifyOrderCommand): Promise<OrderView> {
    return this.scheduler.serial(id, async () => {
      let row = await this.store.owned(userId, id);
      if (row.sliceCount > 0) {
        throw new ConflictError(
          'Cannot modify: the order was sliced above the freeze quantity; modify its slices',
        );
      }
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
        istDate(this.clock.now().getTime()),
      );
      const state = parseState(row);
      const check = transition(state, { type: 'MODIFY_REQUESTED', quantity: terms.quantity });
      if (check.kind !== 'APPLIED') {
        throw new ConflictError(
          check.kind === 'ILLEGAL' ? `Cannot modify: ${check.illegal.reason}` : check.reason,
        );
      }
      // What the order stored before: put back if the broker refuses the modification.
      const before = reservationRow(row);
      const pending: PendingTerms = {
        orderType: terms.orderType,
        validity: terms.validity,
        price: terms.priceText,
        triggerPrice: terms.triggerText,
      };
      // Checked and stored as one admission of the dealer's (alone across instances with
      // REDIS_URL, on the ledger rebuilt from the database).
      const requested = row;
      row = await this.risk.admitExclusively(userId, async () => {
        const verdict = await this.risk.check(
          {
            ...riskOrder(requested, terms, 'MODIFY'),
            previous: old,
            filledQuantity: requested.filledQuantity,
          },
          instrument,
        );
        if (!verdict.pass) {
          throw new DomainError(
            ErrorCode.BAD_USER_INPUT,
            `Modification denied by risk checks (${verdict.code}): ${verdict.message}`,
            { rejectionReason: verdict.code },
          );
        }
        const held = this.risk.reservationOf(userId, id);
        return (
          await this.store.apply(
            requested,
            { type: 'MODIFY_REQUESTED', quantity: terms.quantity },
            'user',
            { ...pending },
            {
              pendingTerms: JSON.stringify(pending),
              reservedPaise: held.heldPaise,
              reservation: held.terms,
            },
          )
        ).row;
      });
      try {
        await this.dispatch.modify(row, {
          orderType: terms.orderType,
          validity: terms.validity,
          quantity: terms.quantity,
          price: terms.price,
          triggerPrice: terms.triggerPrice,
        });
      } catch (e) {
        const restored = await this.risk.restoreReservation(userId, before);
        const reason = e instanceof Error ? e.message : String(e);
        await this.store.apply(
          row,
          { type: 'MODIFY_REJECTED', reason: reason.slice(0, 200) },
          'broker',
          undefined,
          {
            pendingTerms: null,
            reservedPaise: restored.heldPaise,
            reservation: restored.terms,
          },
        );
        throw brokerRefusal('Modification', e);
      }
      row = await this.store.load(id);
      const after = await this.store.apply(row, { type: 'MODIFY_ACKED' }, 'broker', undefined, {
        orderType: pending.orderType,
        validity: pending.validity,
        price: pending.price,
        triggerPrice: pending.triggerPrice,
        pendingTerms: null,
      });
      return toOrderView(after.row);
    });
  }

  /**
   * Cancels a working order (RMS never blocks a cancel). An order the broker no longer knows is
   * ended (BROKER_LOST) rather than refused. CONFLICT when it cannot be cancelled.
   */
  async cancel(
    userId: string,
    id: string,
    origin?: CancelOrigin,
    byDesk?: DeskAction,
  ): Promise<OrderView> {
    const parent = await this.store.owned(userId, id);
    if (parent.sliceCount > 0) return this.cancelSliced(userId, parent, origin, byDesk);
    return this.scheduler.serial(id, async () => {
      let row = await this.store.owned(userId, id);
      // Already ended because the broker lost it: the cancel has nothing left to do.
      if (row.tag === BROKER_LOST && isTerminal(row.status as OrderStatus)) return toOrderView(row);
      const check = transition(parseState(row), { type: 'CANCEL_REQUESTED' });
      if (check.kind === 'ILLEGAL') {
        throw new ConflictError(`Cannot cancel: ${check.illegal.reason}`);
      }
      if (check.kind === 'IGNORED') return toOrderView(row);
      row = byDesk
        ? (
            await this.store.apply(
              row,
              { type: 'CANCEL_REQUESTED' },
              'desk',
              { by: byDesk.actor, reason: byDesk.reason },
              { deskNote: byDesk.note },
            )
          ).row
        : (
            await this.store.apply(
              row,
              { type: 'CANCEL_REQUESTED' },
              origin?.cause ?? 'user',
              undefined,
              origin ? { tag: origin.tag } : {},
            )
          ).row;
      if (isTerminal(row.status as OrderStatus)) {
        // NEW or QUEUED: never sent, cancelled here (and out of the governor's queue).
        this.dispatch.withdraw(id);
        return toOrderView(row);
      }
      try {
        await this.dispatch.cancel(row);
      } catch (e) {
        if (e instanceof ExecutionRejectedError) {
          // An order the broker no longer knows (books reset, a past day's order) ends here.
          if (await this.endedAsLost(id)) return toOrderView(await this.store.load(id));
          await this.store.apply(
            row,
            { type: 'CANCEL_REJECTED', reason: e.reason.slice(0, 200) },
            'broker',
          );
          throw brokerRefusal('Cancel', e);
        }
        if (e instanceof ExecutionUnavailableError) {
          // It never left, even when sent again: nothing was cancelled, and the user is told so
          // (retryable) rather than the cancel being settled as refused behind their back.
          await this.store.apply(
            row,
            { type: 'CANCEL_REJECTED', reason: `not sent: ${e.message}`.slice(0, 200) },
            'broker',
          );
          throw new UnavailableError(
            'The cancel could not be sent to the broker just now; nothing was cancelled. Try again.',
          );
        }
        // Outcome unknown: the broker's updates or a lookup settle it.
        this.logger.warn({
          msg: 'cancel outcome unknown, settled by lookup',
          orderId: id,
          err: String(e),
        });
        this.dispatch.settleCancelLater(id);
        return toOrderView(await this.store.load(id));
      }
      row = await this.store.load(id);
      return toOrderView((await this.store.apply(row, { type: 'CANCEL_ACKED' }, 'broker')).row);
    });
  }

  /**
   * A sliced order: each working child is cancelled (a queued one at once); the parent follows
   * its children to CANCELLED. CONFLICT naming the slices that could not be cancelled yet.
   */
  private async cancelSliced(
    userId: string,
    parent: OrderEntity,
    origin?: CancelOrigin,
    byDesk?: DeskAction,
  ): Promise<OrderView> {
    if (isTerminal(parent.status as OrderStatus)) return toOrderView(parent);
    const children = await this.store.children(parent.id);
    const refused: string[] = [];
    for (const child of children) {
      if (isTerminal(child.status as OrderStatus)) continue;
      try {
        await this.cancel(userId, child.id, origin, byDesk);
      } catch (e) {
        refused.push(`${child.clientOrderId}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (refused.length > 0) {
      throw new ConflictError(`Some slices could not be cancelled yet (${refused.join('; ')})`);
    }
    return toOrderView(await this.store.load(parent.id));
  }

  private async endedAsLost(id: string): Promise<boolean> {
    try {
      return await this.dispatch.endIfLost(id);
    } catch (e) {
      this.logger.warn({
        msg: 'lookup after a refused cancel failed',
        orderId: id,
        err: String(e),
      });
      return false;
    }
  }
}
