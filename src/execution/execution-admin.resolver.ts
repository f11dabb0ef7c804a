import { Field, Int, Mutation, ObjectType, Resolver } from '@nestjs/graphql';
import { AuditLogService } from '../admin/audit-log.service';
import { Role } from '../auth/role.enum';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { Roles } from '../common/decorators/roles.decorator';
import type { Principal } from '../common/graphql/graphql-context';
import { ExecutionService } from './execution.service';

@ObjectType('ReconcileReport', { description: 'What one reconciliation with the broker did.' })
export class ReconcileReportModel {
  @Field({ description: 'startup, reconnect or manual.' })
  reason!: string;

  @Field(() => Int, { description: 'Our orders found in the broker s order book.' })
  orders!: number;

  @Field(() => Int, { description: 'Trades that were missing and are now stored (each once).' })
  tradesAdded!: number;
}

/** Admin schema: reconcile the broker's books now (audited). */
@Roles(Role.ADMIN)
@Resolver()
export class ExecutionAdminResolver {
  constructor(
    private readonly execution: ExecutionService,
    private readonly audit: AuditLogService,
  ) {}

  @Mutation(() => ReconcileReportModel, {
    description:
      'Reads the broker s order and trade books now and synthesises every missing update and ' +
      'fill exactly once (as after an order-update reconnect). Runs after any one in progress.',
  })
  async reconcileOrders(@CurrentUser() actor: Principal): Promise<ReconcileReportModel> {
    const report = await this.execution.reconcile('manual');
    await this.audit.record(actor, 'reconcileOrders', null, {
      orders: report.orders,
      tradesAdded: report.tradesAdded,
    });
    return report;
  }
}
