import type { BrokerStatus } from './order-status';

/** What can happen to an order: the OMS's state machine applies these, the EMS reports them. */
export type OrderEvent =
  | { type: 'RISK_APPROVED' }
  | { type: 'RISK_DENIED'; code: string }
  /** The order budget is in use: the order waits in the governor's queue (not sent). */
  | { type: 'QUEUED' }
  /** It waited longer than the queue bound: refused, never sent. */
  | { type: 'QUEUE_TIMEOUT'; reason: string }
  /** Written before the request leaves; a QUEUED order the governor granted is in flight again. */
  | { type: 'SENT' }
  | { type: 'ACKNOWLEDGED'; brokerOrderId: string; status?: BrokerStatus }
  | {
      type: 'BROKER_UPDATE';
      status: BrokerStatus;
      filledQuantity?: number;
      averagePrice?: number;
      /** The broker's total quantity, when it reports one. */
      quantity?: number;
      brokerOrderId?: string;
      reason?: string;
    }
  | { type: 'FILL'; tradeId: string; quantity: number; price: number; brokerStatus?: BrokerStatus }
  | { type: 'AMBIGUOUS'; cause: string }
  | { type: 'RESOLVED_NOT_FOUND' }
  | { type: 'MODIFY_REQUESTED'; quantity: number }
  | { type: 'MODIFY_ACKED' }
  | { type: 'MODIFY_REJECTED'; reason: string }
  | { type: 'CANCEL_REQUESTED' }
  | { type: 'CANCEL_ACKED' }
  | { type: 'CANCEL_REJECTED'; reason: string };

export type OrderEventType = OrderEvent['type'];
