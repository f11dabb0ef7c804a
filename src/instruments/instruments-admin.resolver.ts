import { Mutation, Resolver } from '@nestjs/graphql';
import { AuditLogService } from '../admin/audit-log.service';
import { Role } from '../auth/role.enum';
import { CurrentUser } from '../common/decorators/current-user.decorator';
import { Roles } from '../common/decorators/roles.decorator';
import type { Principal } from '../common/graphql/graphql-context';
import { InstrumentsService } from './instruments.service';
import { InstrumentsReloadReportModel } from './models/instruments-reload-report.model';

@Roles(Role.ADMIN)
@Resolver()
export class InstrumentsAdminResolver {
  constructor(
    private readonly instruments: InstrumentsService,
    private readonly audit: AuditLogService,
  ) {}

  @Mutation(() => InstrumentsReloadReportModel, {
    description: 'Downloads and verifies the scrip master; a refused file keeps the current one.',
  })
  async reloadInstruments(@CurrentUser() actor: Principal): Promise<InstrumentsReloadReportModel> {
    const report = await this.instruments.reload();
    await this.audit.record(actor, 'reloadInstruments', null, {
      accepted: report.accepted,
      count: report.count,
      version: report.version,
      reason: report.reason,
    });
    return report;
  }
}
