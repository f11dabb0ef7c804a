import type { Instrument } from '@app/dhan/types';
import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { MarketDataService } from '../market-data/market-data.service';
import type { ProductType } from '../trading/order-vocabulary';
import { rupeesToUnits } from '../trading/price-units';
import { freezeQuantityOf } from './freeze-quantities';
import { PORTFOLIO_VIEW, type PortfolioView } from './portfolio-view';
import type { AccountSnapshot, MarketSnapshot, OrderToCheck, PositionSnapshot } from './risk.types';

/** A working order of the user, as the OMS reports it (price in rupees, none for market). */
export interface WorkingOrder {
  segment: string;
  securityId: string;
  productType: string;
  side: string;
  quantity: number;
  filledQuantity: number;
  price: number | undefined;
}

/** What RMS reads of a user's other working orders for one order's check. */
export interface WorkingExposure {
  /** The user's working orders other than the one checked. */
  count: number;
  /** Remaining quantity of those BUY / SELL orders in the checked order's instrument and product. */
  openBuy: number;
  openSell: number;
  /** Their value: the sum of workingValuePaise over them. */
  valuePaise: number;
}

/** The order a WorkingExposure is asked for. */
export interface ExposureQuery {
  userId: string;
  exceptOrderId: string;
  segment: string;
  securityId: string;
  productType: string;
}

/**
 * The user's working orders other than `exceptOrderId`, as RMS reads them (registered by the
 * OMS at init): kept as running sums by the OMS on a single instance, so a check costs the same
 * whatever the size of the dealer's book.
 */
export type WorkingOrderSource = (query: ExposureQuery) => Promise<WorkingExposure>;

/** One working order's part of WorkingExposure.valuePaise (none for a market order). */
export function workingValuePaise(remaining: number, price: number | undefined): number {
  const units = price === undefined ? undefined : rupeesToUnits(price);
  return units === undefined ? 0 : Math.ceil((remaining * units) / 100);
}

/** The exposure of a list of working orders (the checked one already left out). */
export function exposureOf(
  orders: readonly WorkingOrder[],
  query: Pick<ExposureQuery, 'segment' | 'securityId' | 'productType'>,
): WorkingExposure {
  let openBuy = 0;
  let openSell = 0;
  let valuePaise = 0;
  for (const o of orders) {
    const remaining = o.quantity - o.filledQuantity;
    if (
      o.segment === query.segment &&
      o.securityId === query.securityId &&
      o.productType === query.productType
    ) {
      if (o.side === 'BUY') openBuy += remaining;
      else openSell += remaining;
    }
    valuePaise += workingValuePaise(remaining, o.price);
  }
  return { count: orders.length, openBuy, openSell, valuePaise };
}

const NO_EXPOSURE: WorkingExposure = { count: 0, openBuy: 0, openSell: 0, valuePaise: 0 };

/** The parts of a RiskContext gathered from outside RMS (the service adds state, limits, funds). */
export interface RiskCheckParts {
  instrument: Instrument | undefined;
  market: MarketSnapshot;
  position: PositionSnapshot;
  account: AccountSnapshot;
  freezeQuantity?: number;
}

/** How long RMS may wait for a live price before judging a market order without one. */
export interface PriceWait {
  maxMs: number;
  /** Stops the wait early (the caller is shutting down). */
  stop?: () => boolean;
}

/**
 * The facts RMS checks an order against, gathered by RMS itself: the tick store (through
 * MarketDataService), positions and P&L (the PORTFOLIO_VIEW port) and the user's other working
 * orders (a source the OMS registers). `working` is the only read that awaits; `parts` is
 * synchronous, so RiskService builds the context and checks in one step after every load.
 */
@Injectable()
export class RiskFactsService {
  private workingSource: WorkingOrderSource = () => Promise.resolve(NO_EXPOSURE);

  constructor(
    private readonly marketData: MarketDataService,
    @Inject(PORTFOLIO_VIEW) private readonly portfolio: PortfolioView,
    private readonly clock: Clock,
  ) {}

  useWorkingOrderSource(source: WorkingOrderSource): void {
    this.workingSource = source;
  }

  working(order: OrderToCheck): Promise<WorkingExposure> {
    return this.workingSource({
      userId: order.userId,
      exceptOrderId: order.orderId,
      segment: order.segment,
      securityId: order.securityId,
      productType: order.productType,
    });
  }

  /** Tick store, portfolio and the user's other working orders (their exposure), as RMS reads them. */
  parts(
    order: OrderToCheck,
    instrument: Instrument | undefined,
    others: WorkingExposure,
  ): RiskCheckParts {
    const rec = this.marketData.record(order.segment, order.securityId);
    const circuit = this.marketData.circuitLimits(
      order.segment,
      order.securityId,
      this.clock.now().getTime(),
    );
    const market: MarketSnapshot =
      rec && rec.hasData
        ? {
            ltp: Number.isFinite(rec.ltp) ? rec.ltp : undefined,
            lastTickAt: rec.updatedAt,
            stale: rec.stale,
            upperCircuit: circuit?.upper,
            lowerCircuit: circuit?.lower,
          }
        : {};
    const snapshot = this.portfolio.riskSnapshot(
      order.userId,
      order.segment,
      order.securityId,
      order.productType as ProductType,
    );
    return {
      instrument,
      freezeQuantity: freezeQuantityOf(instrument),
      market,
      position: {
        netQuantity: snapshot.netQuantity,
        openBuyQuantity: others.openBuy,
        openSellQuantity: others.openSell,
      },
      account: {
        openOrderCount: others.count,
        grossExposurePaise: snapshot.grossExposurePaise + others.valuePaise,
        dayPnlPaise: snapshot.dayPnlPaise,
      },
    };
  }

  /**
   * A market order of a known instrument waits (bounded) for a fresh tick of an instrument that
   * has just been subscribed; other orders do not wait.
   */
  async waitForPrice(
    order: OrderToCheck,
    instrument: Instrument | undefined,
    wait: PriceWait | undefined,
  ): Promise<void> {
    if (order.orderType !== 'MARKET' || !instrument || !wait || wait.maxMs <= 0) return;
    const deadline = Date.now() + wait.maxMs;
    for (;;) {
      const rec = this.marketData.record(order.segment, order.securityId);
      const live = rec !== undefined && !rec.stale && Number.isFinite(rec.ltp) && rec.ltp > 0;
      if (live || Date.now() >= deadline || wait.stop?.() === true) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
