import { Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import {
  OrderSideEnum,
  OrderTypeEnum,
  ProductTypeEnum,
  ValidityEnum,
} from '../../../common/graphql/order-enums';
import { GraphQLDateTime } from '../../../common/scalars';
import { InstrumentModel } from '../../../instruments/models/instrument.model';
import { BasketStatus } from '../../../trading/basket-status';
import { OrderModel } from '../../models/order.model';

registerEnumType(BasketStatus, {
  name: 'BasketStatus',
  description:
    'PENDING (stored; risk check, then legs being sent), PLACED (every leg placed), PARTIAL ' +
    '(some legs refused or not placed), REJECTED (the combined risk check failed: nothing ' +
    'sent), CANCELLED (cancelBasket).',
});

@ObjectType('BasketLeg')
export class BasketLegModel {
  @Field(() => Int, { description: '0-based, as given.' })
  index!: number;

  @Field(() => Int, {
    nullable: true,
    description: '0-based place in the send order once the risk check passed.',
  })
  sendRank!: number | null;

  @Field()
  clientOrderId!: string;

  @Field(() => InstrumentModel)
  instrument!: InstrumentModel;

  @Field(() => OrderSideEnum)
  side!: OrderSideEnum;

  @Field(() => Int)
  quantity!: number;

  @Field(() => OrderTypeEnum)
  orderType!: OrderTypeEnum;

  @Field(() => ProductTypeEnum)
  productType!: ProductTypeEnum;

  @Field(() => ValidityEnum)
  validity!: ValidityEnum;

  @Field(() => Float, { nullable: true })
  price!: number | null;

  @Field(() => Float, { nullable: true })
  triggerPrice!: number | null;

  @Field(() => OrderModel, { nullable: true, description: 'The leg order, once placed.' })
  order!: OrderModel | null;
}

@ObjectType('Basket')
export class BasketModel {
  @Field(() => ID)
  id!: string;

  @Field(() => BasketStatus)
  status!: BasketStatus;

  @Field()
  hedgeFirst!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'alert:<id> when an alert placed it; null when the dealer did.',
  })
  origin!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "REJECTED: the failing leg's risk denial code (as an order's rejectionReason).",
  })
  rejectionReason!: string | null;

  @Field(() => Int, { nullable: true, description: 'REJECTED: index of the failing leg.' })
  rejectedLeg!: number | null;

  @Field(() => String, { nullable: true })
  message!: string | null;

  @Field(() => [BasketLegModel])
  legs!: BasketLegModel[];

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;
}
