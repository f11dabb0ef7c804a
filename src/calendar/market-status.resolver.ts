import { Module } from '@nestjs/common';
import {
  Args,
  Field,
  GraphQLISODateTime,
  ObjectType,
  Query,
  registerEnumType,
  Resolver,
  Subscription,
} from '@nestjs/graphql';
import { PushStream } from '../common/subscriptions/push-stream';
import { GraphQLLocalDate } from '../common/scalars';
import { CalendarModule } from './calendar.module';
import { Exchange } from './market-calendar.types';
import { MarketStatusKind, MarketStatusService, type MarketStatus } from './market-status';

registerEnumType(Exchange, { name: 'Exchange', description: 'NSE, BSE or MCX.' });
registerEnumType(MarketStatusKind, {
  name: 'MarketStatusKind',
  description: 'OPEN (normal session), PRE_OPEN (call auction) or CLOSED.',
});

@ObjectType('MarketStatus')
export class MarketStatusModel {
  @Field(() => Exchange)
  exchange!: Exchange;

  @Field(() => MarketStatusKind)
  status!: MarketStatusKind;

  @Field(() => GraphQLLocalDate, {
    nullable: true,
    description: 'IST date of the current session, or of the next one when CLOSED.',
  })
  tradingDate!: string | null;

  @Field(() => GraphQLISODateTime, {
    nullable: true,
    description: 'When the current session closes (OPEN or PRE_OPEN).',
  })
  closesAt!: Date | null;

  @Field(() => GraphQLISODateTime, {
    nullable: true,
    description: 'The next normal-session open (null while OPEN).',
  })
  nextOpen!: Date | null;
}

function view(s: MarketStatus): MarketStatusModel {
  return {
    exchange: s.exchange,
    status: s.status,
    tradingDate: s.tradingDate,
    closesAt: s.closesAt,
    nextOpen: s.nextOpen,
  };
}

/** How often a `marketStatus` subscription re-reads the calendar (it pushes only changes). */
export const MARKET_STATUS_CHECK_MS = 1_000;

@Resolver()
export class MarketStatusResolver {
  constructor(private readonly statuses: MarketStatusService) {}

  @Query(() => [MarketStatusModel], {
    description:
      "Each exchange's status from the market calendar (weekends, holidays, pre-open, " +
      'MCX evening session and its daylight-saving close); one exchange when given.',
  })
  marketStatus(
    @Args('exchange', { type: () => Exchange, nullable: true }) exchange?: Exchange | null,
  ): MarketStatusModel[] {
    const all = exchange ? [this.statuses.status(exchange)] : this.statuses.all();
    return all.map(view);
  }

  @Subscription(() => MarketStatusModel, {
    name: 'marketStatus',
    description: "The exchange's status at once, then on every change.",
    resolve: (payload: { marketStatus: MarketStatusModel }) => payload.marketStatus,
  })
  marketStatusChanges(
    @Args('exchange', { type: () => Exchange }) exchange: Exchange,
  ): AsyncIterableIterator<{ marketStatus: MarketStatusModel }> {
    let last = '';
    const check = () => {
      const current = view(this.statuses.status(exchange));
      const key = `${current.status}|${current.tradingDate}|${current.nextOpen?.toISOString()}`;
      if (key === last) return;
      last = key;
      stream.push({ marketStatus: current });
    };
    const timer = setInterval(check, MARKET_STATUS_CHECK_MS);
    timer.unref();
    const stream = new PushStream<{ marketStatus: MarketStatusModel }>({
      conflateBy: () => 'latest',
      onEnd: () => clearInterval(timer),
    });
    check();
    return stream;
  }
}

/** User schema: marketStatus (query and subscription). */
@Module({
  imports: [CalendarModule],
  providers: [MarketStatusResolver],
})
export class MarketStatusGraphqlModule {}
