import { ArgsType, Field, Float, ID, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsEnum,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  ValidateNested,
} from 'class-validator';
import {
  OrderSideEnum,
  OrderTypeEnum,
  ProductTypeEnum,
  ValidityEnum,
} from '../../common/graphql/order-enums';
import { InstrumentInput } from '../../instruments/dto/instrument.input';
import { AlertCondition, AlertMetric } from '../alert-vocabulary';

@InputType('AlertOrderInput', {
  description:
    "placeOrder's terms without clientOrderId: the key is derived from the firing " +
    '(ATO-<firing id>), so a restart never places it twice.',
})
export class AlertOrderInput {
  @Field(() => InstrumentInput)
  @ValidateNested()
  @Type(() => InstrumentInput)
  instrument!: InstrumentInput;

  @Field(() => OrderSideEnum)
  @IsEnum(OrderSideEnum)
  side!: OrderSideEnum;

  @Field(() => Int)
  @IsInt()
  quantity!: number;

  @Field(() => OrderTypeEnum)
  @IsEnum(OrderTypeEnum)
  orderType!: OrderTypeEnum;

  @Field(() => ProductTypeEnum)
  @IsEnum(ProductTypeEnum)
  productType!: ProductTypeEnum;

  @Field(() => ValidityEnum)
  @IsEnum(ValidityEnum)
  validity!: ValidityEnum;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber()
  price?: number | null;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber()
  triggerPrice?: number | null;
}

@InputType('AlertBasketInput')
export class AlertBasketInput {
  @Field(() => [AlertOrderInput], { description: '1 to 20 legs.' })
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => AlertOrderInput)
  legs!: AlertOrderInput[];

  @Field(() => Boolean, { nullable: true })
  @IsOptional()
  @IsBoolean()
  hedgeFirst?: boolean | null;
}

@InputType('CreateAlertInput')
export class CreateAlertInput {
  @Field(() => InstrumentInput)
  @ValidateNested()
  @Type(() => InstrumentInput)
  instrument!: InstrumentInput;

  @Field(() => AlertMetric)
  @IsEnum(AlertMetric)
  metric!: AlertMetric;

  @Field(() => AlertCondition)
  @IsEnum(AlertCondition)
  condition!: AlertCondition;

  @Field(() => Float, {
    description:
      "In the metric's unit: rupees (LTP), percent (CHANGE_PERCENT, IV), units (VOLUME, OI).",
  })
  @IsNumber()
  level!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      'Hysteresis: after firing, the value must go back across the level by more than this ' +
      'before the alert fires again. Default 0.1 % of the level.',
  })
  @IsOptional()
  @IsNumber()
  rearmBand?: number | null;

  @Field(() => AlertOrderInput, {
    nullable: true,
    description: 'Placed (through the risk checks) when it fires; the alert then fires once only.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => AlertOrderInput)
  order?: AlertOrderInput | null;

  @Field(() => AlertBasketInput, {
    nullable: true,
    description: 'As order, a basket (placeBasket) instead. Not both.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => AlertBasketInput)
  basket?: AlertBasketInput | null;
}

@ArgsType()
export class CreateAlertArgs {
  @Field(() => CreateAlertInput)
  @ValidateNested()
  @Type(() => CreateAlertInput)
  input!: CreateAlertInput;
}

@ArgsType()
export class AlertIdArgs {
  @Field(() => ID)
  @IsString()
  id!: string;
}
