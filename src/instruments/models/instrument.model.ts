import { Field, Float, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLLocalDate } from '../../common/scalars';
import { ExchangeSegment } from './exchange-segment.enum';

@ObjectType('Instrument')
export class InstrumentModel {
  @Field(() => ExchangeSegment)
  segment!: ExchangeSegment;

  @Field({ description: 'DhanHQ security id (digits).' })
  securityId!: string;

  @Field({ description: 'Exchange trading symbol, e.g. NIFTY-Dec2026-24000-CE.' })
  symbol!: string;

  @Field({ description: 'Dhan display name, e.g. NIFTY 29 DEC 24000 CALL.' })
  displayName!: string;

  @Field({ description: 'INDEX, EQUITY, FUTIDX, OPTIDX, FUTSTK, OPTSTK, FUTCOM, OPTFUT, ...' })
  instrumentType!: string;

  @Field(() => String, { nullable: true, description: 'Underlying of a derivative.' })
  underlying?: string;

  @Field(() => GraphQLLocalDate, { nullable: true })
  expiry?: string;

  @Field(() => Float, { nullable: true })
  strike?: number;

  @Field(() => String, { nullable: true, description: 'CE or PE.' })
  optionType?: string;

  @Field(() => Int)
  lotSize!: number;

  @Field(() => Float, { description: 'In rupees.' })
  tickSize!: number;
}
