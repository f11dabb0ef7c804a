import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type EntityManager } from 'typeorm';
import { prepareSqliteConnection } from './data-source-options';
import { serialiseSqliteAccess, transactionWith, walFlushStats } from './sqlite-serial';
import { WalFlusher, type SyncFile } from './wal-flush';

/** A SQLite file, set and serialised as the app opens it; `syncFile` stands for the fsync. */
async function openSqlite(folder: string, syncFile?: SyncFile): Promise<DataSource> {
  const dataSource = await new DataSource({
    type: 'better-sqlite3',
    database: join(folder, 'db.sqlite'),
    prepareDatabase: prepareSqliteConnection,
  }).initialize();
  await dataSource.query('CREATE TABLE t (k TEXT PRIMARY KEY)');
  return serialiseSqliteAccess(dataSource, syncFile ? { syncFile } : {});
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

/**
 * An fsync the test controls: each call is recorded with the rows committed when it began, and
 * finishes when the test releases it (or at once when `held` is false).
 */
function controlledSync(folder: string) {
  const calls: Array<{
    file: string;
    rows: string[];
    release: () => void;
    fail: (e: Error) => void;
  }> = [];
  let held = true;
  let read: () => string[] = () => [];
  const called = new Array<() => void>();
  const syncFile: SyncFile = (file) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ file, rows: read(), release: resolve, fail: reject });
      called.splice(0).forEach((notify) => notify());
      if (!held || !file.endsWith('-wal')) resolve();
    });
  return {
    syncFile,
    calls,
    /** Only the log's flushes (the folder's entry is flushed once besides). */
    walCalls: () => calls.filter((c) => c.file === join(folder, 'db.sqlite-wal')),
    setReader(fn: () => string[]) {
      read = fn;
    },
    release() {
      held = false;
      calls.forEach((c) => c.release());
    },
    /** Resolves at the next call of the fsync. */
    nextCall: () => new Promise<void>((resolve) => called.push(resolve)),
  };
}

/** The keys committed, read straight from the file by a second connection. */
function committedKeys(folder: string): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Database = require('better-sqlite3') as new (
    file: string,
    o: { readonly: boolean },
  ) => { prepare(sql: string): { all(): Array<{ k: string }> }; close(): void };
  const reader = new Database(join(folder, 'db.sqlite'), { readonly: true });
  try {
    return reader
      .prepare('SELECT k FROM t ORDER BY k')
      .all()
      .map((r) => r.k);
  } finally {
    reader.close();
  }
}

describe('transactionWith on SQLite (WAL)', () => {
  let folder: string;
  let dataSource: DataSource;
  let sync: ReturnType<typeof controlledSync>;

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'durability-'));
    sync = controlledSync(folder);
    sync.setReader(() => committedKeys(folder));
    dataSource = await openSqlite(folder, sync.syncFile);
  });

  afterEach(async () => {
    sync.release();
    await dataSource.destroy();
    rmSync(folder, { recursive: true, force: true });
  });

  it('commits at NORMAL whatever the durability: no commit flushes on the event loop', async () => {
    sync.release();
    expect(await safetyLevel(dataSource)).toBe(1);
    for (const durability of ['durable', 'deferred', undefined] as const) {
      const level = await transactionWith(dataSource, durability, async (em) => {
        await em.query(`INSERT INTO t (k) VALUES ('${durability ?? 'default'}')`);
        return safetyLevel(em);
      });
      expect(level).toBe(1);
    }
    expect(await safetyLevel(dataSource)).toBe(1);
    // Only the durable one asked for a flush of the log.
    expect(sync.walCalls()).toHaveLength(1);
    expect(walFlushStats(dataSource)).toMatchObject({ flushes: 1, commits: 1 });
  });

  it('a durable transaction resolves only after a flush of the log that began after its commit', async () => {
    let resolved = false;
    const flushing = sync.nextCall();
    const durable = transactionWith(dataSource, 'durable', async (em) => {
      await em.query(`INSERT INTO t (k) VALUES ('a')`);
      return 'done';
    }).then((v) => {
      resolved = true;
      return v;
    });
    await flushing;
    const [first] = sync.walCalls();
    expect(first.file).toBe(join(folder, 'db.sqlite-wal'));
    // The commit was written when the flush began.
    expect(first.rows).toEqual(['a']);
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    expect(resolved).toBe(false);
    first.release();
    expect(await durable).toBe('done');
  });

  it('does not hold the connection while it flushes: other transactions commit meanwhile', async () => {
    const flushing = sync.nextCall();
    const durable = transactionWith(dataSource, 'durable', (em) =>
      em.query(`INSERT INTO t (k) VALUES ('a')`),
    );
    await flushing;
    await transactionWith(dataSource, 'deferred', (em) =>
      em.query(`INSERT INTO t (k) VALUES ('b')`),
    );
    await dataSource.query(`INSERT INTO t (k) VALUES ('c')`);
    expect(committedKeys(folder)).toEqual(['a', 'b', 'c']);
    sync.release();
    await durable;
  });

  it('groups durable commits: those made during a flush share the next one', async () => {
    const firstCall = sync.nextCall();
    const first = transactionWith(dataSource, 'durable', (em) =>
      em.query(`INSERT INTO t (k) VALUES ('a')`),
    );
    await firstCall;
    let done = 0;
    const others = ['b', 'c', 'd', 'e'].map((k) =>
      transactionWith(dataSource, 'durable', (em) =>
        em.query(`INSERT INTO t (k) VALUES ('${k}')`),
      ).then(() => done++),
    );
    // All four are committed before the first flush ends; none is durable yet.
    const committed = async () => {
      while (committedKeys(folder).length < 5) await new Promise<void>((r) => setImmediate(r));
    };
    await committed();
    expect(done).toBe(0);
    expect(sync.walCalls()).toHaveLength(1);
    const secondCall = sync.nextCall();
    sync.walCalls()[0].release();
    await first;
    await secondCall;
    // One more flush for the four, begun after all of them were written.
    expect(sync.walCalls()).toHaveLength(2);
    expect(sync.walCalls()[1].rows).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(done).toBe(0);
    sync.walCalls()[1].release();
    await Promise.all(others);
    expect(walFlushStats(dataSource)).toMatchObject({ flushes: 2, commits: 5 });
  });

  it('a failed flush fails the durable transaction (its data is not known to be on the disk)', async () => {
    const called = sync.nextCall();
    const durable = transactionWith(dataSource, 'durable', (em) =>
      em.query(`INSERT INTO t (k) VALUES ('a')`),
    );
    await called;
    sync.walCalls()[0].fail(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    await expect(durable).rejects.toThrow('EIO');
    // The next durable commit flushes again.
    sync.release();
    await transactionWith(dataSource, 'durable', (em) =>
      em.query(`INSERT INTO t (k) VALUES ('b')`),
    );
    expect(sync.walCalls()).toHaveLength(2);
  });

  it('holds the connection from BEGIN to COMMIT: a statement from outside waits its turn', async () => {
    sync.release();
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
    })();
    // Every queued turn runs before the gate opens: the outside statement must still wait.
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    expect(outsideRan).toBe(false);
    held.open();
    await durable;
    await outside;
    expect(await dataSource.query('SELECT k FROM t ORDER BY k')).toEqual([{ k: 'a' }, { k: 'b' }]);
  });

  it('rolls back a failed durable transaction, and flushes nothing for it', async () => {
    await expect(
      transactionWith(dataSource, 'durable', async (em) => {
        await em.query(`INSERT INTO t (k) VALUES ('a')`);
        throw new Error('fails');
      }),
    ).rejects.toThrow('fails');
    expect(sync.walCalls()).toHaveLength(0);
    expect(await dataSource.query('SELECT k FROM t')).toEqual([]);
  });

  it('joins a transaction already open instead of waiting for it (the outer commit decides)', async () => {
    await dataSource.transaction(async (outer: EntityManager) => {
      await outer.query(`INSERT INTO t (k) VALUES ('a')`);
      await transactionWith(dataSource, 'durable', (em) =>
        em.query(`INSERT INTO t (k) VALUES ('b')`),
      );
    });
    expect(sync.walCalls()).toHaveLength(0);
    expect(await dataSource.query('SELECT k FROM t ORDER BY k')).toEqual([{ k: 'a' }, { k: 'b' }]);
  });
});

/** This process's open descriptors on `file` (Linux). */
function openDescriptorsOf(file: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      // A deleted file's link reads "<path> (deleted)".
      return readlinkSync(`/proc/self/fd/${fd}`).replace(/ \(deleted\)$/, '') === file;
    } catch {
      return false;
    }
  }).length;
}

describe('WalFlusher with the real fsync', () => {
  it('flushes the log and, once, its folder; a missing log (all checkpointed) is no error', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'durability-'));
    const dataSource = await openSqlite(folder);
    try {
      await transactionWith(dataSource, 'durable', (em) =>
        em.query(`INSERT INTO t (k) VALUES ('a')`),
      );
      await transactionWith(dataSource, 'durable', (em) =>
        em.query(`INSERT INTO t (k) VALUES ('b')`),
      );
      expect(walFlushStats(dataSource)).toMatchObject({ flushes: 2, commits: 2 });
      expect(walFlushStats(dataSource)?.seconds).toBeGreaterThan(0);
      // SQLite's own descriptor on the log, and the flusher's, kept between flushes; both
      // closed with the connection (SQLite then deletes the log).
      const wal = join(folder, 'db.sqlite-wal');
      expect(openDescriptorsOf(wal)).toBe(2);
      const flusher = new WalFlusher(join(folder, 'absent.sqlite'));
      await expect(flusher.flush()).resolves.toBeUndefined();
      await dataSource.destroy();
      expect(openDescriptorsOf(wal)).toBe(0);
    } finally {
      if (dataSource.isInitialized) await dataSource.destroy();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('is not made for an in-memory database (nothing there survives a crash)', async () => {
    const dataSource = serialiseSqliteAccess(
      await new DataSource({ type: 'better-sqlite3', database: ':memory:' }).initialize(),
    );
    try {
      expect(walFlushStats(dataSource)).toBeUndefined();
      await transactionWith(dataSource, 'durable', (em) => em.query('SELECT 1'));
    } finally {
      await dataSource.destroy();
    }
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

  pg(
    'rolls back a failed transaction, runs nested ones as savepoints, and returns its connection clean',
    async () => {
      // One connection, so a transaction left open would be what the next caller gets.
      const db = new DataSource({
        type: 'postgres',
        url: process.env.TEST_DATABASE_URL,
        extra: { max: 1 },
      });
      await db.initialize();
      const table = `durability_${process.pid}`;
      try {
        await db.query(`CREATE TEMPORARY TABLE ${table} (k TEXT PRIMARY KEY)`);
        const insert = (em: EntityManager, k: string) =>
          em.query(`INSERT INTO ${table} (k) VALUES ($1)`, [k]);
        await expect(
          transactionWith(db, 'deferred', async (em) => {
            await insert(em, 'undone');
            throw new Error('work failed');
          }),
        ).rejects.toThrow('work failed');
        await transactionWith(db, 'durable', async (em) => {
          await insert(em, 'outer');
          await em
            .transaction(async (inner) => {
              await insert(inner, 'inner-undone');
              throw new Error('inner failed');
            })
            .catch(() => undefined);
          await em.transaction((inner) => insert(inner, 'inner'));
        });
        const keys = (await db.query(`SELECT k FROM ${table} ORDER BY k`)) as Array<{ k: string }>;
        expect(keys.map((r) => r.k)).toEqual(['inner', 'outer']);
        // Not inside a transaction any more: the session's own setting, and a new transaction id
        // for each statement.
        expect(
          ((await db.query('SHOW synchronous_commit')) as Array<{ synchronous_commit: string }>)[0]
            .synchronous_commit,
        ).toBe('on');
        const ids = async () =>
          ((await db.query('SELECT txid_current() AS id')) as Array<{ id: string }>)[0].id;
        expect(await ids()).not.toBe(await ids());
      } finally {
        await db.destroy();
      }
    },
  );
});
