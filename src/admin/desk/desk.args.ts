import { ArgsType, Field, Float, ID, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDate,
  IsEnum,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { ProductTypeEnum } from '../../common/graphql/order-enums';
import { GraphQLDateTime } from '../../common/scalars';
import { InstrumentInput } from '../../instruments/dto/instrument.input';
import { OrderStatus } from '../../trading/order-status';

@InputType('DeskFilter', { description: 'Every field optional; all given ones must match.' })
export class DeskFilterInput {
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID()
  dealerId?: string;

  @Field(() => InstrumentInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => InstrumentInput)
  instrument?: InstrumentInput;

  @Field(() => [OrderStatus], { nullable: true, description: 'Orders only.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsEnum(OrderStatus, { each: true })
  status?: OrderStatus[];

  @Field(() => ProductTypeEnum, { nullable: true })
  @IsOptional()
  @IsEnum(ProductTypeEnum)
  productType?: ProductTypeEnum;

  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: 'Created (orders) or traded (trades) at or after; not for positions.',
  })
  @IsOptional()
  @IsDate()
  from?: Date;

  @Field(() => GraphQLDateTime, { nullable: true, description: 'Before this instant.' })
  @IsOptional()
  @IsDate()
  to?: Date;
}

@ArgsType()
export class DeskPageArgs {
  @Field(() => DeskFilterInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => DeskFilterInput)
  filter?: DeskFilterInput;

  @Field(() => Int, { defaultValue: 50, description: '1 to 100.' })
  @IsInt()
  @Min(1)
  @Max(100)
  limit!: number;

  @Field(() => Int, { defaultValue: 0 })
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset!: number;
}

@ArgsType()
export class DeskSummaryArgs {
  @Field(() => Int, { defaultValue: 10, description: 'How many top positions, 0 to 50.' })
  @IsInt()
  @Min(0)
  @Max(50)
  top!: number;
}

const REASON = { description: 'Why; shown to the dealer and kept in the audit log.' };

@ArgsType()
export class DeskCancelArgs {
  @Field(() => ID)
  @IsString()
  id!: string;

  @Field(REASON)
  @IsString()
  @Length(3, 160)
  reason!: string;
}

@ArgsType()
export class SquareOffArgs {
  @Field(() => ID)
  @IsUUID()
  dealerId!: string;

  @Field(() => InstrumentInput, { nullable: true, description: 'Omit for every open position.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => InstrumentInput)
  instrument?: InstrumentInput;

  @Field(() => ProductTypeEnum, { nullable: true, description: 'Omit for every product.' })
  @IsOptional()
  @IsEnum(ProductTypeEnum)
  productType?: ProductTypeEnum;

  @Field(REASON)
  @IsString()
  @Length(3, 160)
  reason!: string;
}

@ArgsType()
export class AdjustFundsArgs {
  @Field(() => ID)
  @IsUUID()
  dealerId!: string;

  @Field(() => Float, {
    description: 'Rupees, at most two decimals: positive credits, negative debits.',
  })
  @IsNumber({ maxDecimalPlaces: 2, allowNaN: false, allowInfinity: false })
  @Min(-1_000_000_000)
  @Max(1_000_000_000)
  amount!: number;

  @Field({ description: 'Why; kept in the audit log.' })
  @IsString()
  @Length(3, 160)
  reason!: string;
}
