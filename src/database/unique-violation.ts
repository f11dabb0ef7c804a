import { QueryFailedError } from 'typeorm';

/** SQLite's and PostgreSQL's codes for a UNIQUE (or primary key) constraint that refused a write. */
const UNIQUE_CODES = new Set(['23505', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

/** True when a query failed because a unique index already holds the value (a lost insert race). */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const code = (error.driverError as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && UNIQUE_CODES.has(code);
}
