/** What an alert watches. IV: implied volatility in percent, for options only. */
export enum AlertMetric {
  LTP = 'LTP',
  CHANGE_PERCENT = 'CHANGE_PERCENT',
  VOLUME = 'VOLUME',
  OI = 'OI',
  IV = 'IV',
}

/** The side of the level that fires it. */
export enum AlertCondition {
  ABOVE = 'ABOVE',
  BELOW = 'BELOW',
}

/**
 * ACTIVE (evaluated; re-arms after each firing), TRIGGERED (an alert with an order or basket
 * fired: once only), DELETED (deleteAlert; kept for its history, no longer listed).
 */
export enum AlertStatus {
  ACTIVE = 'ACTIVE',
  TRIGGERED = 'TRIGGERED',
  DELETED = 'DELETED',
}

/** The order or basket of a firing: NONE (a plain alert), PENDING (stored, not yet placed), DONE, FAILED. */
export enum AlertActionStatus {
  NONE = 'NONE',
  PENDING = 'PENDING',
  DONE = 'DONE',
  FAILED = 'FAILED',
}

/** Most ACTIVE alerts one dealer may hold. */
export const MAX_ALERTS_PER_USER = 200;

/** Re-arm band when none is given: 0.1 % of the level's size. */
export const DEFAULT_REARM_FRACTION = 0.001;
