import { Global, Module } from '@nestjs/common';
import { ClusterEventsRelay } from './cluster-events.relay';
import { ClusterRedis } from './cluster-redis';
import { LeadershipService } from './leadership.service';

/**
 * Several instances on one Redis (REDIS_URL): the leadership of the DhanHQ sockets and crons,
 * and the admin changes every instance must act on. Without REDIS_URL: one instance, the
 * leader, and no Redis connection at all.
 */
@Global()
@Module({
  providers: [ClusterRedis, LeadershipService, ClusterEventsRelay],
  exports: [ClusterRedis, LeadershipService],
})
export class ClusterModule {}
