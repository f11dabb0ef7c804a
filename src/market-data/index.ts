export * from './market-data.errors';
export * from './instrument-key-map';
export * from './subscription-registry';
export * from './tick-store';
export * from './tick-serializer';
export * from './tick-fanout';
export * from './tier-b';
