import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLDateTime } from '../../common/scalars';
import { InstrumentModel } from '../../instruments/models/instrument.model';
import { QuoteModel } from '../../market-data/models/tick.model';

@ObjectType('WatchlistItem')
export class WatchlistItemModel {
  @Field(() => InstrumentModel)
  instrument!: InstrumentModel;

  @Field(() => QuoteModel, { nullable: true, description: 'Live state; null until data came.' })
  quote!: QuoteModel | null;

  @Field({ description: 'The underlying option chain (nearest expiries around ATM) streams too.' })
  includeOptionChain!: boolean;

  @Field(() => GraphQLDateTime)
  addedAt!: Date;
}

@ObjectType('Watchlist')
export class WatchlistModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => Int, { description: 'Order among the user s watchlists (creation order).' })
  position!: number;

  @Field(() => [WatchlistItemModel], { description: 'In the order they were added.' })
  items!: WatchlistItemModel[];

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;
}
