import { DataSource } from 'typeorm';
import { isUniqueViolation } from './unique-violation';

/** Real SQLite (and PostgreSQL when TEST_DATABASE_URL is set): the driver's own errors. */
async function failureOf(
  db: { query(sql: string): Promise<unknown> },
  sql: string,
): Promise<unknown> {
  try {
    await db.query(sql);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${sql} to fail`);
}

describe('isUniqueViolation', () => {
  it('knows a unique and a primary-key violation on SQLite, and nothing else', async () => {
    const db = new DataSource({ type: 'better-sqlite3', database: ':memory:' });
    await db.initialize();
    try {
      await db.query('CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, v TEXT NOT NULL)');
      await db.query("INSERT INTO t (id, k, v) VALUES (1, 'a', 'x')");
      expect(isUniqueViolation(await failureOf(db, "INSERT INTO t VALUES (2, 'a', 'y')"))).toBe(
        true,
      );
      expect(isUniqueViolation(await failureOf(db, "INSERT INTO t VALUES (1, 'b', 'y')"))).toBe(
        true,
      );
      expect(isUniqueViolation(await failureOf(db, "INSERT INTO t VALUES (3, 'c', NULL)"))).toBe(
        false,
      );
      expect(isUniqueViolation(await failureOf(db, 'SELECT * FROM missing'))).toBe(false);
      expect(isUniqueViolation(new Error('UNIQUE constraint failed'))).toBe(false);
    } finally {
      await db.destroy();
    }
  });

  const pg = process.env.TEST_DATABASE_URL ? it : it.skip;
  pg('knows a unique violation on PostgreSQL', async () => {
    const db = new DataSource({ type: 'postgres', url: process.env.TEST_DATABASE_URL });
    await db.initialize();
    try {
      await db.query('CREATE TEMP TABLE t (k TEXT UNIQUE, v TEXT NOT NULL)');
      await db.query("INSERT INTO t VALUES ('a', 'x')");
      expect(isUniqueViolation(await failureOf(db, "INSERT INTO t VALUES ('a', 'y')"))).toBe(true);
      expect(isUniqueViolation(await failureOf(db, "INSERT INTO t VALUES ('b', NULL)"))).toBe(
        false,
      );
    } finally {
      await db.destroy();
    }
  });
});
