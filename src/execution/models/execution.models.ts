import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLDateTime } from '../../common/scalars';
import { InstrumentModel } from '../../instruments/models/instrument.model';
import { OrderSideEnum, ProductTypeEnum } from '../../common/graphql/order-enums';

@ObjectType('Trade', { description: "One exchange trade (fill) of one of the caller's orders." })
export class TradeModel {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'Exchange trade id (unique per segment); paper trades: generated.' })
  tradeId!: string;

  @Field(() => ID, { description: 'The order (Order.id) this trade filled.' })
  orderId!: string;

  @Field(() => InstrumentModel)
  instrument!: InstrumentModel;

  @Field(() => OrderSideEnum)
  side!: OrderSideEnum;

  @Field(() => ProductTypeEnum)
  productType!: ProductTypeEnum;

  @Field(() => Int)
  quantity!: number;

  @Field(() => Float, { description: 'Rupees (stored as integer 1/10,000-rupee units).' })
  price!: number;

  @Field(() => GraphQLDateTime)
  tradedAt!: Date;
}

@ObjectType('Position', {
  description:
    'Net position of the caller in one instrument and product (average cost of the open ' +
    'quantity). Money is rupees as Float, computed from integer paise.',
})
export class PositionModel {
  @Field(() => InstrumentModel)
  instrument!: InstrumentModel;

  @Field(() => ProductTypeEnum)
  productType!: ProductTypeEnum;

  @Field(() => Int, { description: 'Bought minus sold; negative when short.' })
  netQuantity!: number;

  @Field(() => Int)
  buyQuantity!: number;

  @Field(() => Int)
  sellQuantity!: number;

  @Field(() => Float, { description: 'Average buy price, rupees (0 without buys).' })
  buyAverage!: number;

  @Field(() => Float, { description: 'Average sell price, rupees (0 without sells).' })
  sellAverage!: number;

  @Field(() => Float, { description: 'Realised P&L, rupees (exact to the paisa).' })
  realizedPnl!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'Unrealised P&L at the LTP, rupees; null while no live price is known.',
  })
  unrealizedPnl!: number | null;

  @Field(() => Float, { nullable: true, description: 'Last traded price used, rupees.' })
  ltp!: number | null;

  @Field(() => Int, {
    description: 'Net quantity carried forward at the start of the day (CNC/MARGIN); 0 if none.',
  })
  carriedQuantity!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'Previous close the carried quantity is valued from today, rupees.',
  })
  referencePrice!: number | null;

  @Field(() => Float, {
    nullable: true,
    description:
      "P&L since the day's start (carried quantity from referencePrice, plus today's trades), " +
      'rupees; null while no live price is known.',
  })
  dayPnl!: number | null;
}
