import { Field, Float, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLLocalDate } from '../common/scalars';

/** Exchange groups with their own end of day (DayCycleService). */
export enum ExchangeGroupEnum {
  NSE_BSE = 'NSE_BSE',
  MCX = 'MCX',
}

registerEnumType(ExchangeGroupEnum, {
  name: 'ExchangeGroup',
  description: 'NSE_BSE (equity, F&O, currency, indices) or MCX (commodities).',
});

@ObjectType('DayCycleReferenceCount')
export class DayCycleReferenceCountModel {
  @Field({ description: 'Reference kind: TIER_B, POSITION, ORDER, CLIENT, WATCHLIST.' })
  kind!: string;

  @Field(() => Int)
  references!: number;
}

@ObjectType('DayCycleInstruments')
export class DayCycleInstrumentsModel {
  @Field({ description: 'The reloaded master was accepted (a refused one keeps the old).' })
  accepted!: boolean;

  @Field(() => Int)
  count!: number;

  @Field(() => String, { nullable: true })
  reason!: string | null;
}

@ObjectType('DayCycleRestored')
export class DayCycleRestoredModel {
  @Field(() => Int, { description: 'Watchlist items restored.' })
  items!: number;

  @Field(() => Int)
  references!: number;

  @Field(() => Int)
  failed!: number;
}

@ObjectType('DayCycleReport')
export class DayCycleReportModel {
  @Field()
  id!: string;

  @Field({ description: 'EOD, SOD or SQOFF (intraday square-off).' })
  kind!: string;

  @Field({ description: 'NSE_BSE, MCX, or ALL for start of day.' })
  group!: string;

  @Field(() => GraphQLLocalDate, { description: 'IST trading date the run is for.' })
  tradingDate!: string;

  @Field({ description: 'DONE, SKIPPED (not a trading day) or NOOP (already ran).' })
  outcome!: string;

  @Field(() => String, { nullable: true })
  reason!: string | null;

  @Field(() => Int, { description: 'References released (end of day).' })
  released!: number;

  @Field(() => [DayCycleReferenceCountModel], { description: 'References by kind before.' })
  before!: DayCycleReferenceCountModel[];

  @Field(() => [DayCycleReferenceCountModel], { description: 'References by kind after.' })
  after!: DayCycleReferenceCountModel[];

  @Field(() => Float)
  durationMs!: number;

  @Field(() => DayCycleInstrumentsModel, { nullable: true, description: 'Start of day only.' })
  instruments!: DayCycleInstrumentsModel | null;

  @Field(() => DayCycleRestoredModel, { nullable: true, description: 'Start of day only.' })
  restored!: DayCycleRestoredModel | null;
}
