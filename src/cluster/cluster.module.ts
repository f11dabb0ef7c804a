import { Global, Module } from '@nestjs/common';
import { BrokerTokenRelay } from './broker-token.relay';
import { ClusterMutex } from './cluster-mutex';
import { ClusterEventsRelay } from './cluster-events.relay';
import { ClusterRedis } from './cluster-redis';
import { LeaderStatus } from './leader-status';
import { LeadershipService } from './leadership.service';
import { UserEventsRelay } from './user-events.relay';

/**
 * Several instances on one Redis (REDIS_URL): the leadership of the DhanHQ sockets and crons,
 * the admin changes and each user's order, position and watchlist events every instance must
 * act on, one DhanHQ access token for all, the leader's socket health for followers' /ready,
 * and a mutex per user's order admission. Without REDIS_URL: one instance, the leader, and no
 * Redis connection at all.
 */
@Global()
@Module({
  providers: [
    ClusterRedis,
    LeadershipService,
    ClusterEventsRelay,
    BrokerTokenRelay,
    UserEventsRelay,
    LeaderStatus,
    ClusterMutex,
  ],
  exports: [ClusterRedis, LeadershipService, LeaderStatus, ClusterMutex],
})
export class ClusterModule {}
