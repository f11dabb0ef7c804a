import { Field, InputType } from '@nestjs/graphql';
import { IsEnum, Matches } from 'class-validator';
import { ExchangeSegment } from '../models/exchange-segment.enum';

export const SECURITY_ID_PATTERN = /^\d{1,10}$/;

/** One instrument by DhanHQ's identity: segment and security id. */
@InputType('InstrumentInput')
export class InstrumentInput {
  @Field(() => ExchangeSegment)
  @IsEnum(ExchangeSegment)
  segment!: ExchangeSegment;

  @Field()
  @Matches(SECURITY_ID_PATTERN, { message: 'securityId must be a numeric DhanHQ security id' })
  securityId!: string;
}
