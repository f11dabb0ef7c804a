import { Global, Module } from '@nestjs/common';
import { BrokerTokenRelay } from './broker-token.relay';
import { ClusterEventsRelay } from './cluster-events.relay';
import { ClusterRedis } from './cluster-redis';
import { LeadershipService } from './leadership.service';

/**
 * Several instances on one Redis (REDIS_URL): the leadership of the DhanHQ sockets and crons,
 * the admin changes every instance must act on, and one DhanHQ access token for all. Without
 * REDIS_URL: one instance, the leader, and no Redis connection at all.
 */
@Global()
@Module({
  providers: [ClusterRedis, LeadershipService, ClusterEventsRelay, BrokerTokenRelay],
  exports: [ClusterRedis, LeadershipService],
})
export class ClusterModule {}
