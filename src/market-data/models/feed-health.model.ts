import {
  Field,
  Float,
  GraphQLISODateTime,
  Int,
  ObjectType,
  registerEnumType,
} from '@nestjs/graphql';

@ObjectType('FeedHealth')
export class FeedHealthModel {
  @Field({ description: 'Every feed connection is open.' })
  connected!: boolean;

  @Field(() => Int, { description: 'Open feed connections.' })
  connections!: number;

  @Field(() => Int)
  staleInstruments!: number;

  @Field(() => GraphQLISODateTime, { nullable: true })
  lastTickTime!: Date | null;
}

@ObjectType('FeedConnectionStatus')
export class FeedConnectionStatusModel {
  @Field(() => Int)
  index!: number;

  @Field()
  state!: string;

  @Field(() => Int)
  instruments!: number;

  @Field(() => GraphQLISODateTime, { nullable: true })
  lastMessageAt!: Date | null;

  @Field(() => Int)
  reconnects!: number;

  @Field(() => Float)
  packets!: number;

  @Field(() => Float)
  decodeErrors!: number;
}

@ObjectType('FeedCount')
export class FeedCountModel {
  @Field({ description: 'Reference kind (tier) or underlying name.' })
  name!: string;

  @Field(() => Int)
  instruments!: number;

  @Field(() => Int, { nullable: true })
  references!: number | null;
}

export enum ClusterRole {
  LEADER = 'LEADER',
  FOLLOWER = 'FOLLOWER',
}

registerEnumType(ClusterRole, {
  name: 'ClusterRole',
  description: 'Whether this instance holds the DhanHQ sockets and runs the day cycle.',
});

@ObjectType('FeedStatus')
export class FeedStatusModel {
  @Field({ description: 'simulator or live.' })
  mode!: string;

  @Field(() => ClusterRole, {
    description:
      'LEADER: this instance holds the DhanHQ sockets (always, without REDIS_URL); FOLLOWER: ' +
      'another instance does, and this one opens none.',
  })
  role!: ClusterRole;

  @Field()
  connected!: boolean;

  @Field(() => [FeedConnectionStatusModel])
  connections!: FeedConnectionStatusModel[];

  @Field(() => Int)
  instruments!: number;

  @Field(() => Int)
  capacity!: number;

  @Field(() => [FeedCountModel], { description: 'By reference kind (TIER_B, CLIENT, ...).' })
  byTier!: FeedCountModel[];

  @Field(() => [FeedCountModel], { description: 'Tier B instruments by underlying.' })
  byUnderlying!: FeedCountModel[];

  @Field(() => Int)
  staleInstruments!: number;

  @Field(() => Float)
  packetsReceived!: number;

  @Field({
    description:
      'Every connection is paused because DhanHQ refused the access token (no reconnect ' +
      'attempts); setBrokerToken (or a renewal) resumes them with their subscriptions.',
  })
  paused!: boolean;

  @Field(() => String, { nullable: true, description: 'Why the feed is paused.' })
  pausedReason!: string | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'Paused since.' })
  pausedSince!: Date | null;
}

@ObjectType('ReconnectFeedResult')
export class ReconnectFeedResultModel {
  @Field(() => Int)
  connections!: number;
}
