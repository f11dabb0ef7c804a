import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaults as pgDefaults, types as pgTypes } from 'pg';
import type { DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config/app-config';
import { MIGRATIONS } from './migrations';

const PG_TIMESTAMP_WITHOUT_TZ = 1114;

/**
 * Instants are stored in UTC on PostgreSQL (`timestamp` columns, portable with SQLite), so the
 * driver must write and read them as UTC whatever the process time zone.
 */
function usePostgresUtcTimestamps(): void {
  pgDefaults.parseInputDatesAsUTC = true;
  pgTypes.setTypeParser(PG_TIMESTAMP_WITHOUT_TZ, (value: string) => new Date(`${value}Z`));
}

/** Connection URL without the `schema` parameter, which is ours, not libpq's. */
function postgresUrl(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.delete('schema');
  return parsed.toString();
}

/**
 * How a SQLite connection is set. WAL lets readers proceed during a write. Commits are
 * deferred by default (`synchronous = NORMAL`: written to the operating system, flushed at the
 * next durable commit or checkpoint; they survive a crash of the process, not a power cut);
 * the commits that must reach the disk ask for it (see CommitDurability: the order's
 * write-ahead record before it is sent, flushed in the thread pool, see serialiseSqliteAccess).
 * Foreign keys are off by default in SQLite.
 */
export function prepareSqliteConnection(db: { pragma: (sql: string) => unknown }): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
}

/**
 * The SQLite folder (0700 when we create it) and files (0600): the database holds password
 * hashes and session tokens. SQLite gives the -wal and -shm files the mode of the database
 * file, so creating that one 0600 before the driver opens it covers all three; files left by
 * an older version are tightened too.
 */
export function prepareSqliteFiles(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  for (const existing of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    try {
      fs.chmodSync(existing, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/**
 * TypeORM options for the configured engine: migrations only (never synchronize), run at
 * boot. Creates the SQLite folder and file (private) so a fresh clone starts.
 */
export function buildDataSourceOptions(
  database: DatabaseConfig,
  entities: NonNullable<DataSourceOptions['entities']> = [],
): DataSourceOptions {
  const common = {
    entities,
    migrations: MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
    logging: false,
  } as const;
  if (database.engine === 'sqlite') {
    const file = database.sqlitePath ?? 'data/terminal.sqlite';
    if (file !== ':memory:') prepareSqliteFiles(file);
    return {
      ...common,
      type: 'better-sqlite3',
      database: file,
      prepareDatabase: prepareSqliteConnection,
    };
  }
  usePostgresUtcTimestamps();
  return {
    ...common,
    type: 'postgres',
    url: postgresUrl(database.url),
    schema: database.schema,
    extra: database.schema
      ? { options: `-c search_path=${database.schema}`, max: 10 }
      : { max: 10 },
  };
}
