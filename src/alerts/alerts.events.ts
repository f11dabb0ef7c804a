import type { AlertFiringView } from './alert-model';

/** An alert fired (and, for one with an order or basket, again once that is placed). */
export const ALERT_FIRED = 'alerts.fired';

export interface AlertFiredEvent {
  userId: string;
  firing: AlertFiringView;
}
