import { ArgsType, Field, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Max, Min, ValidateNested } from 'class-validator';
import { ExchangeSegment } from '../../instruments/models/exchange-segment.enum';
import { InstrumentModel } from '../../instruments/models/instrument.model';
import { ReferenceKind } from '../feed/subscription-registry';

registerEnumType(ReferenceKind, {
  name: 'ReferenceKind',
  description:
    'Why an instrument is streamed; eviction priority TIER_B > POSITION/ORDER > CLIENT > WATCHLIST.',
});

export const MAX_SUBSCRIPTIONS_LIMIT = 5_000;

@InputType('SubscriptionFilter')
export class SubscriptionFilterInput {
  @Field(() => ReferenceKind, {
    nullable: true,
    description: 'Only instruments holding a reference of this kind.',
  })
  @IsOptional()
  kind?: ReferenceKind | null;

  @Field(() => String, {
    nullable: true,
    description: 'Only this underlying (by symbol, e.g. NIFTY) and the derivatives on it.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  underlying?: string | null;
}

@ArgsType()
export class SubscriptionsArgs {
  @Field(() => SubscriptionFilterInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => SubscriptionFilterInput)
  filter?: SubscriptionFilterInput | null;

  @Field(() => Int, { defaultValue: 500, description: `1 to ${MAX_SUBSCRIPTIONS_LIMIT}.` })
  @IsInt()
  @Min(1)
  @Max(MAX_SUBSCRIPTIONS_LIMIT)
  limit!: number;
}

@ObjectType('FeedReferences')
export class FeedReferencesModel {
  @Field(() => ReferenceKind)
  kind!: ReferenceKind;

  @Field(() => Int)
  count!: number;

  @Field(() => [String], {
    description: 'Holder ids: watchlist, order or position ids, a Tier B underlying, ticks.',
  })
  holders!: string[];
}

@ObjectType('FeedSubscription')
export class FeedSubscriptionModel {
  @Field(() => ExchangeSegment)
  segment!: ExchangeSegment;

  @Field()
  securityId!: string;

  @Field(() => InstrumentModel, {
    nullable: true,
    description: 'Null if the instrument master no longer lists it.',
  })
  instrument!: InstrumentModel | null;

  @Field({ description: 'Feed mode subscribed: TICKER, QUOTE or FULL.' })
  mode!: string;

  @Field(() => Int, { description: 'Feed connection index.' })
  connection!: number;

  @Field(() => ReferenceKind, { description: 'Highest kind holding it: its eviction priority.' })
  priority!: ReferenceKind;

  @Field(() => [FeedReferencesModel], { description: 'References by kind.' })
  references!: FeedReferencesModel[];
}

@ObjectType('FeedSubscriptionList')
export class FeedSubscriptionListModel {
  @Field(() => Int, { description: 'Matching instruments before the limit.' })
  total!: number;

  @Field(() => [FeedSubscriptionModel])
  items!: FeedSubscriptionModel[];
}
