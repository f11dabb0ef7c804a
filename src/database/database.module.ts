import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config';
import { buildDataSourceOptions } from './data-source-options';
import { serialiseSqliteAccess } from './sqlite-serial';

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
      // SQLite's single connection is shared by every module: see sqlite-serial.ts.
      dataSourceFactory: async (options?: DataSourceOptions) => {
        if (options === undefined) throw new Error('database options missing');
        return serialiseSqliteAccess(await new DataSource(options).initialize());
      },
    }),
  ],
})
export class DatabaseModule {}
