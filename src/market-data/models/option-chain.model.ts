import { Field, Float, GraphQLISODateTime, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLLocalDate } from '../../common/scalars';
import { InstrumentModel } from '../../instruments/models/instrument.model';
import { IvStatus } from '../analytics/black';
import { ForwardSource } from '../analytics/chain';
import { PriceSource } from '../chains/chain-analytics.service';
import { QuoteModel } from './tick.model';

registerEnumType(IvStatus, {
  name: 'OptionAnalyticsStatus',
  description: 'Why an option has (OK) or has no implied volatility and greeks.',
});
registerEnumType(ForwardSource, {
  name: 'ForwardSource',
  description:
    'PARITY: put-call parity at the ATM strike; FUTURE: the future the options are on; ' +
    'CARRY: the spot carried at the configured rate and dividend yield.',
});
registerEnumType(PriceSource, {
  name: 'OptionPriceSource',
  description: 'MID: (best bid + best ask) / 2; LTP: last traded price (no two-sided quote).',
});

@ObjectType('OptionAnalytics', {
  description:
    'Implied volatility and greeks (Black-Scholes on the forward; Black-76 for options on ' +
    'futures). Null numbers unless status is OK.',
})
export class OptionAnalyticsModel {
  @Field(() => IvStatus)
  status!: IvStatus;

  @Field(() => Float, { nullable: true, description: 'Implied volatility, annualised, percent.' })
  iv!: number | null;

  @Field(() => Float, { nullable: true, description: 'Per unit move of the underlying.' })
  delta!: number | null;

  @Field(() => Float, { nullable: true })
  gamma!: number | null;

  @Field(() => Float, { nullable: true, description: 'Per calendar day.' })
  theta!: number | null;

  @Field(() => Float, { nullable: true, description: 'Per one volatility point.' })
  vega!: number | null;

  @Field(() => Float, { nullable: true, description: 'Per one percentage point of the rate.' })
  rho!: number | null;
}

@ObjectType('OptionContract')
export class OptionContractModel {
  @Field(() => InstrumentModel)
  instrument!: InstrumentModel;

  @Field(() => QuoteModel, { nullable: true })
  quote!: QuoteModel | null;

  @Field(() => OptionAnalyticsModel)
  analytics!: OptionAnalyticsModel;

  @Field(() => PriceSource, { nullable: true, description: 'Price the IV was solved from.' })
  priceSource!: PriceSource | null;

  @Field(() => Float, { nullable: true, description: 'OI minus the previous day OI.' })
  oiChange!: number | null;
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

  @Field(() => GraphQLISODateTime, {
    description: "The exchange's expiry instant (close of the expiry day's session).",
  })
  expiresAt!: Date;

  @Field(() => Float, { description: 'Years to expiresAt (ACT/365); 0 once expired.' })
  yearsToExpiry!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'Underlying LTP (prev close before the open).',
  })
  spot!: number | null;

  @Field(() => Float, { nullable: true, description: 'Forward the IVs are solved against.' })
  forward!: number | null;

  @Field(() => ForwardSource, { nullable: true })
  forwardSource!: ForwardSource | null;

  @Field(() => Float, { nullable: true, description: 'Listed strike nearest to spot.' })
  atmStrike!: number | null;

  @Field(() => Float, { nullable: true, description: 'Mean IV of the ATM call and put, percent.' })
  atmIv!: number | null;

  @Field(() => Float, { nullable: true, description: 'Put OI / call OI over the chain.' })
  pcrOi!: number | null;

  @Field(() => Float, { nullable: true, description: 'Put volume / call volume over the chain.' })
  pcrVolume!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Strike where holders of the open calls and puts would receive least at expiry.',
  })
  maxPain!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'IV of the 25-delta put minus IV of the 25-delta call, volatility points.',
  })
  ivSkew!: number | null;

  @Field(() => Float)
  totalCallOi!: number;

  @Field(() => Float)
  totalPutOi!: number;

  @Field(() => [OptionChainStrikeModel], { description: 'Ascending.' })
  strikes!: OptionChainStrikeModel[];
}

@ObjectType('OptionChainUpdate', {
  description:
    'First message (snapshot: true): every strike of the window; then the strikes that changed.',
})
export class OptionChainUpdateModel extends OptionChainModel {
  @Field()
  snapshot!: boolean;
}
