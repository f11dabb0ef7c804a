import * as path from 'node:path';
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { validateDatabaseConfig } from './src/config/validate-config';
import { buildDataSourceOptions } from './src/database/data-source-options';

// For the TypeORM CLI (`npm run migration:run`): the same options the server uses at boot.
const database = validateDatabaseConfig(process.env);

export default new DataSource(
  buildDataSourceOptions(database, [path.join(__dirname, 'src/**/*.entity.{js,ts}')]),
);
