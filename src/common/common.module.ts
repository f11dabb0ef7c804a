import { Global, Module } from '@nestjs/common';
import { Clock, SystemClock } from './clock';
import { RequestLimiter } from './graphql/request-limiter';

/** Ports every module may use: the clock; the GraphQL edge's per-caller request limiter. */
@Global()
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }, RequestLimiter],
  exports: [Clock, RequestLimiter],
})
export class CommonModule {}
