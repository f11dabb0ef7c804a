import { Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Clock, SystemClock } from './clock';
import { DomainErrorFilter } from './errors/domain-error.filter';
import { RequestLimiter } from './graphql/request-limiter';

/**
 * Ports every module may use: the clock; the GraphQL edge's per-caller request limiter. And
 * the filter that keeps client mistakes out of Nest's error log.
 */
@Global()
@Module({
  providers: [
    { provide: Clock, useClass: SystemClock },
    RequestLimiter,
    { provide: APP_FILTER, useClass: DomainErrorFilter },
  ],
  exports: [Clock, RequestLimiter],
})
export class CommonModule {}
