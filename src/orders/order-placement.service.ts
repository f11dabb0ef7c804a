import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from '../common/clock';
import { BadUserInputError, ConflictError } from '../common/errors/domain-error';
import { InstrumentsService } from '../instruments/instruments.service';
import { newOrderState } from './domain/order-state';
import type { OrderEntity } from './entities/order.entity';
import { OrderAdmissionService } from './order-admission.service';
import { OrderDispatchService } from './order-dispatch.service';
import { creationTerms } from './order-row';
import { istDate } from '../trading/ist-date';
import { OrderScheduler } from './order-scheduler';
import { OrderSlicingService } from './order-slicing.service';
import { OrderStore } from './order-store';
import {
  CLIENT_ORDER_ID_PATTERN,
  validateTerms,
  type PlaceOrderCommand,
  type ValidTerms,
} from './order-terms';
import { toOrderView, type OrderView } from './order-view';

/**
 * placeOrder: validation (BAD_USER_INPUT, nothing stored), one order per (user, clientOrderId),
 * then RMS and the first send on the order's queue.
 */
@Injectable()
export class OrderPlacementService {
  private readonly placing = new Map<string, Promise<{ id: string; created: boolean }>>();

  constructor(
    private readonly store: OrderStore,
    private readonly scheduler: OrderScheduler,
    private readonly instruments: InstrumentsService,
    private readonly admission: OrderAdmissionService,
    private readonly dispatch: OrderDispatchService,
    private readonly slicing: OrderSlicingService,
    private readonly clock: Clock,
  ) {}

  /**
   * Concurrent calls with one key share one promise, a unique-index violation reads the winner,
   * and a repeat returns the original order, or CONFLICT when its terms differ. Returns after
   * the first send attempt has an outcome (or the order was rejected).
   */
  async place(userId: string, input: PlaceOrderCommand, deskNote?: string): Promise<OrderView> {
    if (
      typeof input.clientOrderId !== 'string' ||
      !CLIENT_ORDER_ID_PATTERN.test(input.clientOrderId)
    ) {
      throw new BadUserInputError('clientOrderId must be 1-64 characters of A-Z a-z 0-9 _ . : -');
    }
    await this.instruments.ready();
    const instrument = this.instruments.get(input.segment, input.securityId);
    const terms = validateTerms(input, instrument, istDate(this.clock.now().getTime()));
    const key = `${userId}\u0000${input.clientOrderId}`;
    let run = this.placing.get(key);
    const first = run === undefined;
    if (run === undefined) {
      const started = this.createAndAdmit(userId, input, terms, deskNote);
      this.placing.set(key, started);
      void started
        .catch(() => undefined)
        .then(() => {
          if (this.placing.get(key) === started) this.placing.delete(key);
        });
      run = started;
    }
    const { id, created } = await run;
    if (first && created) return toOrderView(await this.store.load(id));
    return this.repeated(userId, id, input, terms);
  }

  private async createAndAdmit(
    userId: string,
    input: PlaceOrderCommand,
    terms: ValidTerms,
    /** Set when the risk desk places it on the dealer's behalf (a square-off). */
    deskNote?: string,
  ): Promise<{ id: string; created: boolean }> {
    // No lookup first: the (user, clientOrderId) unique index answers a repeat (see insertNew).
    const now = this.clock.now();
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
      tag: input.tag ?? null,
      deskNote: deskNote ?? null,
      protectedPrice: null,
      protectionPercent: null,
      parentId: null,
      sliceCount: 0,
      modificationCount: 0,
      sendAttempts: 0,
      reservedPaise: 0,
      reservation: null,
      pendingTerms: null,
      state: JSON.stringify(state),
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    const stored = await this.store.insertNew(row);
    if (!stored.created) return stored;
    await this.scheduler.serial(row.id, async () => {
      const admission = await this.admission.approve(row, input.fundedBy);
      if (admission.verdict === 'SLICED') await this.slicing.slice(row.id, admission.slices);
      else if (admission.verdict === 'APPROVED') {
        await this.dispatch.send(admission.row, admission.approval);
      }
    });
    return stored;
  }

  /** A repeated clientOrderId: the original order when the terms match, CONFLICT otherwise. */
  private async repeated(
    userId: string,
    id: string,
    input: PlaceOrderCommand,
    terms: ValidTerms,
  ): Promise<OrderView> {
    await this.scheduler.settled(id);
    const row = await this.store.load(id);
    const original = await this.store.creationTermsOf(id);
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
}
