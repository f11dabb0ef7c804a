import { Field, Float, ObjectType } from '@nestjs/graphql';
import { GraphQLLocalDate } from '../../common/scalars';
import { InstrumentModel } from '../../instruments/models/instrument.model';
import { QuoteModel } from './tick.model';

@ObjectType('OptionContract')
export class OptionContractModel {
  @Field(() => InstrumentModel)
  instrument!: InstrumentModel;

  @Field(() => QuoteModel, { nullable: true })
  quote!: QuoteModel | null;
}

@ObjectType('OptionChainStrike')
export class OptionChainStrikeModel {
  @Field(() => Float)
  strike!: number;

  @Field(() => OptionContractModel, { nullable: true })
  call!: OptionContractModel | null;

  @Field(() => OptionContractModel, { nullable: true })
  put!: OptionContractModel | null;
}

@ObjectType('OptionChain')
export class OptionChainModel {
  @Field()
  underlying!: string;

  @Field(() => GraphQLLocalDate)
  expiry!: string;

  @Field(() => Float, {
    nullable: true,
    description: 'Underlying LTP (prev close before the open).',
  })
  spot!: number | null;

  @Field(() => Float, { nullable: true, description: 'Listed strike nearest to spot.' })
  atmStrike!: number | null;

  @Field(() => [OptionChainStrikeModel], { description: 'Ascending.' })
  strikes!: OptionChainStrikeModel[];
}
