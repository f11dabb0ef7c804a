import type { ExchangeSegment, Instrument } from '@app/dhan/types';
import type { ProductType } from '../trading/order-vocabulary';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import {
  EXECUTION_ORDER_EVENT,
  type ExecutionOrderEventPayload,
} from '../execution/execution.contract';
import { InstrumentsService } from '../instruments/instruments.service';
import type { OrderEventEntity } from './entities/order-event.entity';
import {
  OrderAmendmentService,
  type CancelOrigin,
  type DeskAction,
} from './order-amendment.service';
import { BROKER_LOST } from './order-dispatch.service';
import { OrderPlacementService } from './order-placement.service';
import { OrderRecoveryService } from './order-recovery.service';
import { OrderStatus } from '../trading/order-status';
import { OrderGovernorService } from './governor/order-governor.service';
import { OrderScheduler } from './order-scheduler';
import { OrderStore, type OrderSearch } from './order-store';
import type { ModifyOrderCommand, PlaceOrderCommand } from './order-terms';
import { toOrderView, type OrderView } from './order-view';

/** Tag of a DAY order ended at the close. */
export const DAY_END = 'DAY_END';
/** Tag of orders the intraday square-off places or cancels. */
export const INTRADAY_SQUARE_OFF = 'INTRADAY_SQUARE_OFF';

/** What the close did to working orders: cancelled at the broker, ended as lost, left working. */
export interface DayEndReport {
  cancelled: number;
  ended: number;
  left: number;
}

/** An open position to close. */
export interface SquareOffPosition {
  userId: string;
  segment: ExchangeSegment;
  securityId: string;
  productType: ProductType;
  netQuantity: number;
}

/**
 * The OMS as the rest of the application sees it. The work is done by its parts: placement
 * (validation, idempotency, RMS, first send), amendment (modify, cancel), dispatch (the broker
 * calls and the resolution of ambiguous outcomes), recovery (at boot) and the store (state
 * transitions with their event rows). All work on one order runs on that order's queue.
 */
@Injectable()
export class OrdersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(OrdersService.name);
  private recovered: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: OrderStore,
    private readonly scheduler: OrderScheduler,
    private readonly instruments: InstrumentsService,
    private readonly placement: OrderPlacementService,
    private readonly amendment: OrderAmendmentService,
    private readonly recovery: OrderRecoveryService,
    private readonly governor: OrderGovernorService,
  ) {}

  /** Startup recovery runs in the background; `whenRecovered` lets tests wait for it. */
  onApplicationBootstrap(): void {
    this.recovered = this.recovery
      .recover()
      .catch((e: unknown) => this.logger.error({ msg: 'order recovery failed', err: e }));
  }

  whenRecovered(): Promise<void> {
    return this.recovered;
  }

  /** Resolves when the order's queued work (including an in-progress send) is done. */
  settled(orderId: string): Promise<void> {
    return this.scheduler.settled(orderId);
  }

  async get(userId: string, id: string): Promise<OrderView> {
    return toOrderView(await this.store.owned(userId, id));
  }

  async list(userId: string): Promise<OrderView[]> {
    return (await this.store.list(userId)).map(toOrderView);
  }

  /** The audit trail of one of the user's orders, oldest first. */
  history(userId: string, id: string): Promise<OrderEventEntity[]> {
    return this.store.history(userId, id);
  }

  instrumentOf(order: Pick<OrderView, 'segment' | 'securityId'>): Instrument | undefined {
    return this.instruments.get(order.segment, order.securityId);
  }

  /** A QUEUED order's 1-based place in its segment's queue for the order budget; else null. */
  queuePosition(order: Pick<OrderView, 'id' | 'status'>): number | null {
    if (order.status !== OrderStatus.QUEUED) return null;
    return this.governor.position(order.id) ?? null;
  }

  place(userId: string, input: PlaceOrderCommand): Promise<OrderView> {
    return this.placement.place(userId, input);
  }

  modify(userId: string, id: string, input: ModifyOrderCommand): Promise<OrderView> {
    return this.amendment.modify(userId, id, input);
  }

  cancel(userId: string, id: string): Promise<OrderView> {
    return this.amendment.cancel(userId, id);
  }

  // ---- the day boundary (called by the day cycle) ----

  /**
   * The close of `segments`: every DAY order still working there is cancelled at the broker
   * (tag DAY_END; the broker's update then ends it) or, when the broker no longer knows it,
   * ended (BROKER_LOST). Orders not yet acknowledged are left to their own resolution.
   */
  async endDayOrders(segments: readonly string[]): Promise<DayEndReport> {
    const report: DayEndReport = { cancelled: 0, ended: 0, left: 0 };
    const rows = (await this.store.working()).filter(
      (o) => o.validity === 'DAY' && segments.includes(o.segment),
    );
    for (const row of rows) {
      report[await this.endOne(row, { cause: 'day-end', tag: DAY_END })]++;
    }
    if (rows.length > 0) this.logger.log({ msg: 'DAY orders ended at the close', ...report });
    return report;
  }

  /** Cancels working orders of `productTypes` on `segments` (before an intraday square-off). */
  async cancelWorking(
    segments: readonly string[],
    productTypes: ReadonlySet<string>,
    origin: CancelOrigin,
  ): Promise<DayEndReport> {
    const report: DayEndReport = { cancelled: 0, ended: 0, left: 0 };
    const rows = (await this.store.working()).filter(
      (o) => segments.includes(o.segment) && productTypes.has(o.productType),
    );
    for (const row of rows) report[await this.endOne(row, origin)]++;
    return report;
  }

  /**
   * Closes an open position with an ordinary MARKET order tagged `tag`; its clientOrderId is
   * derived from the trading date and the position, so a second call the same day places
   * nothing new.
   */
  squareOff(position: SquareOffPosition, tradingDate: string, tag: string): Promise<OrderView> {
    return this.placement.place(position.userId, {
      clientOrderId: `SQ-${tradingDate}-${position.segment}-${position.securityId}-${position.productType}`,
      segment: position.segment,
      securityId: position.securityId,
      side: position.netQuantity > 0 ? 'SELL' : 'BUY',
      quantity: Math.abs(position.netQuantity),
      orderType: 'MARKET',
      productType: position.productType,
      validity: 'DAY',
      tag,
    });
  }

  private async endOne(
    row: { id: string; userId: string; status: string },
    origin: CancelOrigin,
  ): Promise<keyof DayEndReport> {
    try {
      const after = await this.amendment.cancel(row.userId, row.id, origin);
      if (after.tag === BROKER_LOST) return 'ended';
      return 'cancelled';
    } catch (e) {
      this.logger.warn({ msg: 'order not ended at the close', orderId: row.id, err: String(e) });
      return 'left';
    }
  }

  // ---- the risk desk (admin schema): every dealer's orders, acting on a dealer's behalf ----

  /** Orders of every dealer matching `filter`, newest first, one page. */
  async search(
    filter: OrderSearch,
    page: { limit: number; offset: number },
  ): Promise<{ total: number; items: OrderView[] }> {
    const { rows, total } = await this.store.search(filter, page);
    return { total, items: rows.map(toOrderView) };
  }

  /** Any dealer's order by id (NOT_FOUND when there is none). */
  async find(id: string): Promise<OrderView> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return this.get('', id);
    return toOrderView(await this.store.load(id));
  }

  /** Cancels a dealer's order for the desk; the dealer's orderUpdates carry `deskNote`. */
  cancelForDesk(userId: string, id: string, action: DeskAction): Promise<OrderView> {
    return this.amendment.cancel(userId, id, undefined, action);
  }

  /** Places an order for a dealer on the desk's word (a square-off), noted on the order. */
  placeForDesk(userId: string, input: PlaceOrderCommand, note: string): Promise<OrderView> {
    return this.placement.place(userId, input, note);
  }

  /** The broker's word on one of our orders (order-update socket, reconciliation, paper fills). */
  @OnEvent(EXECUTION_ORDER_EVENT)
  onExecutionEvent(payload: ExecutionOrderEventPayload): void {
    void this.scheduler
      .serial(payload.orderId, async () => {
        const row = await this.store.find(payload.orderId);
        if (!row || row.userId !== payload.userId) {
          this.logger.warn({
            msg: 'broker event for an unknown order ignored',
            orderId: payload.orderId,
            event: payload.event.type,
          });
          return;
        }
        await this.store.apply(row, payload.event, payload.source);
      })
      .catch((e: unknown) =>
        this.logger.error({ msg: 'broker event not applied', orderId: payload.orderId, err: e }),
      );
  }
}

export type { DeskAction } from './order-amendment.service';
export type { OrderSearch } from './order-store';
