export * from './calendar.module';
export * from './clock';
export * from './holiday-data';
export * from './market-calendar';
export * from './market-calendar.types';
