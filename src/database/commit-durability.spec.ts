import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type EntityManager } from 'typeorm';
import { prepareSqliteConnection } from './data-source-options';
import { serialiseSqliteAccess, transactionWith } from './sqlite-serial';

/** A SQLite file, set and serialised as the app opens it. */
async function openSqlite(folder: string): Promise<DataSource> {
  const dataSource = await new DataSource({
    type: 'better-sqlite3',
    database: join(folder, 'db.sqlite'),
    prepareDatabase: prepareSqliteConnection,
  }).initialize();
  await dataSource.query('CREATE TABLE t (k TEXT PRIMARY KEY)');
  return serialiseSqliteAccess(dataSource);
}

async function safetyLevel(db: { query(sql: string): Promise<unknown> }): Promise<number> {
  const rows = (await db.query('PRAGMA synchronous')) as Array<{ synchronous: number }>;
  return rows[0].synchronous;
}

/** A promise and the function that settles it: a step the test releases. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('transactionWith on SQLite (WAL)', () => {
  let folder: string;
  let dataSource: DataSource;

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'durability-'));
    dataSource = await openSqlite(folder);
  });

  afterEach(async () => {
    await dataSource.destroy();
    rmSync(folder, { recursive: true, force: true });
  });

  it('commits deferred by default (NORMAL), durable at FULL when asked, and restores the default', async () => {
    expect(await safetyLevel(dataSource)).toBe(1);
    const durable = await transactionWith(dataSource, 'durable', async (em) => {
      await em.query(`INSERT INTO t (k) VALUES ('a')`);
      return safetyLevel(em);
    });
    expect(durable).toBe(2);
    expect(await safetyLevel(dataSource)).toBe(1);
    expect(await transactionWith(dataSource, 'deferred', (em) => safetyLevel(em))).toBe(1);
    expect(await transactionWith(dataSource, undefined, (em) => safetyLevel(em))).toBe(1);
    expect(await dataSource.query('SELECT k FROM t')).toEqual([{ k: 'a' }]);
  });

  it('holds the connection: a statement from outside waits and runs at the level restored', async () => {
    const held = gate();
    const entered = gate();
    const durable = transactionWith(dataSource, 'durable', async (em) => {
      await em.query(`INSERT INTO t (k) VALUES ('a')`);
      entered.open();
      await held.opened;
    });
    await entered.opened;
    let outsideRan = false;
    const outside = (async () => {
      await dataSource.query(`INSERT INTO t (k) VALUES ('b')`);
      outsideRan = true;
      return safetyLevel(dataSource);
    })();
    // Every queued turn runs before the gate opens: the outside statement must still wait.
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    expect(outsideRan).toBe(false);
    held.open();
    await durable;
    expect(await outside).toBe(1);
    expect(await dataSource.query('SELECT k FROM t ORDER BY k')).toEqual([{ k: 'a' }, { k: 'b' }]);
  });

  it('rolls back a failed durable transaction and still restores the default', async () => {
    await expect(
      transactionWith(dataSource, 'durable', async (em) => {
        await em.query(`INSERT INTO t (k) VALUES ('a')`);
        throw new Error('fails');
      }),
    ).rejects.toThrow('fails');
    expect(await safetyLevel(dataSource)).toBe(1);
    expect(await dataSource.query('SELECT k FROM t')).toEqual([]);
  });

  it('joins a transaction already open instead of waiting for it', async () => {
    const level = await dataSource.transaction(async (outer: EntityManager) => {
      await outer.query(`INSERT INTO t (k) VALUES ('a')`);
      return transactionWith(dataSource, 'durable', async (em) => {
        await em.query(`INSERT INTO t (k) VALUES ('b')`);
        return safetyLevel(em);
      });
    });
    // The open transaction's level: SQLite cannot change it inside a transaction.
    expect(level).toBe(1);
    expect(await dataSource.query('SELECT k FROM t ORDER BY k')).toEqual([{ k: 'a' }, { k: 'b' }]);
  });
});

describe('transactionWith on PostgreSQL', () => {
  const pg = process.env.TEST_DATABASE_URL ? it : it.skip;
  pg('sets synchronous_commit for the transaction alone', async () => {
    const db = new DataSource({ type: 'postgres', url: process.env.TEST_DATABASE_URL });
    await db.initialize();
    const setting = async (q: { query(sql: string): Promise<unknown> }) =>
      ((await q.query('SHOW synchronous_commit')) as Array<{ synchronous_commit: string }>)[0]
        .synchronous_commit;
    try {
      expect(await transactionWith(db, 'deferred', (em) => setting(em))).toBe('off');
      expect(await transactionWith(db, 'durable', (em) => setting(em))).toBe('on');
      expect(await setting(db)).toBe('on');
    } finally {
      await db.destroy();
    }
  });
});
