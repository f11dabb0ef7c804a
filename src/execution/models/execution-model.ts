import type { InstrumentModel } from '../../instruments/models/instrument.model';
import type { PositionKey, PositionView } from '../domain';
import type { PositionDay } from '../portfolio.service';
import type { PositionModel, TradeModel } from './execution.models';

const rupees = (paise: bigint): number => Number(paise) / 100;

/** A stored trade's fields the GraphQL Trade is built from. */
export interface TradeFacts {
  id: string;
  exchangeTradeId: string;
  orderId: string;
  side: string;
  productType: string;
  quantity: number;
  priceUnits: number;
  tradedAt: Date;
}

/** The GraphQL Trade of a stored trade (the dealer's API and the desk's build on it). */
export function tradeModelOf(t: TradeFacts, instrument: InstrumentModel): TradeModel {
  return {
    id: t.id,
    tradeId: t.exchangeTradeId,
    orderId: t.orderId,
    instrument,
    side: t.side as TradeModel['side'],
    productType: t.productType as TradeModel['productType'],
    quantity: t.quantity,
    price: t.priceUnits / 10_000,
    tradedAt: t.tradedAt,
  };
}

/** The GraphQL Position of a position and its day (the dealer's API and the desk's build on it). */
export function positionModelOf(
  key: PositionKey,
  view: PositionView,
  day: PositionDay,
  instrument: InstrumentModel,
): PositionModel {
  return {
    instrument,
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
