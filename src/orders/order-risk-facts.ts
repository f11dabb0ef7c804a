import type { ExchangeSegment, Instrument } from '@app/dhan/types';
import { Inject, Injectable } from '@nestjs/common';
import { MarketDataService } from '../market-data/market-data.service';
import { rupeesToUnits } from '../trading/price-units';
import type { RiskCheckParts } from '../risk/risk.service';
import type { MarketSnapshot, OrderTerms, RiskAction, RiskOrder } from '../risk/risk.types';
import type { OrderEntity } from './entities/order.entity';
import { OrderScheduler } from './order-scheduler';
import { OrderStore } from './order-store';
import { ORDERS_OPTIONS, type OrdersOptions } from './orders.options';
import { PORTFOLIO_VIEW, type PortfolioView } from './orders.tokens';

/** An order as RMS checks it. */
export function riskOrder(row: OrderEntity, terms: OrderTerms, action: RiskAction): RiskOrder {
  return {
    orderId: row.id,
    userId: row.userId,
    action,
    side: terms.side,
    quantity: terms.quantity,
    orderType: terms.orderType,
    productType: terms.productType,
    validity: terms.validity,
    price: terms.price,
    triggerPrice: terms.triggerPrice,
  };
}

/** The market, position and account facts RMS checks an order against. */
@Injectable()
export class OrderRiskFacts {
  constructor(
    private readonly marketData: MarketDataService,
    private readonly store: OrderStore,
    private readonly scheduler: OrderScheduler,
    @Inject(PORTFOLIO_VIEW) private readonly portfolio: PortfolioView,
    @Inject(ORDERS_OPTIONS) private readonly options: OrdersOptions,
  ) {}

  /** Tick store, portfolio and the user's other working orders. */
  async of(row: OrderEntity, instrument: Instrument | undefined): Promise<RiskCheckParts> {
    const segment = row.segment as ExchangeSegment;
    const rec = this.marketData.record(segment, row.securityId);
    const market: MarketSnapshot =
      rec && rec.hasData
        ? {
            ltp: Number.isFinite(rec.ltp) ? rec.ltp : undefined,
            lastTickAt: rec.updatedAt,
            stale: rec.stale,
          }
        : {};
    const others = await this.store.workingFacts(row.userId, row.id);
    let openBuy = 0;
    let openSell = 0;
    let workingValuePaise = 0;
    for (const o of others) {
      const remaining = o.quantity - o.filledQuantity;
      if (o.segment === row.segment && o.securityId === row.securityId) {
        if (o.productType === row.productType) {
          if (o.side === 'BUY') openBuy += remaining;
          else openSell += remaining;
        }
      }
      const units = o.price === null ? undefined : rupeesToUnits(Number(o.price));
      if (units !== undefined) workingValuePaise += Math.ceil((remaining * units) / 100);
    }
    const snapshot = this.portfolio.riskSnapshot(
      row.userId,
      segment,
      row.securityId,
      row.productType as OrderTerms['productType'],
    );
    return {
      instrument,
      market,
      position: {
        netQuantity: snapshot.netQuantity,
        openBuyQuantity: openBuy,
        openSellQuantity: openSell,
      },
      account: {
        openOrderCount: others.length,
        grossExposurePaise: snapshot.grossExposurePaise + workingValuePaise,
        dayPnlPaise: snapshot.dayPnlPaise,
      },
    };
  }

  /** Waits (bounded) for a fresh tick of an instrument that has just been subscribed. */
  async waitForPrice(segment: ExchangeSegment, securityId: string): Promise<void> {
    const deadline = Date.now() + this.options.marketPriceWaitMs;
    for (;;) {
      const rec = this.marketData.record(segment, securityId);
      const live = rec !== undefined && !rec.stale && Number.isFinite(rec.ltp) && rec.ltp > 0;
      if (live || Date.now() >= deadline || this.scheduler.closing) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
