import { FeedMode, type Instrument } from '@app/dhan/types';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { InstrumentsService } from '../instruments/instruments.service';
import {
  ReferenceKind,
  type SubscriptionReference,
} from '../market-data/feed/subscription-registry';
import { MarketDataError, MarketDataErrorCode } from '../market-data/market-data.errors';
import { MarketDataService } from '../market-data/market-data.service';
import type { TickRecord } from '../market-data/ticks/tick-store';
import type { PlaceOrderCommand } from '../orders/order-terms';
import { AlertMetric } from './alert-vocabulary';
import type { AlertEntity } from './entities/alert.entity';

/**
 * The feed an ACTIVE alert needs: its instrument held as a CLIENT reference `alert:<id>` (an
 * IV alert also its underlying, and its chain kept analysed), released when the alert ends.
 */
@Injectable()
export class AlertFeedHolds {
  /** Per alert: releases its feed references (and IV watch). */
  private readonly holds = new Map<string, () => void>();

  constructor(
    private readonly marketData: MarketDataService,
    private readonly instruments: InstrumentsService,
  ) {}

  /** The alert's instrument on the feed (and for IV its underlying, its chain analysed). */
  hold(row: AlertEntity, instrument: Instrument): void {
    const refs: SubscriptionReference[] = [reference(row.id, instrument)];
    let base: Instrument | undefined;
    if (row.metric === AlertMetric.IV && instrument.underlying !== undefined) {
      // The base its chain is analysed against (for MCX the future of the option's expiry).
      base =
        instrument.expiry === undefined
          ? this.instruments.underlyingOf(instrument.underlying)
          : this.instruments.chainBase(instrument.underlying, instrument.expiry);
      if (base) refs.push(reference(row.id, base));
    }
    try {
      this.marketData.acquire(refs);
    } catch (e) {
      if (e instanceof MarketDataError && e.code === MarketDataErrorCode.CAPACITY_EXCEEDED) {
        throw new DomainError(
          ErrorCode.CAPACITY_EXCEEDED,
          'The feed has no room for this alert instrument; retry later',
        );
      }
      throw e;
    }
    let stopIv: (() => void) | undefined;
    if (row.metric === AlertMetric.IV) {
      try {
        stopIv = this.marketData.watchIv(instrument);
      } catch (e) {
        this.marketData.release(refs);
        throw e;
      }
    }
    this.holds.set(row.id, () => {
      stopIv?.();
      this.marketData.release(refs);
    });
  }

  release(id: string): void {
    const release = this.holds.get(id);
    this.holds.delete(id);
    release?.();
  }

  keyOf(row: AlertEntity): number {
    return this.marketData.instrumentKeyOf(
      row.segment as PlaceOrderCommand['segment'],
      row.securityId,
    );
  }

  recordOf(row: AlertEntity): TickRecord | undefined {
    return this.marketData.record(row.segment as PlaceOrderCommand['segment'], row.securityId);
  }

  /** Releases every hold (the process is stopping). */
  releaseAll(): void {
    for (const release of this.holds.values()) release();
    this.holds.clear();
  }
}

function reference(alertId: string, instrument: Instrument): SubscriptionReference {
  return {
    segment: instrument.segment,
    securityId: instrument.securityId,
    kind: ReferenceKind.CLIENT,
    holderId: `alert:${alertId}`,
    mode: FeedMode.QUOTE,
  };
}
