import { ArgsType, Field } from '@nestjs/graphql';
import { IsEnum, IsString, MaxLength } from 'class-validator';
import { ExchangeSegment } from '../models/exchange-segment.enum';

@ArgsType()
export class InstrumentArgs {
  @Field(() => ExchangeSegment)
  @IsEnum(ExchangeSegment)
  segment!: ExchangeSegment;

  /** Any text: an id that is not a DhanHQ security id is simply not found. */
  @Field()
  @IsString()
  @MaxLength(32)
  securityId!: string;
}
