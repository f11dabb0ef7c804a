import type { ExchangeSegment } from '@app/dhan/types';
import { Inject, Injectable } from '@nestjs/common';
import { ClusterBusyError } from '../cluster/cluster-mutex';
import { InstrumentsService } from '../instruments/instruments.service';
import { RiskService } from '../risk/risk.service';
import { OrderStatus } from '../trading/order-status';
import { OrderGovernorService } from './governor/order-governor.service';
import { OrderReferences } from './order-references';
import { riskOrder, termsOf } from './order-row';
import { OrderScheduler } from './order-scheduler';
import type { OrderEntity } from './entities/order.entity';
import { OrderStore, type OrderStep } from './order-store';
import { ORDERS_OPTIONS, type OrdersOptions } from './orders.options';

/** Denial code of an order that would need more children than ORDER_SLICE_MAX. */
export const SLICE_CAP_EXCEEDED = 'SLICE_CAP_EXCEEDED';

/** Denial code of an order whose funds could not be checked across instances (REDIS_URL). */
export const FUNDS_CHECK_UNAVAILABLE = 'FUNDS_CHECK_UNAVAILABLE';

/**
 * What RMS made of a placement: denied (stored REJECTED), approved above the freeze quantity
 * (stored, to be sent as `slices`), or approved to be sent as it is. `approval`, when set, is
 * the RISK_APPROVED step not yet stored: the dispatcher writes it with the send's own step, one
 * transaction instead of two (the margin is held in the ledger meanwhile).
 */
export type Admission =
  | { verdict: 'DENIED' }
  | { verdict: 'SLICED'; slices: number[] }
  | { verdict: 'APPROVED'; row: OrderEntity; approval?: OrderStep };

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
  async admit(orderId: string, fundedBy?: string): Promise<number[] | undefined> {
    const admission = await this.approve(await this.store.load(orderId), fundedBy, false);
    return admission.verdict === 'SLICED' ? admission.slices : undefined;
  }

  /**
   * RMS for a NEW order just stored (`row`), on its queue. On a single instance an approval to
   * send is returned unwritten (see Admission) when `defer` is set; across instances (REDIS_URL)
   * it is always stored under the user's cluster mutex, so no other instance's ledger rebuild
   * can miss the margin it holds.
   */
  async approve(row: OrderEntity, fundedBy?: string, defer = true): Promise<Admission> {
    if (!this.risk.clustered) return this.admitHere(row, fundedBy, defer);
    // One admission per user at a time across instances (REDIS_URL; see RiskService).
    try {
      return await this.risk.admitExclusively(row.userId, async () =>
        this.admitHere(await this.store.load(row.id), fundedBy, false),
      );
    } catch (e) {
      if (!(e instanceof ClusterBusyError)) throw e;
      // Funds cannot be checked against the other instances: refused, never left NEW.
      const current = await this.store.load(row.id);
      if (current.status === OrderStatus.NEW) {
        await this.store.apply(
          current,
          { type: 'RISK_DENIED', code: FUNDS_CHECK_UNAVAILABLE },
          'rms',
          { message: e.message },
        );
      }
      return { verdict: 'DENIED' };
    }
  }

  private async admitHere(
    row: OrderEntity,
    fundedBy: string | undefined,
    defer: boolean,
  ): Promise<Admission> {
    const denied = { verdict: 'DENIED' } as const;
    if (row.status !== OrderStatus.NEW) return denied;
    this.references.hold(row);
    await this.instruments.ready();
    const instrument = this.instruments.get(row.segment as ExchangeSegment, row.securityId);
    // RMS gathers its facts; a market order may wait (bounded) for a live price first.
    const verdict = await this.risk.check(
      riskOrder(row, termsOf(row), 'PLACE'),
      instrument,
      {
        maxMs: this.options.marketPriceWaitMs,
        stop: () => this.scheduler.closing,
      },
      fundedBy,
    );
    if (!verdict.pass) {
      await this.store.apply(row, { type: 'RISK_DENIED', code: verdict.code }, 'rms', {
        message: verdict.message,
      });
      return denied;
    }
    const slices =
      verdict.slices !== undefined && verdict.slices.length > 1 ? verdict.slices : undefined;
    if (slices !== undefined && slices.length > this.options.maxSlices) {
      await this.store.apply(row, { type: 'RISK_DENIED', code: SLICE_CAP_EXCEEDED }, 'rms', {
        message: `${slices.length} slices above the freeze quantity; at most ${this.options.maxSlices}`,
      });
      return denied;
    }
    // Exits and the desk's square-offs go ahead of new exposure when the order budget is short.
    const squareOff = row.deskNote !== null || row.tag === 'INTRADAY_SQUARE_OFF';
    if (verdict.reducing === true || squareOff) this.governor.markReducing(row.id);
    const held = this.risk.reservationOf(row.userId, row.id);
    const approval: OrderStep = {
      event: { type: 'RISK_APPROVED' },
      cause: 'rms',
      extra: {
        reservedPaise: held.heldPaise,
        reservation: held.terms,
        sliceCount: slices?.length ?? 0,
      },
    };
    if (defer && slices === undefined) return { verdict: 'APPROVED', row, approval } as const;
    const approved = (await this.store.applySteps(row, [approval])).row;
    if (slices !== undefined) return { verdict: 'SLICED', slices } as const;
    return { verdict: 'APPROVED', row: approved } as const;
  }
}
