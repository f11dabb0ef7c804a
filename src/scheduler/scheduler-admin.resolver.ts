import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { AuditLogService } from '../admin/audit-log.service';
import { Role } from '../auth/role.enum';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { Roles } from '../common/decorators/roles.decorator';
import type { Principal } from '../common/graphql/graphql-context';
import {
  DayCycleService,
  type DayCycleReport,
  type ReferenceCounts,
  type StartOfDayReport,
} from './day-cycle.service';
import {
  DayCycleReportModel,
  ExchangeGroupEnum,
  type DayCycleReferenceCountModel,
} from './scheduler-admin.models';

function counts(c: ReferenceCounts): DayCycleReferenceCountModel[] {
  return Object.entries(c).map(([kind, references]) => ({ kind, references }));
}

function toModel(r: DayCycleReport | StartOfDayReport): DayCycleReportModel {
  // Only a start of day that ran has a reload and a restore to report.
  const sod = 'instruments' in r && r.outcome === 'DONE' ? r : null;
  return {
    id: r.id,
    kind: r.kind,
    group: r.group,
    tradingDate: r.tradingDate,
    outcome: r.outcome,
    reason: r.reason ?? null,
    released: r.released,
    before: counts(r.before),
    after: counts(r.after),
    durationMs: r.durationMs,
    instruments: sod
      ? {
          accepted: sod.instruments.accepted,
          count: sod.instruments.count,
          reason: sod.instruments.reason ?? null,
        }
      : null,
    restored: sod ? sod.restored : null,
  };
}

/** Admin schema: end of day and start of day on demand (the cron runs them too). */
@Roles(Role.ADMIN)
@Resolver()
export class SchedulerAdminResolver {
  constructor(
    private readonly dayCycle: DayCycleService,
    private readonly audit: AuditLogService,
  ) {}

  @Mutation(() => DayCycleReportModel, {
    description:
      "Releases the watchlist references of a closed exchange group for today's IST trading date; " +
      'skipped on a non-trading day and a no-op when it already ran, unless forced.',
  })
  async runEndOfDay(
    @CurrentUser() actor: Principal,
    @Args('group', { type: () => ExchangeGroupEnum }) group: ExchangeGroupEnum,
    @Args('force', { defaultValue: false }) force: boolean,
  ): Promise<DayCycleReportModel> {
    const report = await this.dayCycle.runEndOfDay(group, { force });
    await this.audit.record(actor, 'runEndOfDay', group, {
      force,
      outcome: report.outcome,
      tradingDate: report.tradingDate,
      released: report.released,
      reason: report.reason ?? null,
    });
    return toModel(report);
  }

  @Mutation(() => DayCycleReportModel, {
    description:
      'Reloads the instrument master, re-pins Tier B and restores watchlist references; ' +
      'skipped on a non-trading day and a no-op when it already ran, unless forced.',
  })
  async runStartOfDay(
    @CurrentUser() actor: Principal,
    @Args('force', { defaultValue: false }) force: boolean,
  ): Promise<DayCycleReportModel> {
    const report = await this.dayCycle.runStartOfDay({ force });
    await this.audit.record(actor, 'runStartOfDay', null, {
      force,
      outcome: report.outcome,
      tradingDate: report.tradingDate,
      instrumentsAccepted: report.instruments.accepted,
      restoredItems: report.restored.items,
      reason: report.reason ?? null,
    });
    return toModel(report);
  }
}
