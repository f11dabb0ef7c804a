import { Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLDateTime } from '../../common/scalars';
import { InstrumentModel } from '../../instruments/models/instrument.model';
import { AlertActionStatus, AlertCondition, AlertMetric, AlertStatus } from '../alert-vocabulary';

registerEnumType(AlertMetric, {
  name: 'AlertMetric',
  description:
    'LTP (rupees), CHANGE_PERCENT, VOLUME, OI, IV (options: implied volatility, percent).',
});
registerEnumType(AlertCondition, { name: 'AlertCondition' });
registerEnumType(AlertStatus, {
  name: 'AlertStatus',
  description:
    'ACTIVE (evaluated on every fresh tick; re-arms after firing), TRIGGERED (an alert with ' +
    'an order or basket fired: once only), DELETED.',
});
registerEnumType(AlertActionStatus, {
  name: 'AlertActionStatus',
  description:
    'NONE (no order or basket), PENDING (stored, being placed), DONE (placed: see orderId / ' +
    'basketId; a risk denial shows there), FAILED (not placed: see message).',
});

@ObjectType('AlertFiring')
export class AlertFiringModel {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  alertId!: string;

  @Field(() => InstrumentModel)
  instrument!: InstrumentModel;

  @Field(() => AlertMetric)
  metric!: AlertMetric;

  @Field(() => AlertCondition)
  condition!: AlertCondition;

  @Field(() => Float)
  level!: number;

  @Field(() => Float, { description: 'The value that fired it.' })
  value!: number;

  @Field(() => GraphQLDateTime)
  firedAt!: Date;

  @Field(() => AlertActionStatus)
  actionStatus!: AlertActionStatus;

  @Field(() => ID, { nullable: true, description: 'The order placed (clientOrderId ATO-<id>).' })
  orderId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The basket placed.' })
  basketId!: string | null;

  @Field(() => String, { nullable: true })
  message!: string | null;
}

@ObjectType('Alert')
export class AlertModel {
  @Field(() => ID)
  id!: string;

  @Field(() => InstrumentModel)
  instrument!: InstrumentModel;

  @Field(() => AlertMetric)
  metric!: AlertMetric;

  @Field(() => AlertCondition)
  condition!: AlertCondition;

  @Field(() => Float)
  level!: number;

  @Field(() => Float)
  rearmBand!: number;

  @Field(() => AlertStatus)
  status!: AlertStatus;

  @Field({
    description: 'Fires at the next fresh crossing (false between a firing and its re-arm).',
  })
  armed!: boolean;

  @Field({ description: 'Places an order or a basket when it fires.' })
  placesOrder!: boolean;

  @Field(() => Int)
  firedCount!: number;

  @Field(() => GraphQLDateTime, { nullable: true })
  lastFiredAt!: Date | null;

  @Field(() => [AlertFiringModel], { description: 'Newest first, the last 50.' })
  firings!: AlertFiringModel[];

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;
}
