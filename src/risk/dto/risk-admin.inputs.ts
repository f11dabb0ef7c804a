import { ArgsType, Field, Float, ID, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  IsEnum,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { TradingScope } from '../models/risk-admin.model';
import { TradingState } from '../risk.types';

/** Fields left out keep their value. Margin rules are edited in code for now. */
@InputType('RiskLimitsInput')
export class RiskLimitsInput {
  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  maxQuantityPerOrder?: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsIn(['SLICE', 'DENY'])
  freezePolicy?: 'SLICE' | 'DENY';

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  maxOrderValuePaise?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  priceCollarBps?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  staleAfterMs?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  marketOrderBufferBps?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  maxOpenOrders?: number;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  maxPositionValuePaise?: number;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  maxGrossExposurePaise?: number;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  maxDailyLossPaise?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  maxOrdersPerWindow?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1)
  rateWindowMs?: number;
}

@ArgsType()
export class RiskLimitsArgs {
  @Field(() => ID, { nullable: true, description: 'Omit for the default of every user.' })
  @IsOptional()
  @IsString()
  userId?: string | null;
}

@ArgsType()
export class SetRiskLimitsArgs extends RiskLimitsArgs {
  @Field(() => RiskLimitsInput)
  @ValidateNested()
  @Type(() => RiskLimitsInput)
  input!: RiskLimitsInput;
}

@ArgsType()
export class SetTradingStateArgs {
  @Field(() => TradingScope)
  @IsEnum(TradingScope)
  scope!: TradingScope;

  @Field(() => ID, { nullable: true, description: 'Required for scope USER.' })
  @IsOptional()
  @IsString()
  userId?: string | null;

  @Field(() => TradingState)
  @IsEnum(TradingState)
  state!: TradingState;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  reason?: string | null;
}
