import type { ExchangeSegment } from '@app/dhan/types';
import { Injectable } from '@nestjs/common';
import { InstrumentsService } from '../instruments/instruments.service';
import { RiskService } from '../risk/risk.service';
import { OrderStatus } from '../trading/order-status';
import { OrderReferences } from './order-references';
import { OrderRiskFacts, riskOrder } from './order-risk-facts';
import { termsOf } from './order-row';
import { OrderStore } from './order-store';

/** NEW -> RMS -> REJECTED with a reason code, or IN_FLIGHT with its margin reserved. */
@Injectable()
export class OrderAdmissionService {
  constructor(
    private readonly store: OrderStore,
    private readonly references: OrderReferences,
    private readonly instruments: InstrumentsService,
    private readonly risk: RiskService,
    private readonly facts: OrderRiskFacts,
  ) {}

  /** Runs on the order's queue; an order past NEW is left alone. */
  async admit(orderId: string): Promise<void> {
    const row = await this.store.load(orderId);
    if (row.status !== OrderStatus.NEW) return;
    this.references.hold(row);
    await this.instruments.ready();
    const instrument = this.instruments.get(row.segment as ExchangeSegment, row.securityId);
    if (row.orderType === 'MARKET' && instrument) {
      await this.facts.waitForPrice(row.segment as ExchangeSegment, row.securityId);
    }
    const verdict = await this.risk.check(
      riskOrder(row, termsOf(row), 'PLACE'),
      await this.facts.of(row, instrument),
    );
    if (!verdict.pass) {
      await this.store.apply(row, { type: 'RISK_DENIED', code: verdict.code }, 'rms', {
        message: verdict.message,
      });
      return;
    }
    await this.store.apply(row, { type: 'RISK_APPROVED' }, 'rms', undefined, {
      reservedPaise: verdict.reservation?.amountPaise ?? 0,
    });
  }
}
