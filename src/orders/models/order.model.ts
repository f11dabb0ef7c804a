import { Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLDateTime } from '../../common/scalars';
import { InstrumentModel } from '../../instruments/models/instrument.model';
import {
  OrderSideEnum,
  OrderTypeEnum,
  ProductTypeEnum,
  ValidityEnum,
} from '../../common/graphql/order-enums';
import { OrderStatus } from '../../trading/order-status';

registerEnumType(OrderStatus, {
  name: 'OrderStatus',
  description:
    'NEW (stored), IN_FLIGHT (risk-approved, being sent), QUEUED (risk-approved, waiting for ' +
    'the firm s order budget; not sent yet, cancellable), UNKNOWN (the send had no answer; ' +
    'being looked up), then DhanHQ statuses.',
});

@ObjectType('Order')
export class OrderModel {
  @Field(() => ID)
  id!: string;

  @Field({ description: "The caller's idempotency key." })
  clientOrderId!: string;

  @Field(() => String, { nullable: true })
  brokerOrderId!: string | null;

  @Field(() => InstrumentModel)
  instrument!: InstrumentModel;

  @Field(() => OrderSideEnum)
  side!: OrderSideEnum;

  @Field(() => Int, { description: 'Total quantity (units), after any modification.' })
  quantity!: number;

  @Field(() => Int)
  filledQuantity!: number;

  @Field(() => Float, { nullable: true, description: 'Average fill price, rupees.' })
  averagePrice!: number | null;

  @Field(() => Float, { nullable: true, description: 'Limit price, rupees.' })
  price!: number | null;

  @Field(() => Float, { nullable: true, description: 'Stop-loss trigger, rupees.' })
  triggerPrice!: number | null;

  @Field(() => OrderTypeEnum)
  orderType!: OrderTypeEnum;

  @Field(() => ProductTypeEnum)
  productType!: ProductTypeEnum;

  @Field(() => ValidityEnum)
  validity!: ValidityEnum;

  @Field(() => OrderStatus)
  status!: OrderStatus;

  @Field(() => Float, {
    nullable: true,
    description:
      'Market price protection: the limit price (rupees) a MARKET or STOP_LOSS_MARKET order was ' +
      'sent at (as LIMIT / STOP_LOSS): the LTP (or trigger) plus (buy) or minus (sell) ' +
      'protectionPercent, on the tick, within the circuit limits. Null until sent and for ' +
      'other orders.',
  })
  protectedPrice!: number | null;

  @Field(() => Float, { nullable: true, description: 'The band of protectedPrice, percent.' })
  protectionPercent!: number | null;

  @Field(() => ID, {
    nullable: true,
    description:
      'A slice of an order above the freeze quantity: the id of that (parent) order, which ' +
      'shows the slices together (filled, average, status; cancelling it cancels them).',
  })
  parentId!: string | null;

  @Field(() => Int, {
    description: 'Slices the order was sent as (0: sent whole). A sliced order never goes itself.',
  })
  sliceCount!: number;

  @Field(() => Int, {
    nullable: true,
    description:
      'While QUEUED: 1-based place in its exchange segment s queue for the order budget, as ' +
      'of this answer (cancels and exits go first, dealers take turns); null otherwise.',
  })
  queuePosition!: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Risk denial code (e.g. INSUFFICIENT_FUNDS) or the broker s reason.',
  })
  rejectionReason!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Why the server placed or ended this order itself: INTRADAY_SQUARE_OFF (placed before the ' +
      'close), DAY_END (a DAY order ended at the close), BROKER_LOST (unknown to the broker ' +
      'after a restart). Null for an order the user placed and the broker ended.',
  })
  tag!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Why the risk desk acted on this order: a cancel or square-off on the dealer s behalf.',
  })
  deskNote!: string | null;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;
}

@ObjectType('Funds', { description: 'Paper funds in rupees (two decimals, from integer paise).' })
export class FundsModel {
  @Field(() => Float, { description: 'balance - used - reserved.' })
  available!: number;

  @Field(() => Float, {
    description: 'Margin held by open positions, at their traded prices; 0 when all are flat.',
  })
  used!: number;

  @Field(() => Float, { description: 'Margin held by working orders.' })
  reserved!: number;

  @Field(() => Float, {
    description: 'Opening balance + realizedPnl - charges + adjustments (admin credits/debits).',
  })
  balance!: number;

  @Field(() => Float, { description: 'Realised P&L of every trade so far (negative a loss).' })
  realizedPnl!: number;

  @Field(() => Float, { description: 'P&L of open positions marked to the last price.' })
  unrealizedPnl!: number;

  @Field(() => Float, {
    description: 'Charges deducted so far (brokerage, STT, fees, GST, stamp duty); 0 when off.',
  })
  charges!: number;
}
