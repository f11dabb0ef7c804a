import type { ExchangeSegment } from '@app/dhan/types';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { Clock } from '../common/clock';
import { InstrumentsService } from '../instruments/instruments.service';
import { sliceQuantity } from '../risk/risk-engine';
import { freezeQuantityOf } from '../risk/freeze-quantities';
import { isTerminal, OrderStatus, type BrokerStatus } from '../trading/order-status';
import { rupeesToUnits } from '../trading/price-units';
import { newOrderState } from './domain/order-state';
import type { OrderEntity } from './entities/order.entity';
import { OrderGovernorService } from './governor/order-governor.service';
import { OrderDispatchService } from './order-dispatch.service';
import { OrderScheduler } from './order-scheduler';
import { OrderStore } from './order-store';
import { ORDER_TRANSITION, type OrderTransitionEvent } from './orders.events';

/** The broker statuses a child reaches once the broker has it. */
const AT_BROKER: ReadonlySet<string> = new Set([
  OrderStatus.TRANSIT,
  OrderStatus.PENDING,
  OrderStatus.PART_TRADED,
]);

/**
 * Freeze-quantity slicing: an order RMS approved above the exchange's freeze quantity is never
 * sent itself; it is sent as children (each within the freeze quantity, each through the order
 * budget), and shows their sum: filled quantity, average price (exact, from integer price
 * units), and a status derived from theirs. The parent holds the margin for the whole; the
 * children hold none and are left out of RMS's working-order facts (counted once, through the
 * parent).
 */
@Injectable()
export class OrderSlicingService implements OnModuleInit {
  private readonly logger = new Logger(OrderSlicingService.name);
  /** child id -> parent id, for the children of this process's life (and recovered ones). */
  private readonly parents = new Map<string, string>();

  constructor(
    private readonly store: OrderStore,
    private readonly scheduler: OrderScheduler,
    private readonly dispatch: OrderDispatchService,
    private readonly governor: OrderGovernorService,
    private readonly instruments: InstrumentsService,
    private readonly emitter: EventEmitter2,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.emitter.on(ORDER_TRANSITION, (e: OrderTransitionEvent) => {
      const parentId = this.parents.get(e.orderId);
      if (parentId !== undefined) this.recomputeLater(parentId);
    });
  }

  /** A recovered child: its transitions move its parent again. */
  adopt(child: OrderEntity): void {
    if (child.parentId !== null) this.parents.set(child.id, child.parentId);
  }

  /**
   * Creates the parent's missing children (idempotent: a child's key is its parent's id and
   * its number) and sends each; runs on the parent's queue.
   */
  async slice(parentId: string, slices?: number[]): Promise<void> {
    const parent = await this.store.load(parentId);
    if (parent.sliceCount === 0 || parent.status !== OrderStatus.IN_FLIGHT) return;
    const quantities = slices ?? this.slicesOf(parent);
    const reducing = this.governor.isReducing(parent.id);
    for (let i = 0; i < quantities.length; i++) {
      const now = this.clock.now();
      const state = newOrderState(quantities[i]);
      const row: OrderEntity = {
        ...parent,
        id: randomUUID(),
        clientOrderId: `${parent.id}:${String(i + 1).padStart(2, '0')}`,
        quantity: quantities[i],
        status: state.status,
        filledQuantity: 0,
        averagePrice: null,
        brokerOrderId: null,
        rejectionReason: null,
        modificationCount: 0,
        sendAttempts: 0,
        reservedPaise: 0,
        reservation: null,
        pendingTerms: null,
        protectedPrice: null,
        protectionPercent: null,
        parentId: parent.id,
        sliceCount: 0,
        state: JSON.stringify(state),
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      const stored = await this.store.insertNew(row);
      this.parents.set(stored.id, parent.id);
      if (reducing) this.governor.markReducing(stored.id);
      void this.scheduler
        .serial(stored.id, async () => {
          const child = await this.store.load(stored.id);
          if (child.status === OrderStatus.NEW) {
            // Approved with its parent: RMS checked and reserved the whole order.
            await this.store.apply(child, { type: 'RISK_APPROVED' }, 'rms', { parent: parent.id });
          }
          await this.dispatch.send(stored.id);
        })
        .catch((e: unknown) =>
          this.logger.error({ msg: 'slice send failed', orderId: stored.id, err: e }),
        );
    }
  }

  private slicesOf(parent: OrderEntity): number[] {
    const instrument = this.instruments.get(parent.segment as ExchangeSegment, parent.securityId);
    const freeze = freezeQuantityOf(instrument);
    if (freeze === undefined) return [parent.quantity];
    return sliceQuantity(parent.quantity, freeze, instrument?.lotSize ?? 1);
  }

  private recomputeLater(parentId: string): void {
    void this.scheduler
      .serial(parentId, () => this.recompute(parentId))
      .catch((e: unknown) =>
        this.logger.error({ msg: 'sliced order update failed', orderId: parentId, err: e }),
      );
  }

  /** The parent's quantities, average and status from its children's. */
  async recompute(parentId: string): Promise<void> {
    const parent = await this.store.load(parentId);
    if (isTerminal(parent.status as OrderStatus)) return;
    const children = await this.store.children(parentId);
    if (children.length < parent.sliceCount) return;
    const { status, quantity, filled, averagePrice } = aggregateSlices(children);
    if (status === undefined) return;
    const rejected = children.find((c) => c.status === OrderStatus.REJECTED);
    await this.store.apply(
      parent,
      {
        type: 'BROKER_UPDATE',
        status,
        quantity,
        filledQuantity: filled,
        ...(averagePrice !== undefined ? { averagePrice } : {}),
        ...(status === OrderStatus.REJECTED && rejected?.rejectionReason
          ? { reason: rejected.rejectionReason }
          : {}),
      },
      'slices',
      { children: children.length },
    );
  }
}

/** What a sliced order shows, from its children (the columns of theirs that count). */
export function aggregateSlices(
  children: ReadonlyArray<
    Pick<OrderEntity, 'status' | 'quantity' | 'filledQuantity' | 'averagePrice'>
  >,
): { status?: BrokerStatus; quantity: number; filled: number; averagePrice?: number } {
  let quantity = 0;
  let filled = 0;
  let valueUnits = 0;
  for (const c of children) {
    quantity += c.quantity;
    filled += c.filledQuantity;
    if (c.filledQuantity > 0 && c.averagePrice !== null) {
      valueUnits += c.filledQuantity * (rupeesToUnits(Number(c.averagePrice)) ?? 0);
    }
  }
  const statuses = children.map((c) => c.status as OrderStatus);
  let status: BrokerStatus | undefined;
  if (statuses.every(isTerminal)) {
    if (filled === quantity) status = OrderStatus.TRADED;
    else if (statuses.every((s) => s === OrderStatus.REJECTED)) status = OrderStatus.REJECTED;
    else if (statuses.every((s) => s === OrderStatus.EXPIRED || s === OrderStatus.TRADED))
      status = OrderStatus.EXPIRED;
    else status = OrderStatus.CANCELLED;
  } else if (filled > 0) {
    status = OrderStatus.PART_TRADED;
  } else if (statuses.some((s) => AT_BROKER.has(s) || isTerminal(s))) {
    status = OrderStatus.PENDING;
  }
  return {
    status,
    quantity,
    filled,
    ...(filled > 0 ? { averagePrice: valueUnits / filled / 10_000 } : {}),
  };
}
