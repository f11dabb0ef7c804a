import type { ExchangeSegment } from '@app/dhan/types';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Query, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import type { Principal } from '../common/graphql/graphql-context';
import { InstrumentsService } from '../instruments/instruments.service';
import type { InstrumentModel } from '../instruments/models/instrument.model';
import { instrumentModelOf } from '../instruments/models/instrument-model';
import type { PositionKey, PositionView } from './domain';
import type { TradeEntity } from './entities/trade.entity';
import { PositionModel, TradeModel } from './models/execution.models';
import { positionModelOf, tradeModelOf } from './models/execution-model';
import { PortfolioService } from './portfolio.service';
import { positionUpdatesOf } from './position-updates.stream';

@Resolver()
export class ExecutionResolver {
  constructor(
    private readonly portfolio: PortfolioService,
    private readonly instruments: InstrumentsService,
    private readonly events: EventEmitter2,
  ) {}

  @Query(() => [TradeModel], { description: "The caller's trades, newest first (1,000 at most)." })
  async trades(@CurrentUser() user: Principal): Promise<TradeModel[]> {
    return (await this.portfolio.trades(user.id)).map((t) => this.toTrade(t));
  }

  @Query(() => [PositionModel], {
    description:
      "The caller's positions (every instrument and product traded, flat ones included), " +
      'unrealised P&L at the live LTP.',
  })
  positions(@CurrentUser() user: Principal): PositionModel[] {
    return this.portfolio.positions(user.id).map((p) => this.toPosition(p.key, p.view));
  }

  @Subscription(() => PositionModel, {
    description:
      "Changes of the caller's positions (only theirs): fills, and P&L as the LTP moves, at " +
      'most every ~250 ms per position (latest wins).',
    resolve: (payload: { positionUpdates: PositionModel }) => payload.positionUpdates,
  })
  positionUpdates(
    @CurrentUser() user: Principal,
  ): AsyncIterableIterator<{ positionUpdates: PositionModel }> {
    return positionUpdatesOf(this.events, user.id, (p) => this.toPosition(p.key, p.view));
  }

  private instrument(segment: ExchangeSegment, securityId: string): InstrumentModel {
    return instrumentModelOf(this.instruments.get(segment, securityId), segment, securityId);
  }

  private toTrade(t: TradeEntity): TradeModel {
    return tradeModelOf(t, this.instrument(t.segment as ExchangeSegment, t.securityId));
  }

  private toPosition(key: PositionKey, view: PositionView): PositionModel {
    return positionModelOf(
      key,
      view,
      this.portfolio.dayOf(key),
      this.instrument(key.segment, key.securityId),
    );
  }
}
