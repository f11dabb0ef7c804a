import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG } from '../config/app-config';
import { InstrumentMasterLoadEntity } from './entities/instrument-master-load.entity';
import { InstrumentEntity } from './entities/instrument.entity';
import { InstrumentStore } from './instrument.store';
import { INSTRUMENTS_OPTIONS, instrumentsOptions } from './instruments.options';
import { InstrumentsService } from './instruments.service';
import { HttpScripMasterSource, ScripMasterSource } from './scrip-master.source';

/**
 * The instrument master (no resolvers, so modules of either schema can import it): load,
 * verify, swap, store; lookups, search, expiries and chains through InstrumentsService.
 */
@Module({
  imports: [TypeOrmModule.forFeature([InstrumentEntity, InstrumentMasterLoadEntity])],
  providers: [
    InstrumentsService,
    InstrumentStore,
    { provide: ScripMasterSource, useClass: HttpScripMasterSource },
    { provide: INSTRUMENTS_OPTIONS, inject: [APP_CONFIG], useFactory: instrumentsOptions },
  ],
  exports: [InstrumentsService],
})
export class InstrumentsModule {}
