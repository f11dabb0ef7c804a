export * from './order-state';
