export * from './position';
export * from './correlation-id';
