import type { ExchangeSegment } from '@app/dhan/types';
import { Inject, Injectable } from '@nestjs/common';
import { InstrumentsService } from '../instruments/instruments.service';
import { RiskService } from '../risk/risk.service';
import { OrderStatus } from '../trading/order-status';
import { OrderGovernorService } from './governor/order-governor.service';
import { OrderReferences } from './order-references';
import { riskOrder, termsOf } from './order-row';
import { OrderScheduler } from './order-scheduler';
import { OrderStore } from './order-store';
import { ORDERS_OPTIONS, type OrdersOptions } from './orders.options';

/** Denial code of an order that would need more children than ORDER_SLICE_MAX. */
export const SLICE_CAP_EXCEEDED = 'SLICE_CAP_EXCEEDED';

/** NEW -> RMS -> REJECTED with a reason code, or IN_FLIGHT with its margin reserved. */
@Injectable()
export class OrderAdmissionService {
  constructor(
    private readonly store: OrderStore,
    private readonly references: OrderReferences,
    private readonly instruments: InstrumentsService,
    private readonly risk: RiskService,
    private readonly scheduler: OrderScheduler,
    @Inject(ORDERS_OPTIONS) private readonly options: OrdersOptions,
    private readonly governor: OrderGovernorService,
  ) {}

  /**
   * Runs on the order's queue; an order past NEW is left alone. Returns the child quantities
   * when RMS approved an order above the freeze quantity (it is then sent as those children).
   */
  async admit(orderId: string): Promise<number[] | undefined> {
    const row = await this.store.load(orderId);
    if (row.status !== OrderStatus.NEW) return undefined;
    this.references.hold(row);
    await this.instruments.ready();
    const instrument = this.instruments.get(row.segment as ExchangeSegment, row.securityId);
    // RMS gathers its facts; a market order may wait (bounded) for a live price first.
    const verdict = await this.risk.check(riskOrder(row, termsOf(row), 'PLACE'), instrument, {
      maxMs: this.options.marketPriceWaitMs,
      stop: () => this.scheduler.closing,
    });
    if (!verdict.pass) {
      await this.store.apply(row, { type: 'RISK_DENIED', code: verdict.code }, 'rms', {
        message: verdict.message,
      });
      return undefined;
    }
    const slices =
      verdict.slices !== undefined && verdict.slices.length > 1 ? verdict.slices : undefined;
    if (slices !== undefined && slices.length > this.options.maxSlices) {
      await this.store.apply(row, { type: 'RISK_DENIED', code: SLICE_CAP_EXCEEDED }, 'rms', {
        message: `${slices.length} slices above the freeze quantity; at most ${this.options.maxSlices}`,
      });
      return undefined;
    }
    // Exits and the desk's square-offs go ahead of new exposure when the order budget is short.
    const squareOff = row.deskNote !== null || row.tag === 'INTRADAY_SQUARE_OFF';
    if (verdict.reducing === true || squareOff) this.governor.markReducing(row.id);
    await this.store.apply(row, { type: 'RISK_APPROVED' }, 'rms', undefined, {
      reservedPaise: verdict.reservation?.amountPaise ?? 0,
      sliceCount: slices?.length ?? 0,
    });
    return slices;
  }
}
