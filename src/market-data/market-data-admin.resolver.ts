import { Args, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuditLogService } from '../admin/audit-log.service';
import { BadUserInputError } from '../common/errors/domain-error';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { Roles } from '../common/decorators/roles.decorator';
import type { Principal } from '../common/graphql/graphql-context';
import { Role } from '../auth/role.enum';
import { MarketDataService } from './market-data.service';
import { ClusterRole, FeedStatusModel, ReconnectFeedResultModel } from './models/feed-health.model';
import {
  FeedSubscriptionListModel,
  SubscriptionsArgs,
  type FeedReferencesModel,
} from './models/feed-subscription.model';

/** The feed's state as the admin schema shows it (feedStatus, feedStatusUpdates). */
export function feedStatusModel(
  marketData: Pick<MarketDataService, 'feedStatus'>,
): FeedStatusModel {
  const s = marketData.feedStatus();
  return {
    ...s,
    role: ClusterRole[s.role],
    connections: s.connections.map((c) => ({
      ...c,
      lastMessageAt: c.lastMessageAt > 0 ? new Date(c.lastMessageAt) : null,
    })),
    byUnderlying: s.byUnderlying.map((u) => ({ ...u, references: null })),
    pausedSince: s.pausedSince !== null ? new Date(s.pausedSince) : null,
  };
}

@Roles(Role.ADMIN)
@Resolver()
export class MarketDataAdminResolver {
  constructor(
    private readonly marketData: MarketDataService,
    private readonly audit: AuditLogService,
  ) {}

  @Query(() => FeedStatusModel, {
    description: 'Feed connections, instruments by tier and by Tier B underlying, capacity.',
  })
  feedStatus(): FeedStatusModel {
    return feedStatusModel(this.marketData);
  }

  @Query(() => FeedSubscriptionListModel, {
    description:
      'Instruments on the feed (the subscription registry): mode, connection, references by kind.',
  })
  subscriptions(@Args() { filter, limit }: SubscriptionsArgs): FeedSubscriptionListModel {
    const list = this.marketData.subscriptions(filter ?? {}, limit);
    return {
      total: list.total,
      items: list.items.map((e) => {
        const byKind = new Map<string, FeedReferencesModel>();
        for (const h of e.holders) {
          const row = byKind.get(h.kind) ?? { kind: h.kind, count: 0, holders: [] };
          row.count++;
          row.holders.push(h.holderId);
          byKind.set(h.kind, row);
        }
        return {
          segment: e.segment,
          securityId: e.securityId,
          instrument: e.instrument ?? null,
          mode: e.mode,
          connection: e.connIndex,
          priority: e.priority,
          references: [...byKind.values()],
        };
      }),
    };
  }

  @Mutation(() => ReconnectFeedResultModel, {
    description: 'Drops and reconnects one feed connection (or all); subscriptions are replayed.',
  })
  async reconnectFeed(
    @CurrentUser() actor: Principal,
    @Args('connection', { type: () => Int, nullable: true }) connection?: number | null,
  ): Promise<ReconnectFeedResultModel> {
    const total = this.marketData.feedStatus().connections.length;
    if (
      connection !== undefined &&
      connection !== null &&
      (connection < 0 || connection >= total)
    ) {
      throw new BadUserInputError(`connection must be between 0 and ${total - 1}`);
    }
    const connections = this.marketData.reconnectFeed(connection ?? undefined);
    await this.audit.record(
      actor,
      'reconnectFeed',
      connection == null ? null : String(connection),
      {
        connections,
      },
    );
    return { connections };
  }
}
