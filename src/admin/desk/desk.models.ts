import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLDateTime } from '../../common/scalars';
import { PositionModel, TradeModel } from '../../execution/models/execution.models';
import { InstrumentModel } from '../../instruments/models/instrument.model';
import { FundsModel, OrderModel } from '../../orders/models/order.model';
import { ProductTypeEnum } from '../../common/graphql/order-enums';

@ObjectType('DeskOrder', { description: 'A dealer s order as the risk desk sees it.' })
export class DeskOrderModel extends OrderModel {
  @Field(() => ID)
  dealerId!: string;

  @Field()
  dealerUsername!: string;
}

@ObjectType('DeskTrade', { description: 'A dealer s trade as the risk desk sees it.' })
export class DeskTradeModel extends TradeModel {
  @Field(() => ID)
  dealerId!: string;

  @Field()
  dealerUsername!: string;
}

@ObjectType('DeskPosition', { description: 'A dealer s position as the risk desk sees it.' })
export class DeskPositionModel extends PositionModel {
  @Field(() => ID)
  dealerId!: string;

  @Field()
  dealerUsername!: string;

  @Field(() => Float, { description: '|net| x LTP (the open average without an LTP), rupees.' })
  exposure!: number;
}

@ObjectType('DeskOrderPage')
export class DeskOrderPageModel {
  @Field(() => Int, { description: 'Every match, not only this page.' })
  total!: number;

  @Field(() => [DeskOrderModel])
  items!: DeskOrderModel[];
}

@ObjectType('DeskTradePage')
export class DeskTradePageModel {
  @Field(() => Int, { description: 'Every match, not only this page.' })
  total!: number;

  @Field(() => [DeskTradeModel])
  items!: DeskTradeModel[];
}

@ObjectType('DeskPositionPage')
export class DeskPositionPageModel {
  @Field(() => Int, { description: 'Every match, not only this page.' })
  total!: number;

  @Field(() => [DeskPositionModel])
  items!: DeskPositionModel[];
}

@ObjectType('DeskDealer', { description: 'One dealer s book in rupees.' })
export class DeskDealerModel {
  @Field(() => ID)
  dealerId!: string;

  @Field()
  dealerUsername!: string;

  @Field(() => Float, { description: 'Sum of |net| x price over open positions.' })
  grossExposure!: number;

  @Field(() => Float, { description: 'Sum of net x price (longs positive, shorts negative).' })
  netExposure!: number;

  @Field(() => Float)
  realizedPnl!: number;

  @Field(() => Float, { description: 'Positions without a live price count 0.' })
  unrealizedPnl!: number;

  @Field(() => Int)
  openPositions!: number;

  @Field(() => FundsModel)
  funds!: FundsModel;
}

@ObjectType('DeskSummary', { description: 'The whole desk: every dealer and the totals.' })
export class DeskSummaryModel {
  @Field(() => [DeskDealerModel])
  dealers!: DeskDealerModel[];

  @Field(() => Float)
  grossExposure!: number;

  @Field(() => Float)
  netExposure!: number;

  @Field(() => Float)
  realizedPnl!: number;

  @Field(() => Float)
  unrealizedPnl!: number;

  @Field(() => [DeskPositionModel], { description: 'Largest open positions by exposure.' })
  topPositions!: DeskPositionModel[];

  @Field(() => GraphQLDateTime)
  at!: Date;
}

@ObjectType('SquareOffResult')
export class SquareOffResultModel {
  @Field(() => [DeskOrderModel], {
    description: 'The orders placed to close the position(s); empty when already flat.',
  })
  orders!: DeskOrderModel[];
}

@ObjectType('FundsAdjustment')
export class FundsAdjustmentModel {
  @Field(() => ID)
  dealerId!: string;

  @Field(() => FundsModel)
  before!: FundsModel;

  @Field(() => FundsModel)
  after!: FundsModel;
}

/** Re-exported so the resolver file keeps its imports in one place. */
export { InstrumentModel, ProductTypeEnum };
