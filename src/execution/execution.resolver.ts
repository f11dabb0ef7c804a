import type { ExchangeSegment } from '@app/dhan/types';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Query, Resolver, Subscription } from '@nestjs/graphql';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import type { Principal } from '../common/graphql/graphql-context';
import { InstrumentsService } from '../instruments/instruments.service';
import type { InstrumentModel } from '../instruments/models/instrument.model';
import type { PositionKey, PositionView } from './domain';
import type { TradeEntity } from './entities/trade.entity';
import { PositionModel, TradeModel } from './models/execution.models';
import { PortfolioService } from './portfolio.service';
import { positionUpdatesOf } from './position-updates.stream';

const rupees = (paise: bigint): number => Number(paise) / 100;

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
    return (
      this.instruments.get(segment, securityId) ?? {
        segment,
        securityId,
        symbol: securityId,
        displayName: securityId,
        instrumentType: '',
        lotSize: 0,
        tickSize: 0,
      }
    );
  }

  private toTrade(t: TradeEntity): TradeModel {
    return {
      id: t.id,
      tradeId: t.exchangeTradeId,
      orderId: t.orderId,
      instrument: this.instrument(t.segment as ExchangeSegment, t.securityId),
      side: t.side as TradeModel['side'],
      productType: t.productType as TradeModel['productType'],
      quantity: t.quantity,
      price: t.priceUnits / 10_000,
      tradedAt: t.tradedAt,
    };
  }

  private toPosition(key: PositionKey, view: PositionView): PositionModel {
    const day = this.portfolio.dayOf(key);
    return {
      instrument: this.instrument(key.segment, key.securityId),
      productType: key.productType as PositionModel['productType'],
      netQuantity: view.netQuantity,
      buyQuantity: view.buyQuantity,
      sellQuantity: view.sellQuantity,
      buyAverage: view.buyAverage,
      sellAverage: view.sellAverage,
      realizedPnl: rupees(view.realizedPnlPaise),
      unrealizedPnl: view.unrealizedPnlPaise === undefined ? null : rupees(view.unrealizedPnlPaise),
      ltp: view.ltp ?? null,
      carriedQuantity: day.carriedQuantity,
      referencePrice: day.referencePrice,
      dayPnl: day.dayPnlPaise === undefined ? null : rupees(day.dayPnlPaise),
    };
  }
}
