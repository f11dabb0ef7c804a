import type { Instrument } from '@app/dhan/types';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { randomUUID } from 'node:crypto';
import { DataSource, In, type Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import { BadUserInputError, ConflictError, NotFoundError } from '../../common/errors/domain-error';
import { KeyedSerialQueue } from '../../common/keyed-serial-queue';
import { isUniqueViolation } from '../../database/unique-violation';
import { InstrumentsService } from '../../instruments/instruments.service';
import { RiskService } from '../../risk/risk.service';
import { BasketStatus, MAX_BASKET_LEGS } from '../../trading/basket-status';
import { istDate } from '../../trading/ist-date';
import { isTerminal, OrderStatus } from '../../trading/order-status';
import { OrderStore } from '../order-store';
import { ORDER_TRANSITION, type OrderTransitionEvent } from '../orders.events';
import {
  CLIENT_ORDER_ID_PATTERN,
  checkedTerms,
  validateTerms,
  type PlaceOrderCommand,
  type ValidTerms,
} from '../order-terms';
import type { OrderView } from '../order-view';
import { OrdersService } from '../orders.service';
import { BasketEntity, BasketLegEntity } from './entities/basket.entity';

/** What placeBasket asks for. */
export interface PlaceBasketCommand {
  legs: PlaceOrderCommand[];
  /** Hedges first: legs that reduce a position and bought options are sent before the others. */
  hedgeFirst?: boolean;
}

export interface BasketLegView {
  /** 0-based, as given. */
  index: number;
  /** 0-based place in the send order once approved; null before (or when rejected). */
  sendRank: number | null;
  command: PlaceOrderCommand;
  order: OrderView | null;
}

export interface BasketView {
  id: string;
  userId: string;
  status: BasketStatus;
  hedgeFirst: boolean;
  origin: string | null;
  rejectionReason: string | null;
  rejectedLeg: number | null;
  message: string | null;
  legs: BasketLegView[];
  createdAt: Date;
  updatedAt: Date;
}

/** Rejection reason of a basket whose risk check a restart interrupted (nothing was sent). */
export const BASKET_INTERRUPTED = 'BASKET_INTERRUPTED';

/** An order in one of these has not been answered by the broker yet. */
const AWAITING_SEND: ReadonlySet<string> = new Set([
  OrderStatus.NEW,
  OrderStatus.QUEUED,
  OrderStatus.IN_FLIGHT,
]);

/**
 * Baskets on top of the OMS's own placement path. A basket is stored PENDING with its legs;
 * RMS then checks the legs together (RiskService.holdBasket: the combined margin held, the
 * legs counted together against the open-order cap, the basket as one order against the rate
 * window). A denial ends the basket
 * REJECTED with the failing leg and reason, and nothing is sent or stored as an order. When all
 * pass, the legs are placed one after another in the send order (as given, or hedges first),
 * each through placeOrder's path (idempotent per clientOrderId, its own RMS check drawing on
 * its hold, then the order governor); a leg the budget queued is answered by the broker before
 * the next leaves, so the broker receives them in that order. All work on one basket runs on
 * that basket's queue.
 */
@Injectable()
export class BasketService implements OnApplicationBootstrap {
  private readonly logger = new Logger(BasketService.name);
  private readonly queue = new KeyedSerialQueue<string>();
  /** What this instance did, for /metrics: baskets by the status they ended in, legs sent. */
  readonly stats = {
    ended: new Map<BasketStatus, number>(),
    legsPlaced: 0,
    legsNotPlaced: 0,
  };
  /** Baskets cancelled while their legs were being placed: the rest are not placed. */
  private readonly cancelled = new Set<string>();
  private resumed: Promise<void> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    private readonly orders: OrdersService,
    private readonly store: OrderStore,
    private readonly risk: RiskService,
    private readonly instruments: InstrumentsService,
    private readonly clock: Clock,
    private readonly events: EventEmitter2,
  ) {}

  private get baskets(): Repository<BasketEntity> {
    return this.dataSource.getRepository(BasketEntity);
  }

  private get legRows(): Repository<BasketLegEntity> {
    return this.dataSource.getRepository(BasketLegEntity);
  }

  /** Baskets a restart interrupted are finished in the background (see `resume`). */
  onApplicationBootstrap(): void {
    this.resumed = this.orders
      .whenRecovered()
      .then(() => this.resume())
      .catch((e: unknown) => this.logger.error({ msg: 'basket resume failed', err: e }));
  }

  whenResumed(): Promise<void> {
    return this.resumed;
  }

  /**
   * placeBasket. Bad input (no legs, more than 20, a repeated clientOrderId, a leg placeOrder
   * would refuse) is BAD_USER_INPUT and stores nothing. A basket whose first leg's
   * clientOrderId is already a basket's returns that basket (CONFLICT when its legs differ);
   * a leg key already used by an order is a CONFLICT.
   */
  async place(userId: string, input: PlaceBasketCommand, origin?: string): Promise<BasketView> {
    const legs = await this.validate(input);
    const existing = await this.legRows.findOne({
      where: { userId, clientOrderId: legs[0].clientOrderId },
    });
    if (existing) return this.repeated(userId, existing.basketId, legs);
    for (const leg of legs) {
      if ((await this.store.idOfClientOrder(userId, leg.clientOrderId)) !== undefined) {
        throw new ConflictError(`clientOrderId ${leg.clientOrderId} is already an order's`);
      }
    }
    const now = this.clock.now();
    const basket: BasketEntity = {
      id: randomUUID(),
      userId,
      status: BasketStatus.PENDING,
      hedgeFirst: input.hedgeFirst === true,
      origin: origin ?? null,
      rejectionReason: null,
      rejectedLeg: null,
      message: null,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.dataSource.transaction(async (em) => {
        await em.insert(BasketEntity, basket);
        await em.insert(
          BasketLegEntity,
          legs.map((leg, i) => ({
            basketId: basket.id,
            legIndex: i,
            userId,
            clientOrderId: leg.clientOrderId,
            terms: JSON.stringify(leg),
            sendRank: null,
            orderId: null,
          })),
        );
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      const winner = await this.legRows.findOne({
        where: { userId, clientOrderId: legs[0].clientOrderId },
      });
      if (!winner) throw new ConflictError('A leg clientOrderId is already used by a basket');
      return this.repeated(userId, winner.basketId, legs);
    }
    await this.queue.run(basket.id, () => this.checkAndSend(basket, legs));
    return this.get(userId, basket.id);
  }

  async get(userId: string, id: string): Promise<BasketView> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.baskets.findOneBy({ id }) : null;
    if (!row || row.userId !== userId) throw new NotFoundError(`No basket ${id}`);
    return (await this.views([row]))[0];
  }

  /** The user's baskets, newest first (100 at most). */
  async list(userId: string): Promise<BasketView[]> {
    const rows = await this.baskets.find({
      where: { userId },
      order: { createdAt: 'DESC' },
      take: 100,
    });
    return this.views(rows);
  }

  /**
   * cancelBasket: legs not yet sent are never sent, working legs are cancelled (their
   * cancels go through the order governor ahead of new orders). CONFLICT for a REJECTED basket.
   */
  async cancel(userId: string, id: string): Promise<BasketView> {
    const basket = await this.get(userId, id);
    if (basket.status === BasketStatus.REJECTED) {
      throw new ConflictError('A REJECTED basket sent nothing to cancel');
    }
    this.cancelled.add(id);
    await this.setStatus(id, BasketStatus.CANCELLED);
    this.ended(BasketStatus.CANCELLED);
    await this.queue.run(id, () => this.cancelLegs(userId, id));
    return this.get(userId, id);
  }

  // ---- the steps ----

  private async validate(input: PlaceBasketCommand): Promise<PlaceOrderCommand[]> {
    const legs = input.legs;
    if (!Array.isArray(legs) || legs.length === 0) {
      throw new BadUserInputError('A basket needs at least one leg');
    }
    if (legs.length > MAX_BASKET_LEGS) {
      throw new BadUserInputError(`A basket has at most ${MAX_BASKET_LEGS} legs`);
    }
    const keys = new Set<string>();
    await this.instruments.ready();
    const today = istDate(this.clock.now().getTime());
    return legs.map((leg, i) => {
      if (
        typeof leg.clientOrderId !== 'string' ||
        !CLIENT_ORDER_ID_PATTERN.test(leg.clientOrderId)
      ) {
        throw new BadUserInputError(
          `Leg ${i}: clientOrderId must be 1-64 characters of A-Z a-z 0-9 _ . : -`,
        );
      }
      if (keys.has(leg.clientOrderId)) {
        throw new BadUserInputError(`Leg ${i}: clientOrderId ${leg.clientOrderId} is repeated`);
      }
      keys.add(leg.clientOrderId);
      const instrument = this.instruments.get(leg.segment, leg.securityId);
      return {
        clientOrderId: leg.clientOrderId,
        ...checkedTerms(leg, instrument, today, `Leg ${i}`),
      };
    });
  }

  /** A basket repeated by its first leg's key: the original when every leg matches. */
  private async repeated(
    userId: string,
    basketId: string,
    legs: PlaceOrderCommand[],
  ): Promise<BasketView> {
    await this.queue.settled(basketId);
    const stored = await this.legRows.find({ where: { basketId }, order: { legIndex: 'ASC' } });
    const same =
      stored.length === legs.length && stored.every((r, i) => r.terms === JSON.stringify(legs[i]));
    if (!same) {
      throw new ConflictError(
        `clientOrderId ${legs[0].clientOrderId} was already used for a basket with other legs`,
      );
    }
    return this.get(userId, basketId);
  }

  private async checkAndSend(basket: BasketEntity, legs: PlaceOrderCommand[]): Promise<void> {
    const checked = legs.map((leg, i) => {
      const instrument = this.instruments.get(leg.segment, leg.securityId);
      const terms: ValidTerms = validateTerms(leg, instrument, istDate(this.clock.now().getTime()));
      return {
        instrument,
        order: {
          orderId: holdId(basket.id, i),
          userId: basket.userId,
          segment: leg.segment,
          securityId: leg.securityId,
          action: 'PLACE' as const,
          side: terms.side,
          quantity: terms.quantity,
          orderType: terms.orderType,
          productType: terms.productType,
          validity: terms.validity,
          price: terms.price,
          triggerPrice: terms.triggerPrice,
        },
      };
    });
    const verdict = await this.risk.holdBasket(checked);
    if (!verdict.pass) {
      await this.baskets.update(
        { id: basket.id },
        {
          status: BasketStatus.REJECTED,
          rejectionReason: verdict.code,
          rejectedLeg: verdict.leg,
          message: `Leg ${verdict.leg}: ${verdict.message}`.slice(0, 300),
          updatedAt: this.clock.now(),
        },
      );
      this.ended(BasketStatus.REJECTED);
      return;
    }
    const order = sendOrder(
      checked.map((c, i) => ({
        hedge: verdict.holds[i].reducing || isBoughtOption(legs[i], c.instrument),
      })),
      basket.hedgeFirst,
    );
    await this.dataSource.transaction(async (em) => {
      for (let rank = 0; rank < order.length; rank++) {
        await em.update(
          BasketLegEntity,
          { basketId: basket.id, legIndex: order[rank] },
          { sendRank: rank },
        );
      }
    });
    await this.sendLegs(basket.id, basket.userId, order, legs, true);
  }

  /** Places the legs in `order` (indexes as given); `held`: each leg draws on its hold. */
  private async sendLegs(
    basketId: string,
    userId: string,
    order: readonly number[],
    legs: readonly PlaceOrderCommand[],
    held: boolean,
  ): Promise<void> {
    let refused = false;
    const notPlaced: string[] = [];
    for (const i of order) {
      const hold = holdId(basketId, i);
      if (this.cancelled.has(basketId)) {
        if (held) await this.risk.releaseHold(userId, hold);
        continue;
      }
      try {
        // Also after a restart (no hold left): the leg is checked as a basket leg.
        const placed = await this.orders.place(userId, {
          ...legs[i],
          tag: 'BASKET',
          fundedBy: hold,
        });
        await this.legRows.update({ basketId, legIndex: i }, { orderId: placed.id });
        this.stats.legsPlaced++;
        // A leg waiting for the order budget: the next leaves only once this one was answered,
        // so the broker receives them in order (two sends in flight may arrive either way).
        if (placed.status === OrderStatus.QUEUED) await this.untilAnswered(placed.id);
        if (placed.status === OrderStatus.REJECTED) refused = true;
        // Cancelled while this leg was being placed: it is cancelled too.
        if (this.cancelled.has(basketId)) await this.cancelOne(userId, placed.id);
      } catch (e) {
        refused = true;
        this.stats.legsNotPlaced++;
        notPlaced.push(`leg ${i}: ${e instanceof Error ? e.message : String(e)}`);
        this.logger.warn({ msg: 'basket leg not placed', basketId, leg: i, err: String(e) });
      } finally {
        if (held) await this.risk.releaseHold(userId, hold);
      }
    }
    if (this.cancelled.delete(basketId)) return;
    const status = refused ? BasketStatus.PARTIAL : BasketStatus.PLACED;
    await this.baskets.update(
      { id: basketId },
      {
        status,
        message: notPlaced.length > 0 ? `Not placed: ${notPlaced.join('; ')}`.slice(0, 300) : null,
        updatedAt: this.clock.now(),
      },
    );
    this.ended(status);
  }

  /** Resolves once the order's send was answered, or it ended without one. */
  private async untilAnswered(orderId: string): Promise<void> {
    let stop = (): void => undefined;
    const answered = new Promise<void>((resolve) => {
      const listener = (e: OrderTransitionEvent): void => {
        if (e.orderId === orderId && !AWAITING_SEND.has(e.to)) resolve();
      };
      this.events.on(ORDER_TRANSITION, listener);
      stop = () => this.events.off(ORDER_TRANSITION, listener);
    });
    try {
      // The send may have been answered before the placement returned.
      if (!AWAITING_SEND.has((await this.store.load(orderId)).status)) return;
      await answered;
    } finally {
      stop();
    }
  }

  private ended(status: BasketStatus): void {
    this.stats.ended.set(status, (this.stats.ended.get(status) ?? 0) + 1);
  }

  private async cancelLegs(userId: string, basketId: string): Promise<void> {
    const legs = await this.legRows.find({ where: { basketId } });
    for (const leg of legs) {
      if (leg.orderId !== null) await this.cancelOne(userId, leg.orderId);
    }
    this.cancelled.delete(basketId);
  }

  private async cancelOne(userId: string, orderId: string): Promise<void> {
    const order = await this.orders.get(userId, orderId);
    if (isTerminal(order.status) || order.status === OrderStatus.NEW) return;
    try {
      await this.orders.cancel(userId, orderId);
    } catch (e) {
      this.logger.warn({ msg: 'basket leg not cancelled', orderId, err: String(e) });
    }
  }

  private async setStatus(id: string, status: BasketStatus): Promise<void> {
    await this.baskets.update({ id }, { status, updatedAt: this.clock.now() });
  }

  /**
   * After a restart: a PENDING basket whose risk check had passed (its legs have a send rank)
   * has its unplaced legs placed (each idempotent by its clientOrderId, each with its own
   * risk check: the holds did not survive); one stopped during its risk check sent nothing
   * and ends REJECTED (BASKET_INTERRUPTED).
   */
  async resume(): Promise<void> {
    const pending = await this.baskets.find({ where: { status: BasketStatus.PENDING } });
    for (const basket of pending) {
      const rows = await this.legRows.find({
        where: { basketId: basket.id },
        order: { legIndex: 'ASC' },
      });
      const legs = rows.map((r) => JSON.parse(r.terms) as PlaceOrderCommand);
      if (rows.some((r) => r.sendRank === null)) {
        await this.baskets.update(
          { id: basket.id },
          {
            status: BasketStatus.REJECTED,
            rejectionReason: BASKET_INTERRUPTED,
            message: 'A restart interrupted the risk check; nothing was sent',
            updatedAt: this.clock.now(),
          },
        );
        this.ended(BasketStatus.REJECTED);
        continue;
      }
      const order = [...rows]
        .sort((a, b) => (a.sendRank ?? 0) - (b.sendRank ?? 0))
        .map((r) => r.legIndex);
      this.logger.log({ msg: 'basket resumed after a restart', basketId: basket.id });
      await this.queue.run(basket.id, () =>
        this.sendLegs(basket.id, basket.userId, order, legs, false),
      );
    }
  }

  private async views(rows: BasketEntity[]): Promise<BasketView[]> {
    if (rows.length === 0) return [];
    const legs = await this.legRows.find({
      where: { basketId: In(rows.map((r) => r.id)) },
      order: { legIndex: 'ASC' },
    });
    const orders = new Map<string, OrderView>();
    for (const leg of legs) {
      if (leg.orderId !== null)
        orders.set(leg.orderId, await this.orders.get(leg.userId, leg.orderId));
    }
    return rows.map((row) => ({
      id: row.id,
      userId: row.userId,
      status: row.status as BasketStatus,
      hedgeFirst: row.hedgeFirst,
      origin: row.origin,
      rejectionReason: row.rejectionReason,
      rejectedLeg: row.rejectedLeg,
      message: row.message,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      legs: legs
        .filter((l) => l.basketId === row.id)
        .map((l) => ({
          index: l.legIndex,
          sendRank: l.sendRank,
          command: JSON.parse(l.terms) as PlaceOrderCommand,
          order: l.orderId === null ? null : (orders.get(l.orderId) ?? null),
        })),
    }));
  }
}

/** The funds hold a basket's risk check takes for leg `i`. */
function holdId(basketId: string, i: number): string {
  return `basket:${basketId}:${i}`;
}

function isBoughtOption(leg: PlaceOrderCommand, instrument: Instrument | undefined): boolean {
  return leg.side === 'BUY' && (instrument?.optionType === 'CE' || instrument?.optionType === 'PE');
}

/**
 * Leg indexes in send order: as given, or with `hedgeFirst` the hedges (reducing legs and
 * bought options) first, each group in the given order.
 */
export function sendOrder(legs: ReadonlyArray<{ hedge: boolean }>, hedgeFirst: boolean): number[] {
  const all = legs.map((_, i) => i);
  if (!hedgeFirst) return all;
  return [...all.filter((i) => legs[i].hedge), ...all.filter((i) => !legs[i].hedge)];
}
