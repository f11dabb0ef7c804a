import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { BadUserInputError } from '../common/errors/domain-error';
import { InstrumentsService } from '../instruments/instruments.service';
import { BasketService } from '../orders/baskets/basket.service';
import { checkedTerms } from '../orders/order-terms';
import { OrdersService } from '../orders/orders.service';
import { MAX_BASKET_LEGS } from '../trading/basket-status';
import { istDate } from '../trading/ist-date';
import { AlertActionStatus } from './alert-vocabulary';
import type { AlertAction, AlertOrderTerms, CreateAlertCommand } from './alert-model';
import type { AlertFiringEntity } from './entities/alert.entity';

/**
 * What an alert places when it fires (Kite's ATO): its order or basket is checked as
 * placeOrder / placeBasket would check it when the alert is created, and placed through them
 * when it fires, with keys derived from the firing (`ATO-<firing id>`, a basket's legs
 * `ATO-<firing id>-<leg>`) so a repeat after a restart is the same order, never a second one.
 */
@Injectable()
export class AlertActions {
  constructor(
    private readonly instruments: InstrumentsService,
    private readonly orders: OrdersService,
    private readonly baskets: BasketService,
    private readonly clock: Clock,
  ) {}

  /**
   * The order or basket of a new alert, checked as placeOrder would check it now (BAD_USER_INPUT
   * otherwise); null when the alert only notifies.
   */
  validate(input: CreateAlertCommand): AlertAction | null {
    const order = input.order ?? null;
    const basket = input.basket ?? null;
    if (order !== null && basket !== null) {
      throw new BadUserInputError('An alert places an order or a basket, not both');
    }
    const today = istDate(this.clock.now().getTime());
    const check = (leg: AlertOrderTerms, label: string): AlertOrderTerms =>
      checkedTerms(leg, this.instruments.get(leg.segment, leg.securityId), today, label);
    if (order !== null) return { order: check(order, 'order') };
    if (basket !== null) {
      if (basket.legs.length === 0 || basket.legs.length > MAX_BASKET_LEGS) {
        throw new BadUserInputError(`A basket has 1 to ${MAX_BASKET_LEGS} legs`);
      }
      return {
        basket: {
          legs: basket.legs.map((leg, i) => check(leg, `basket leg ${i}`)),
          hedgeFirst: basket.hedgeFirst === true,
        },
      };
    }
    return null;
  }

  /**
   * Places a firing's order or basket; resolves with the firing's outcome (DONE with the
   * order or basket), throws when it was refused.
   */
  async place(
    userId: string,
    alertId: string,
    firingId: string,
    action: AlertAction,
  ): Promise<Partial<AlertFiringEntity>> {
    const key = `ATO-${firingId}`;
    const done: Partial<AlertFiringEntity> = { actionStatus: AlertActionStatus.DONE };
    if (action.order) {
      const placed = await this.orders.place(userId, {
        ...action.order,
        clientOrderId: key,
        tag: 'ALERT',
      });
      done.orderId = placed.id;
    } else if (action.basket) {
      const basket = await this.baskets.place(
        userId,
        {
          legs: action.basket.legs.map((leg, i) => ({ ...leg, clientOrderId: `${key}-${i}` })),
          hedgeFirst: action.basket.hedgeFirst,
        },
        `alert:${alertId}`,
      );
      done.basketId = basket.id;
    }
    return done;
  }
}
