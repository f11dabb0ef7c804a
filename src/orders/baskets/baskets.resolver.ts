import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { CurrentUser } from '../../common/decorators/current-user.decorator';
import type { Principal } from '../../common/graphql/graphql-context';
import { instrumentModelOf } from '../../instruments/models/instrument-model';
import { orderModelOf } from '../models/order-model';
import { OrdersService } from '../orders.service';
import { BasketService, type BasketView } from './basket.service';
import { BasketIdArgs, PlaceBasketArgs } from './dto/basket.inputs';
import { BasketModel, type BasketLegModel } from './models/basket.model';

/** placeBasket, cancelBasket, baskets, basket: a dealer's own baskets only. */
@Resolver(() => BasketModel)
export class BasketsResolver {
  constructor(
    private readonly service: BasketService,
    private readonly orders: OrdersService,
  ) {}

  @Mutation(() => BasketModel, {
    description:
      'Up to 20 legs, checked together (combined margin, open-order cap; the basket counts as ' +
      'one order against the rate limit): one leg ' +
      'failing returns the basket REJECTED with rejectedLeg and rejectionReason, and nothing is ' +
      'sent. Otherwise the legs are placed in order (hedges first with hedgeFirst) through ' +
      'the order governor. Bad input is BAD_USER_INPUT and stores nothing.',
  })
  async placeBasket(
    @CurrentUser() user: Principal,
    @Args() { input }: PlaceBasketArgs,
  ): Promise<BasketModel> {
    const legs = (input.legs ?? []).map(({ instrument, ...terms }) => ({
      ...terms,
      segment: instrument.segment,
      securityId: instrument.securityId,
    }));
    return this.toModel(
      await this.service.place(user.id, { legs, hedgeFirst: input.hedgeFirst === true }),
    );
  }

  @Mutation(() => BasketModel, {
    description:
      'Legs not yet sent are never sent; working legs are cancelled. CONFLICT for a REJECTED basket.',
  })
  async cancelBasket(
    @CurrentUser() user: Principal,
    @Args() { id }: BasketIdArgs,
  ): Promise<BasketModel> {
    return this.toModel(await this.service.cancel(user.id, id));
  }

  @Query(() => [BasketModel], { description: "The caller's baskets, newest first (100 at most)." })
  async baskets(@CurrentUser() user: Principal): Promise<BasketModel[]> {
    return (await this.service.list(user.id)).map((b) => this.toModel(b));
  }

  @Query(() => BasketModel, { nullable: true, description: "NOT_FOUND unless it is the caller's." })
  async basket(@CurrentUser() user: Principal, @Args() { id }: BasketIdArgs): Promise<BasketModel> {
    return this.toModel(await this.service.get(user.id, id));
  }

  private toModel(basket: BasketView): BasketModel {
    return {
      id: basket.id,
      status: basket.status,
      hedgeFirst: basket.hedgeFirst,
      origin: basket.origin,
      rejectionReason: basket.rejectionReason,
      rejectedLeg: basket.rejectedLeg,
      message: basket.message,
      createdAt: basket.createdAt,
      updatedAt: basket.updatedAt,
      legs: basket.legs.map((leg): BasketLegModel => {
        const c = leg.command;
        const instrument = instrumentModelOf(this.orders.instrumentOf(c), c.segment, c.securityId);
        return {
          index: leg.index,
          sendRank: leg.sendRank,
          clientOrderId: c.clientOrderId,
          instrument,
          side: c.side as BasketLegModel['side'],
          quantity: c.quantity,
          orderType: c.orderType as BasketLegModel['orderType'],
          productType: c.productType as BasketLegModel['productType'],
          validity: c.validity as BasketLegModel['validity'],
          price: c.price ?? null,
          triggerPrice: c.triggerPrice ?? null,
          order:
            leg.order === null
              ? null
              : orderModelOf(leg.order, instrument, this.orders.queuePosition(leg.order)),
        };
      }),
    };
  }
}
