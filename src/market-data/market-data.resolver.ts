import { Args, Context, Info, Query, Resolver, Subscription } from '@nestjs/graphql';
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import type { WebSocket } from 'ws';
import {
  BadUserInputError,
  DomainError,
  UnauthenticatedError,
} from '../common/errors/domain-error';
import type { GraphQLRequestContext } from '../common/graphql/graphql-context';
import { GraphQLLocalDate } from '../common/scalars';
import { InstrumentArgs } from '../instruments/dto/instrument.args';
import { InstrumentInput, SECURITY_ID_PATTERN } from '../instruments/dto/instrument.input';
import { ExchangeSegment } from '../instruments/models/exchange-segment.enum';
import { MarketDataService, type OptionChain, type TickStream } from './market-data.service';
import { FeedHealthModel } from './models/feed-health.model';
import { OptionChainModel } from './models/option-chain.model';
import { marketState, QuoteModel, TickModel } from './models/tick.model';
import { tickSelection } from './ticks/tick-selection';

interface SubscriptionContext extends GraphQLRequestContext {
  socket?: WebSocket;
  /** graphql-ws subscription id (set by Mercurius). */
  id?: string;
}

const SEGMENTS = new Set<string>(Object.values(ExchangeSegment));

function asGraphQLError(e: unknown): unknown {
  if (e instanceof DomainError) {
    return new GraphQLError(e.message, { extensions: { code: e.code, ...e.details } });
  }
  return e;
}

export function toChainModel(chain: OptionChain): OptionChainModel {
  return {
    underlying: chain.underlying,
    expiry: chain.expiry,
    spot: chain.spot,
    atmStrike: chain.atmStrike,
    strikes: chain.strikes.map((s) => ({
      strike: s.strike,
      call: s.call && {
        instrument: s.call.instrument,
        quote: s.call.quote ? marketState(s.call.quote) : null,
      },
      put: s.put && {
        instrument: s.put.instrument,
        quote: s.put.quote ? marketState(s.put.quote) : null,
      },
    })),
  };
}

@Resolver()
export class MarketDataResolver {
  constructor(private readonly marketData: MarketDataService) {}

  @Query(() => QuoteModel, {
    nullable: true,
    description:
      'Latest state; null fields until data came. NOT_FOUND for an unknown instrument, ' +
      'UNAVAILABLE (retry) while the instrument master loads.',
  })
  quote(@Args() { segment, securityId }: InstrumentArgs): QuoteModel {
    return marketState(this.marketData.quote(segment, securityId));
  }

  @Query(() => OptionChainModel, {
    description: 'Strikes ascending, CE and PE with live quotes; nearest expiry when omitted.',
  })
  optionChain(
    @Args('underlying') underlying: string,
    @Args('expiry', { type: () => GraphQLLocalDate, nullable: true }) expiry?: string | null,
  ): OptionChainModel {
    return toChainModel(this.marketData.optionChain(underlying, expiry));
  }

  @Subscription(() => [TickModel], {
    description:
      'Batches of the latest state of instruments that changed; the first message is the ' +
      'snapshot of every requested instrument. Served outside graphql-js (pre-serialised).',
  })
  async ticks(
    @Args('instruments', { type: () => [InstrumentInput] }) instruments: InstrumentInput[],
    @Context() context: SubscriptionContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<TickStream> {
    try {
      const { socket, id, user } = context;
      if (!socket || id === undefined) {
        throw new BadUserInputError('ticks is only available over a graphql-ws WebSocket');
      }
      for (const i of instruments) {
        if (!SEGMENTS.has(i.segment) || !SECURITY_ID_PATTERN.test(i.securityId)) {
          throw new BadUserInputError(`Invalid instrument ${i.segment} ${i.securityId}`);
        }
      }
      if (instruments.length === 0) throw new BadUserInputError('instruments must not be empty');
      if (!user) throw new UnauthenticatedError();
      const responseKey = info.fieldNodes[0]?.alias?.value ?? info.fieldName;
      // During warm-up it waits (bounded) for the instrument master, then UNAVAILABLE.
      return await this.marketData.openTicksWhenLoaded(
        socket,
        user.id,
        String(id),
        instruments,
        tickSelection(info),
        responseKey,
      );
    } catch (e) {
      throw asGraphQLError(e);
    }
  }

  @Subscription(() => FeedHealthModel, {
    description:
      'Feed health at once, on every change (checked each second) and every few seconds.',
    resolve: (payload: { feedHealth: FeedHealthModel }) => payload.feedHealth,
  })
  feedHealth(): AsyncIterableIterator<{ feedHealth: FeedHealthModel }> {
    return this.marketData.feedHealthStream();
  }
}
