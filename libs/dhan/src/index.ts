export * from './types';

export * from './feed/feed-packets';
export * from './feed/feed-decoder';
export * from './feed/depth-decoder';
export * from './feed/feed-requests';
export * from './feed/feed-connection';

export * from './rest/dhan-errors';
export * from './rest/rate-limiter';
export * from './rest/rest-types';
export * from './rest/dhan-rest-client';

export * from './order-update/order-update.parser';
export * from './order-update/order-update-connection';

export * from './scrip-master/scrip-master.parser';

export * from './util/backoff';
export * from './util/clock';
export * from './util/typed-emitter';

export * from './auth/totp';
export * from './auth/token-api';
