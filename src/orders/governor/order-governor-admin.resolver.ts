import { Field, Float, Int, ObjectType, Query, Resolver, registerEnumType } from '@nestjs/graphql';
import { Role } from '../../auth/role.enum';
import { Roles } from '../../common/decorators/roles.decorator';
import { GOVERNOR_GUARD_MS, OrderGovernorService } from './order-governor.service';

export enum OrderBudgetSharing {
  LOCAL = 'LOCAL',
  SHARED = 'SHARED',
  FALLBACK = 'FALLBACK',
}
registerEnumType(OrderBudgetSharing, {
  name: 'OrderBudgetSharing',
  description:
    'How the order budget is kept: LOCAL (one instance, no Redis), SHARED (one budget for every ' +
    'instance, on Redis), FALLBACK (Redis unreachable: this instance keeps to its share, ' +
    'floor(limit / instances), at least 1).',
});

@ObjectType('OrderBudgetDealer', { description: 'One dealer s use of one segment s order budget.' })
export class OrderBudgetDealerModel {
  @Field({ description: 'The dealer s user id.' })
  userId!: string;

  @Field(() => Int, { description: 'Requests of the dealer waiting now.' })
  queued!: number;

  @Field(() => Int, { description: 'Sends granted since start.' })
  sent!: number;

  @Field(() => Int, { description: 'Sends that waited in the queue first, since start.' })
  waited!: number;

  @Field(() => Int, { description: 'Requests refused after the queue bound, since start.' })
  refused!: number;

  @Field(() => Float, { description: 'Longest wait of a granted send, ms.' })
  longestWaitMs!: number;
}

@ObjectType('OrderBudgetSegment', { description: 'One exchange segment s order budget.' })
export class OrderBudgetSegmentModel {
  @Field()
  segment!: string;

  @Field(() => Int, { description: 'ORDER_RATE_PER_SECOND.' })
  allowancePerSecond!: number;

  @Field(() => Int, { description: 'Sends in the last second.' })
  sentLastSecond!: number;

  @Field(() => Float, { description: 'sentLastSecond / allowancePerSecond (1: full).' })
  utilisation!: number;

  @Field(() => Int)
  queued!: number;

  @Field(() => Int)
  sent!: number;

  @Field(() => Int)
  refused!: number;

  @Field(() => [OrderBudgetDealerModel])
  dealers!: OrderBudgetDealerModel[];
}

@ObjectType('OrderBudgetWindow', { description: 'One of the broker account s order limits.' })
export class OrderBudgetWindowModel {
  @Field(() => Int)
  windowSeconds!: number;

  @Field(() => Int)
  limit!: number;

  @Field(() => Int, { description: 'Sends within the window now.' })
  used!: number;
}

@ObjectType('OrderBudget', {
  description:
    'The firm s order budget (the order governor) of this process: per segment and dealer, ' +
    'and the broker account s windows.',
})
export class OrderBudgetModel {
  @Field(() => [OrderBudgetSegmentModel])
  segments!: OrderBudgetSegmentModel[];

  @Field(() => [OrderBudgetWindowModel])
  account!: OrderBudgetWindowModel[];

  @Field(() => Int, { description: 'ORDER_QUEUE_MAX_WAIT_MS.' })
  maxWaitMs!: number;

  @Field(() => Int, { description: 'Margin added to every window against network jitter, ms.' })
  guardMs!: number;

  @Field(() => OrderBudgetSharing)
  sharing!: OrderBudgetSharing;

  @Field(() => Int, {
    description:
      'Instances sharing the budget, as last seen on Redis (1 without Redis); the fallback ' +
      'divides every limit by it.',
  })
  instances!: number;

  @Field(() => Int, {
    nullable: true,
    description:
      'This instance s per-second allowance per segment while its share gates (the fallback, ' +
      'and just after it); null otherwise.',
  })
  shareAllowancePerSecond!: number | null;
}

/** Admin schema: orderBudget (read only). */
@Roles(Role.ADMIN)
@Resolver()
export class OrderGovernorAdminResolver {
  constructor(private readonly governor: OrderGovernorService) {}

  @Query(() => OrderBudgetModel, {
    description: 'Use of the order budget per exchange segment and dealer, queues and refusals.',
  })
  orderBudget(): OrderBudgetModel {
    const usage = this.governor.usage();
    const shared = this.governor.shared;
    return {
      sharing: OrderBudgetSharing[this.governor.sharing],
      instances: shared?.instances ?? 1,
      shareAllowancePerSecond: shared?.shareOf(this.governor.config.perSegmentPerSecond) ?? null,
      maxWaitMs: this.governor.config.maxWaitMs,
      guardMs: GOVERNOR_GUARD_MS,
      account: usage.account.map((w) => ({
        windowSeconds: w.intervalMs / 1_000,
        limit: w.limit,
        used: w.used,
      })),
      segments: usage.segments.map((s) => ({
        segment: s.segment,
        allowancePerSecond: s.allowancePerSecond,
        sentLastSecond: s.sentLastSecond,
        utilisation: s.sentLastSecond / s.allowancePerSecond,
        queued: s.queued,
        sent: s.counters.sent,
        refused: s.counters.refused,
        dealers: s.dealers.map((d) => ({
          userId: d.dealer,
          queued: d.queued,
          sent: d.counters.sent,
          waited: d.counters.queued,
          refused: d.counters.refused,
          longestWaitMs: Math.round(d.counters.longestWaitMs),
        })),
      })),
    };
  }
}
