import { Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLDateTime } from '../../common/scalars';
import { TradingState } from '../risk.types';

export enum TradingScope {
  GLOBAL = 'GLOBAL',
  USER = 'USER',
}

registerEnumType(TradingState, {
  name: 'TradingState',
  description:
    'ACTIVE; REDUCING (only position-reducing orders); HALTED (no new orders or modifications, cancels pass).',
});
registerEnumType(TradingScope, { name: 'TradingScope' });

/** Per-user limits (money in paise, as Float to hold values beyond 32 bits exactly). */
@ObjectType('RiskLimits')
export class RiskLimitsModel {
  @Field(() => ID, { nullable: true, description: 'Null for the default of every user.' })
  userId!: string | null;

  @Field(() => Int)
  maxQuantityPerOrder!: number;

  @Field({ description: 'SLICE or DENY.' })
  freezePolicy!: string;

  @Field(() => Float)
  maxOrderValuePaise!: number;

  @Field(() => Int)
  priceCollarBps!: number;

  @Field(() => Int)
  staleAfterMs!: number;

  @Field(() => Int)
  marketOrderBufferBps!: number;

  @Field(() => Int)
  maxOpenOrders!: number;

  @Field(() => Float)
  maxPositionValuePaise!: number;

  @Field(() => Float)
  maxGrossExposurePaise!: number;

  @Field(() => Float)
  maxDailyLossPaise!: number;

  @Field(() => Int)
  maxOrdersPerWindow!: number;

  @Field(() => Int)
  rateWindowMs!: number;
}

@ObjectType('TradingStateSetting')
export class TradingStateModel {
  @Field(() => TradingScope)
  scope!: TradingScope;

  @Field(() => ID, { nullable: true })
  userId!: string | null;

  @Field(() => TradingState)
  state!: TradingState;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;

  @Field(() => String, {
    nullable: true,
    description:
      'GLOBAL only: the broker s own kill switch after this change (ACTIVE, INACTIVE, ' +
      'NOT_APPLICABLE on paper, FAILED when the broker refused or did not answer).',
  })
  brokerKillSwitch?: string | null;
}
