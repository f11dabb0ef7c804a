import { Module } from '@nestjs/common';
import { InstrumentsModule } from './instruments.module';
import { InstrumentsResolver } from './instruments.resolver';

/** User schema: instruments, instrument, expiries. */
@Module({
  imports: [InstrumentsModule],
  providers: [InstrumentsResolver],
})
export class InstrumentsGraphqlModule {}
