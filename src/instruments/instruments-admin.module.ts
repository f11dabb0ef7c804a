import { Module } from '@nestjs/common';
import { AdminModule } from '../admin/admin.module';
import { InstrumentsAdminResolver } from './instruments-admin.resolver';
import { InstrumentsModule } from './instruments.module';

/** Admin schema: reloadInstruments. */
@Module({
  imports: [InstrumentsModule, AdminModule],
  providers: [InstrumentsAdminResolver],
})
export class InstrumentsAdminModule {}
