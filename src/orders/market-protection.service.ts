import { Inject, Injectable } from '@nestjs/common';
import type { ExchangeSegment } from '@app/dhan/types';
import { Clock } from '../common/clock';
import { InstrumentsService } from '../instruments/instruments.service';
import { MarketDataService } from '../market-data/market-data.service';
import type { OrderSide, OrderType } from '../trading/order-vocabulary';
import type { OrderEntity } from './entities/order.entity';
import { marketProtection } from './market-protection';
import { priceText } from './order-terms';
import { ORDERS_OPTIONS, type OrdersOptions } from './orders.options';

/** The columns a protected order stores with SENT. */
export type ProtectionColumns = Pick<OrderEntity, 'protectedPrice' | 'protectionPercent'>;

/**
 * The facts market price protection needs (the instrument's tick, the live price, the day's
 * circuit limits) gathered for one order, so that the send path asks one thing.
 */
@Injectable()
export class MarketProtectionService {
  constructor(
    private readonly instruments: InstrumentsService,
    private readonly marketData: MarketDataService,
    @Inject(ORDERS_OPTIONS) private readonly options: OrdersOptions,
    private readonly clock: Clock,
  ) {}

  /**
   * The market price protection of a MARKET / SL-M order, computed once (a resend keeps it):
   * the columns to store with SENT, nothing for other orders, NO_PRICE without a live LTP.
   */
  protectionOf(row: OrderEntity): ProtectionColumns | 'NO_PRICE' | undefined {
    if (row.protectedPrice !== null) return undefined;
    if (row.orderType !== 'MARKET' && row.orderType !== 'STOP_LOSS_MARKET') return undefined;
    const segment = row.segment as ExchangeSegment;
    const instrument = this.instruments.get(segment, row.securityId);
    const tick = this.marketData.record(segment, row.securityId);
    const live = tick !== undefined && tick.hasData && !tick.stale && Number.isFinite(tick.ltp);
    // The day's circuit limits when DhanHQ's quote gave them (the feed does not carry them).
    const circuit = this.marketData.circuitLimits(
      segment,
      row.securityId,
      this.clock.now().getTime(),
    );
    const protection = marketProtection({
      side: row.side as OrderSide,
      orderType: row.orderType as OrderType,
      ltp: live ? tick.ltp : undefined,
      triggerPrice: row.triggerPrice === null ? undefined : Number(row.triggerPrice),
      tickSize: instrument?.tickSize ?? 0,
      percent: this.options.marketProtectionPercent,
      upperCircuit: circuit?.upper,
      lowerCircuit: circuit?.lower,
    });
    if (protection === undefined || protection === 'NO_PRICE') return protection;
    return {
      protectedPrice: priceText(Math.round(protection.price * 10_000)),
      protectionPercent: String(protection.percent),
    };
  }
}
