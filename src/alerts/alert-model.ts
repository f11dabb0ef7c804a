import type { PlaceOrderCommand } from '../orders/order-terms';
import { AlertActionStatus, AlertCondition, AlertMetric, AlertStatus } from './alert-vocabulary';
import type { AlertEntity, AlertFiringEntity } from './entities/alert.entity';

/** An order an alert places: placeOrder's terms without the key (derived from the firing). */
export type AlertOrderTerms = Omit<PlaceOrderCommand, 'clientOrderId' | 'tag' | 'fundedBy'>;

/** What an alert places when it fires: one order or one basket. */
export interface AlertAction {
  order?: AlertOrderTerms;
  basket?: { legs: AlertOrderTerms[]; hedgeFirst: boolean };
}

export interface CreateAlertCommand {
  segment: PlaceOrderCommand['segment'];
  securityId: string;
  metric: AlertMetric;
  condition: AlertCondition;
  level: number;
  rearmBand?: number | null;
  order?: AlertOrderTerms | null;
  basket?: { legs: AlertOrderTerms[]; hedgeFirst?: boolean | null } | null;
}

export interface AlertFiringView {
  id: string;
  alertId: string;
  userId: string;
  segment: PlaceOrderCommand['segment'];
  securityId: string;
  metric: AlertMetric;
  condition: AlertCondition;
  level: number;
  value: number;
  firedAt: Date;
  actionStatus: AlertActionStatus;
  orderId: string | null;
  basketId: string | null;
  message: string | null;
}

export interface AlertView {
  id: string;
  userId: string;
  segment: PlaceOrderCommand['segment'];
  securityId: string;
  metric: AlertMetric;
  condition: AlertCondition;
  level: number;
  rearmBand: number;
  status: AlertStatus;
  armed: boolean;
  action: AlertAction | null;
  firedCount: number;
  lastFiredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Newest first, at most HISTORY_PER_ALERT. */
  firings: AlertFiringView[];
}

/** Firings listed per alert. */
export const HISTORY_PER_ALERT = 50;

/** A stored firing as the API shows it. */
export function firingView(alert: AlertEntity, f: AlertFiringEntity): AlertFiringView {
  return {
    id: f.id,
    alertId: f.alertId,
    userId: f.userId,
    segment: alert.segment as PlaceOrderCommand['segment'],
    securityId: alert.securityId,
    metric: alert.metric as AlertMetric,
    condition: alert.condition as AlertCondition,
    level: alert.level,
    value: f.value,
    firedAt: f.firedAt,
    actionStatus: f.actionStatus as AlertActionStatus,
    orderId: f.orderId,
    basketId: f.basketId,
    message: f.message,
  };
}
