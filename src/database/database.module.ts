import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config';
import { buildDataSourceOptions } from './data-source-options';

/** The one TypeORM connection; each module registers its own entities with forFeature. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: ResolvedAppConfig) => ({
        ...buildDataSourceOptions(config.database),
        autoLoadEntities: true,
        // A database that is down at boot fails the boot quickly instead of hanging.
        retryAttempts: 2,
        retryDelay: 1000,
      }),
    }),
  ],
})
export class DatabaseModule {}
