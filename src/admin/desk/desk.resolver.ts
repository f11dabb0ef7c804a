import { Args, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { Role } from '../../auth/role.enum';
import { CurrentUser } from '../../common/decorators/current-user.decorator';
import { Roles } from '../../common/decorators/roles.decorator';
import type { Principal } from '../../common/graphql/graphql-context';
import { PushStream } from '../../common/subscriptions/push-stream';
import { intervalStream } from '../../common/subscriptions/topic-stream';
import { ExecutionService } from '../../execution/execution.service';
import { feedStatusModel } from '../../market-data/market-data-admin.resolver';
import { MarketDataService } from '../../market-data/market-data.service';
import { FeedStatusModel } from '../../market-data/models/feed-health.model';
import {
  AdjustFundsArgs,
  DeskCancelArgs,
  DeskPageArgs,
  DeskSummaryArgs,
  SquareOffArgs,
} from './desk.args';
import {
  DeskOrderModel,
  DeskOrderPageModel,
  DeskPositionPageModel,
  DeskSummaryModel,
  DeskTradePageModel,
  FundsAdjustmentModel,
  SquareOffResultModel,
} from './desk.models';
import { DeskService } from './desk.service';

/** How often deskUpdates and feedStatusUpdates look for a change (conflated, latest wins). */
export const DESK_UPDATE_INTERVAL_MS = 1_000;

/** Admin schema: every dealer's book, the desk summary and actions on a dealer's behalf. */
@Roles(Role.ADMIN)
@Resolver()
export class DeskResolver {
  constructor(
    private readonly desk: DeskService,
    private readonly marketData: MarketDataService,
    private readonly execution: ExecutionService,
  ) {}

  @Query(() => String, {
    description:
      'The broker s own kill switch now: ACTIVE, INACTIVE, or NOT_APPLICABLE on the paper ' +
      'gateway. A global HALTED activates it; per-dealer HALTED stays ours.',
  })
  brokerKillSwitch(): Promise<string> {
    return this.execution.brokerKillSwitch();
  }

  @Query(() => DeskOrderPageModel, {
    description: 'Every dealer s orders, newest first, filtered and paged.',
  })
  orders(@Args() { filter, limit, offset }: DeskPageArgs): Promise<DeskOrderPageModel> {
    return this.desk.searchOrders(filter, { limit, offset });
  }

  @Query(() => DeskTradePageModel, {
    description: 'Every dealer s trades, newest first, filtered and paged.',
  })
  trades(@Args() { filter, limit, offset }: DeskPageArgs): Promise<DeskTradePageModel> {
    return this.desk.searchTrades(filter, { limit, offset });
  }

  @Query(() => DeskPositionPageModel, {
    description:
      'Every dealer s positions (flat ones included) by dealer, instrument and product; the ' +
      'time range does not apply.',
  })
  positions(@Args() { filter, limit, offset }: DeskPageArgs): Promise<DeskPositionPageModel> {
    return this.desk.searchPositions(filter, { limit, offset });
  }

  @Query(() => DeskSummaryModel, {
    description: 'Exposure, P&L and funds per dealer and in all, and the largest positions.',
  })
  deskSummary(@Args() { top }: DeskSummaryArgs): Promise<DeskSummaryModel> {
    return this.desk.summary(top);
  }

  @Mutation(() => DeskOrderModel, {
    description:
      'Cancels a dealer s working order on their behalf (audited); the dealer s orderUpdates ' +
      'show it with deskNote. CONFLICT when it cannot be cancelled.',
  })
  cancelOrder(
    @CurrentUser() actor: Principal,
    @Args() { id, reason }: DeskCancelArgs,
  ): Promise<DeskOrderModel> {
    return this.desk.cancelOrder(actor, id, reason);
  }

  @Mutation(() => SquareOffResultModel, {
    description:
      'Closes a dealer s open position(s) with market orders on their behalf (audited; the ' +
      'orders carry deskNote). RMS still checks them: a HALTED dealer or desk refuses them ' +
      '(set REDUCING first).',
  })
  async squareOff(
    @CurrentUser() actor: Principal,
    @Args() { dealerId, instrument, productType, reason }: SquareOffArgs,
  ): Promise<SquareOffResultModel> {
    const orders = await this.desk.squareOff(
      actor,
      dealerId,
      { segment: instrument?.segment, securityId: instrument?.securityId, productType },
      reason,
    );
    return { orders };
  }

  @Mutation(() => FundsAdjustmentModel, {
    description:
      'Credits (positive) or debits (negative) a dealer s paper balance (audited as ' +
      'creditFunds / debitFunds); a debit beyond the available funds is BAD_USER_INPUT.',
  })
  adjustFunds(
    @CurrentUser() actor: Principal,
    @Args() { dealerId, amount, reason }: AdjustFundsArgs,
  ): Promise<FundsAdjustmentModel> {
    return this.desk.adjustFunds(actor, dealerId, amount, reason);
  }

  @Subscription(() => DeskSummaryModel, {
    description:
      'The desk summary (positions and P&L per dealer) when it changed, at most once a second.',
    resolve: (payload: { deskUpdates: DeskSummaryModel }) => payload.deskUpdates,
  })
  deskUpdates(
    @Args() { top }: DeskSummaryArgs,
  ): AsyncIterableIterator<{ deskUpdates: DeskSummaryModel }> {
    let last = '';
    let busy = false;
    const tick = async () => {
      if (busy || stream.done) return;
      busy = true;
      try {
        const summary = await this.desk.summary(top);
        const signature = JSON.stringify({ ...summary, at: 0 });
        if (signature !== last) {
          last = signature;
          stream.push({ deskUpdates: summary });
        }
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick().catch(() => undefined), DESK_UPDATE_INTERVAL_MS);
    const stream = new PushStream<{ deskUpdates: DeskSummaryModel }>({
      conflateBy: () => 'latest',
      onEnd: () => clearInterval(timer),
    });
    void tick().catch(() => undefined);
    return stream;
  }

  @Subscription(() => FeedStatusModel, {
    description: 'feedStatus once a second (latest wins).',
    resolve: (payload: { feedStatusUpdates: FeedStatusModel }) => payload.feedStatusUpdates,
  })
  feedStatusUpdates(): AsyncIterableIterator<{ feedStatusUpdates: FeedStatusModel }> {
    const stream = intervalStream(DESK_UPDATE_INTERVAL_MS, () => ({
      feedStatusUpdates: feedStatusModel(this.marketData),
    }));
    stream.push({ feedStatusUpdates: feedStatusModel(this.marketData) });
    return stream;
  }
}
