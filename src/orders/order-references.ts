import { FeedMode, type ExchangeSegment } from '@app/dhan/types';
import { Injectable, Logger } from '@nestjs/common';
import { MarketDataService } from '../market-data/market-data.service';
import {
  ReferenceKind,
  type SubscriptionReference,
} from '../market-data/feed/subscription-registry';
import type { OrderEntity } from './entities/order.entity';

/** Keeps a working order's instrument on the feed (an ORDER reference) until the order ends. */
@Injectable()
export class OrderReferences {
  private readonly logger = new Logger(OrderReferences.name);

  constructor(private readonly marketData: MarketDataService) {}

  /** A full feed does not stop the order: it is only logged. */
  hold(row: OrderEntity): void {
    try {
      this.marketData.acquire([reference(row)]);
    } catch (e) {
      this.logger.warn({ msg: 'order instrument not streamed', orderId: row.id, err: String(e) });
    }
  }

  drop(row: OrderEntity): void {
    try {
      this.marketData.release([reference(row)]);
    } catch (e) {
      this.logger.warn({ msg: 'order reference not released', orderId: row.id, err: String(e) });
    }
  }
}

function reference(row: OrderEntity): SubscriptionReference {
  return {
    segment: row.segment as ExchangeSegment,
    securityId: row.securityId,
    kind: ReferenceKind.ORDER,
    holderId: row.id,
    mode: FeedMode.QUOTE,
  };
}
