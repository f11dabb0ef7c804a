import { Module } from '@nestjs/common';
import { AdminModule } from '../admin/admin.module';
import { SchedulerAdminResolver } from './scheduler-admin.resolver';
import { SchedulerModule } from './scheduler.module';

/** Admin schema: runEndOfDay, runStartOfDay. */
@Module({
  imports: [SchedulerModule, AdminModule],
  providers: [SchedulerAdminResolver],
})
export class SchedulerAdminModule {}
