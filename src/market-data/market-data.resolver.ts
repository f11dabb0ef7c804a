import {
  Args,
  Context,
  GraphQLISODateTime,
  Info,
  Int,
  Query,
  Resolver,
  Subscription,
} from '@nestjs/graphql';
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
import { IvStatus } from './analytics/black';
import { MAX_CHAIN_STRIKES_EACH_SIDE, type ChainFrameSink } from './chains/chain-analytics.service';
import { compileSelection, selectionSignature, type JsonOf } from './chains/chain-serializer';
import {
  MarketDataService,
  type ChainContractView,
  type ChainUpdateView,
  type ChainView,
  type TickStream,
} from './market-data.service';
import { FeedHealthModel } from './models/feed-health.model';
import {
  OptionChainModel,
  OptionChainUpdateModel,
  type OptionContractModel,
} from './models/option-chain.model';
import { marketState, QuoteModel, TickModel } from './models/tick.model';
import { tickSelection } from './ticks/tick-selection';
import { CandleInterval } from './candles/candle-math';
import { CandlesService, type CandleView } from './candles/candles.service';
import { CandleModel } from './models/candle.model';

function candleModel(b: CandleView): CandleModel {
  return { ...b, time: new Date(b.time * 1000) };
}

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

function checkInstrument(i: InstrumentInput): void {
  if (!SEGMENTS.has(i.segment) || !SECURITY_ID_PATTERN.test(i.securityId)) {
    throw new BadUserInputError(`Invalid instrument ${i.segment} ${i.securityId}`);
  }
}

const percent = (x: number): number | null => (Number.isFinite(x) ? x * 100 : null);
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

function contractModel(c: ChainContractView | null): OptionContractModel | null {
  if (!c) return null;
  const a = c.analytics;
  const ok = a.status === IvStatus.OK;
  return {
    instrument: c.instrument,
    quote: c.quote ? marketState(c.quote) : null,
    analytics: {
      status: a.status,
      iv: ok ? percent(a.iv) : null,
      delta: ok ? finite(a.delta) : null,
      gamma: ok ? finite(a.gamma) : null,
      theta: ok ? finite(a.theta) : null,
      vega: ok ? finite(a.vega) : null,
      rho: ok ? finite(a.rho) : null,
    },
    priceSource: c.priceSource,
    oiChange: c.oiChange,
  };
}

export function toChainModel(chain: ChainView): OptionChainModel {
  return {
    underlying: chain.underlying,
    expiry: chain.expiry,
    expiresAt: chain.expiresAt,
    yearsToExpiry: chain.yearsToExpiry,
    spot: chain.spot,
    forward: chain.forward,
    forwardSource: chain.forwardSource,
    atmStrike: chain.atmStrike,
    atmIv: percent(chain.stats.atmIv),
    pcrOi: finite(chain.stats.pcrOi),
    pcrVolume: finite(chain.stats.pcrVolume),
    maxPain: finite(chain.stats.maxPain),
    ivSkew: percent(chain.stats.ivSkew),
    totalCallOi: chain.stats.totalCallOi,
    totalPutOi: chain.stats.totalPutOi,
    strikes: chain.strikes.map((s) => ({
      strike: s.strike,
      call: contractModel(s.call),
      put: contractModel(s.put),
    })),
  };
}

/**
 * Over graphql-ws, `optionChainUpdates` messages are written straight to the socket, each
 * rendered once per flush for all subscribers of the same window and selection (like
 * `ticks`); without a socket (or for a selection the compiler refuses) graphql-js serves them.
 */
function chainFrameSink(
  context: SubscriptionContext,
  info: GraphQLResolveInfo,
): ChainFrameSink | undefined {
  const { socket, id } = context;
  if (!socket || id === undefined) return undefined;
  let json: JsonOf;
  try {
    json = compileSelection(info);
  } catch {
    return undefined;
  }
  const key = info.fieldNodes[0]?.alias?.value ?? info.fieldName;
  return {
    prefix: `{"id":${JSON.stringify(String(id))},"type":"next","payload":{"data":{${JSON.stringify(key)}:`,
    shape: selectionSignature(info),
    render: (view) => json({ ...toChainModel(view), snapshot: view.snapshot }),
    unsent: () => socket.bufferedAmount,
    send: (frame) => {
      if (socket.readyState === socket.OPEN) socket.send(frame, { binary: false });
    },
  };
}

@Resolver()
export class MarketDataResolver {
  constructor(
    private readonly marketData: MarketDataService,
    private readonly candleService: CandlesService,
  ) {}

  @Query(() => [CandleModel], {
    description:
      'OHLC bars starting in [from, to), oldest first: past days from DhanHQ (cached), today ' +
      'from DhanHQ and the live feed (the last bar `complete: false` while forming). At most ' +
      '90 days of minute bars or 5 years of daily bars a query.',
  })
  async candles(
    @Args('instrument', { type: () => InstrumentInput }) instrument: InstrumentInput,
    @Args('interval', { type: () => CandleInterval }) interval: CandleInterval,
    @Args('from', { type: () => GraphQLISODateTime }) from: Date,
    @Args('to', { type: () => GraphQLISODateTime }) to: Date,
  ): Promise<CandleModel[]> {
    checkInstrument(instrument);
    const bars = await this.candleService.candles(
      instrument.segment,
      instrument.securityId,
      interval,
      from,
      to,
    );
    return bars.map(candleModel);
  }

  @Subscription(() => CandleModel, {
    description:
      'The forming bar of the interval at once, then each time it changes (at most once per ' +
      'tick interval); a new bar starts when its time comes. Puts the instrument on the feed.',
    resolve: (payload: CandleView) => candleModel(payload),
  })
  candleUpdates(
    @Args('instrument', { type: () => InstrumentInput }) instrument: InstrumentInput,
    @Args('interval', { type: () => CandleInterval }) interval: CandleInterval,
  ): AsyncIterableIterator<CandleView> {
    try {
      checkInstrument(instrument);
      return this.candleService.subscribe(instrument.segment, instrument.securityId, interval);
    } catch (e) {
      throw asGraphQLError(e);
    }
  }

  @Query(() => QuoteModel, {
    nullable: true,
    description:
      'Latest state. An instrument the feed does not stream is quoted from DhanHQ REST ' +
      '(`source: REST`); null fields and `stale: true` when no price could be had. NOT_FOUND ' +
      'for an unknown instrument, UNAVAILABLE (retry) while the instrument master loads.',
  })
  async quote(@Args() { segment, securityId }: InstrumentArgs): Promise<QuoteModel> {
    return marketState(await this.marketData.quote(segment, securityId));
  }

  @Query(() => OptionChainModel, {
    description:
      'Strikes ascending, CE and PE with live quotes, implied volatility and greeks; nearest ' +
      'expiry when omitted; `strikes` each side of ATM (every listed strike when omitted). An ' +
      'expiry the feed does not stream is quoted from DhanHQ option-chain REST (`source: REST`).',
  })
  async optionChain(
    @Args('underlying') underlying: string,
    @Args('expiry', { type: () => GraphQLLocalDate, nullable: true }) expiry?: string | null,
    @Args('strikes', { type: () => Int, nullable: true }) strikes?: number | null,
  ): Promise<OptionChainModel> {
    return toChainModel(await this.marketData.optionChain(underlying, expiry, strikes));
  }

  @Subscription(() => OptionChainUpdateModel, {
    description:
      'The chain of `strikes` each side of ATM (chosen at subscribe, default 10, at most ' +
      `${MAX_CHAIN_STRIKES_EACH_SIDE}) with analytics, then the strikes that changed, at most ` +
      'once per tick interval. An expiry off the feed is put on it (CAPACITY_EXCEEDED when full).',
    resolve: (payload: ChainUpdateView) => ({
      ...toChainModel(payload),
      snapshot: payload.snapshot,
    }),
  })
  optionChainUpdates(
    @Context() context: SubscriptionContext,
    @Info() info: GraphQLResolveInfo,
    @Args('underlying') underlying: string,
    @Args('expiry', { type: () => GraphQLLocalDate, nullable: true }) expiry?: string | null,
    @Args('strikes', { type: () => Int, nullable: true }) strikes?: number | null,
  ): AsyncIterableIterator<ChainUpdateView> {
    try {
      return this.marketData.openOptionChain(
        underlying,
        expiry,
        strikes ?? 10,
        chainFrameSink(context, info),
      );
    } catch (e) {
      throw asGraphQLError(e);
    }
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
