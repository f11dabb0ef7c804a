import { ArgsType, Field, Float, ID, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  IsEnum,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { InstrumentInput } from '../../instruments/dto/instrument.input';
import {
  OrderSideEnum,
  OrderTypeEnum,
  ProductTypeEnum,
  ValidityEnum,
} from '../../common/graphql/order-enums';

@InputType('PlaceOrderInput')
export class PlaceOrderInput {
  @Field({
    description:
      'Idempotency key, unique per user (1-64 of A-Z a-z 0-9 _ . : -): a retry with the same ' +
      'key returns the original order; other terms with it are a CONFLICT.',
  })
  @IsString()
  @MaxLength(64)
  clientOrderId!: string;

  @Field(() => InstrumentInput)
  @ValidateNested()
  @Type(() => InstrumentInput)
  instrument!: InstrumentInput;

  @Field(() => OrderSideEnum)
  @IsEnum(OrderSideEnum)
  side!: OrderSideEnum;

  @Field(() => Int, { description: 'Units (a multiple of the lot size).' })
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

  @Field(() => Float, { nullable: true, description: 'Rupees, on the tick; LIMIT and STOP_LOSS.' })
  @IsOptional()
  @IsNumber()
  price?: number | null;

  @Field(() => Float, { nullable: true, description: 'Rupees, on the tick; stop-loss orders.' })
  @IsOptional()
  @IsNumber()
  triggerPrice?: number | null;
}

@InputType('ModifyOrderInput', { description: 'Fields left out keep their value.' })
export class ModifyOrderInput {
  @Field(() => Int, { nullable: true, description: 'New total quantity (DhanHQ semantics).' })
  @IsOptional()
  @IsInt()
  quantity?: number | null;

  @Field(() => OrderTypeEnum, { nullable: true })
  @IsOptional()
  @IsEnum(OrderTypeEnum)
  orderType?: OrderTypeEnum | null;

  @Field(() => ValidityEnum, { nullable: true })
  @IsOptional()
  @IsEnum(ValidityEnum)
  validity?: ValidityEnum | null;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber()
  price?: number | null;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber()
  triggerPrice?: number | null;
}

@ArgsType()
export class PlaceOrderArgs {
  @Field(() => PlaceOrderInput)
  @ValidateNested()
  @Type(() => PlaceOrderInput)
  input!: PlaceOrderInput;
}

@ArgsType()
export class OrderIdArgs {
  @Field(() => ID)
  @IsString()
  id!: string;
}

@ArgsType()
export class ModifyOrderArgs extends OrderIdArgs {
  @Field(() => ModifyOrderInput)
  @ValidateNested()
  @Type(() => ModifyOrderInput)
  input!: ModifyOrderInput;
}
