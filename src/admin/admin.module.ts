import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthCoreModule } from '../auth/auth-core.module';
import { AdminUsersResolver } from './admin-users.resolver';
import { AuditLogService } from './audit-log.service';
import { AuditLogEntity } from './entities/audit-log.entity';
import { RefusedAccessAudit } from './refused-access-audit';

/** Resolvers of the admin schema (`/admin/graphql`); other modules' admin resolvers join here. */
@Module({
  imports: [TypeOrmModule.forFeature([AuditLogEntity]), AuthCoreModule],
  providers: [AuditLogService, AdminUsersResolver, RefusedAccessAudit],
  exports: [AuditLogService],
})
export class AdminModule {}
