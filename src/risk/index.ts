export * from './risk.types';
export * from './risk-limits';
export * from './price-units';
export * from './funds-ledger';
export * from './order-rate-limiter';
export * from './risk-order-facts';
export * from './risk-checks';
export * from './risk-engine';
