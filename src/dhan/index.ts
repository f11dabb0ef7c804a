export * from './dhan-endpoints';
export * from './dhan.module';
