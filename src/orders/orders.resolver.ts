import { Args, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import type { Principal } from '../common/graphql/graphql-context';
import { instrumentModelOf } from '../instruments/models/instrument-model';
import { RiskService } from '../risk/risk.service';
import { ModifyOrderArgs, OrderIdArgs, PlaceOrderArgs } from './dto/order.inputs';
import { FundsModel, OrderModel } from './models/order.model';
import { orderModelOf } from './models/order-model';
import { orderUpdatesOf } from './order-updates.stream';
import type { OrderView } from './order-view';
import { OrdersService } from './orders.service';

const rupees = (paise: number): number => paise / 100;

@Resolver(() => OrderModel)
export class OrdersResolver {
  constructor(
    private readonly service: OrdersService,
    private readonly risk: RiskService,
    private readonly events: EventEmitter2,
  ) {}

  @Mutation(() => OrderModel, {
    description:
      'Validates (BAD_USER_INPUT, nothing stored), runs the risk checks (a denial returns the ' +
      'order REJECTED with rejectionReason) and sends it. Idempotent per clientOrderId.',
  })
  async placeOrder(
    @CurrentUser() user: Principal,
    @Args() { input }: PlaceOrderArgs,
  ): Promise<OrderModel> {
    const { instrument, ...terms } = input;
    return this.toModel(
      await this.service.place(user.id, {
        ...terms,
        segment: instrument.segment,
        securityId: instrument.securityId,
      }),
    );
  }

  @Mutation(() => OrderModel, {
    description:
      'A working (PENDING or PART_TRADED) order; at most 25 modifications. Risk checks run ' +
      'again: a denial is BAD_USER_INPUT with extensions.rejectionReason.',
  })
  async modifyOrder(
    @CurrentUser() user: Principal,
    @Args() { id, input }: ModifyOrderArgs,
  ): Promise<OrderModel> {
    return this.toModel(await this.service.modify(user.id, id, input));
  }

  @Mutation(() => OrderModel, { description: 'CONFLICT when the order cannot be cancelled.' })
  async cancelOrder(
    @CurrentUser() user: Principal,
    @Args() { id }: OrderIdArgs,
  ): Promise<OrderModel> {
    return this.toModel(await this.service.cancel(user.id, id));
  }

  @Query(() => [OrderModel], { description: "The caller's orders, newest first (500 at most)." })
  async orders(@CurrentUser() user: Principal): Promise<OrderModel[]> {
    return (await this.service.list(user.id)).map((o) => this.toModel(o));
  }

  @Query(() => OrderModel, { nullable: true, description: "NOT_FOUND unless it is the caller's." })
  async order(@CurrentUser() user: Principal, @Args() { id }: OrderIdArgs): Promise<OrderModel> {
    return this.toModel(await this.service.get(user.id, id));
  }

  @Query(() => FundsModel)
  async funds(@CurrentUser() user: Principal): Promise<FundsModel> {
    const f = await this.risk.funds(user.id);
    return {
      available: rupees(f.availablePaise),
      used: rupees(f.usedPaise),
      reserved: rupees(f.reservedPaise),
      balance: rupees(f.balancePaise),
      realizedPnl: rupees(f.realizedPnlPaise),
      unrealizedPnl: rupees(f.unrealizedPnlPaise),
      charges: rupees(f.chargesPaise),
    };
  }

  @Subscription(() => OrderModel, {
    description: "Every change of the caller's orders (only theirs).",
    resolve(this: OrdersResolver, payload: { orderUpdates: OrderView }) {
      return this.toModel(payload.orderUpdates);
    },
  })
  orderUpdates(@CurrentUser() user: Principal): AsyncIterableIterator<{ orderUpdates: OrderView }> {
    return orderUpdatesOf(this.events, user.id);
  }

  private toModel(order: OrderView): OrderModel {
    return orderModelOf(
      order,
      instrumentModelOf(this.service.instrumentOf(order), order.segment, order.securityId),
    );
  }
}
