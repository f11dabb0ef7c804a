import { Resolver, Subscription } from '@nestjs/graphql';
import { Clock } from '../common/clock';
import { intervalStream } from '../common/subscriptions/topic-stream';

/** `serverTime`: the server clock every second; the simplest authenticated stream. */
@Resolver()
export class ServerTimeResolver {
  constructor(private readonly clock: Clock) {}

  @Subscription(() => Date, {
    description: 'The server time, every second (authenticated).',
    resolve: (payload: { serverTime: Date }) => payload.serverTime,
  })
  serverTime(): AsyncIterableIterator<{ serverTime: Date }> {
    return intervalStream(1000, () => ({ serverTime: this.clock.now() }));
  }
}
