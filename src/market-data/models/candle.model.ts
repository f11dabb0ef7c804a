import { Field, Float, GraphQLISODateTime, ObjectType, registerEnumType } from '@nestjs/graphql';
import { CandleInterval } from '../candles/candle-math';

registerEnumType(CandleInterval, {
  name: 'CandleInterval',
  description:
    'M1, M5, M15, M25, M60: minutes, bars aligned to the session open (09:15 IST on NSE/BSE, ' +
    '09:00 on MCX); D1: one trading day, stamped at IST midnight.',
});

@ObjectType('Candle', { description: 'One OHLC bar.' })
export class CandleModel {
  @Field(() => GraphQLISODateTime, { description: 'Start of the bar (UTC).' })
  time!: Date;

  @Field(() => Float)
  open!: number;

  @Field(() => Float)
  high!: number;

  @Field(() => Float)
  low!: number;

  @Field(() => Float)
  close!: number;

  @Field(() => Float)
  volume!: number;

  @Field(() => Float, { nullable: true, description: 'Open interest at the close (derivatives).' })
  oi!: number | null;

  @Field({ description: 'False for the bar still forming.' })
  complete!: boolean;
}
