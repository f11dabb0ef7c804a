export * from './app-config';
export * from './config.module';
export * from './resolve-secrets';
export * from './validate-config';
