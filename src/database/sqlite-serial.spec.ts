import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { groupCommitStats, MAX_GROUP, serialiseSqliteAccess } from './sqlite-serial';

interface Reader {
  prepare(sql: string): { all(): Array<{ k: string }> };
  close(): void;
}

/** A second, read-only connection to a SQLite file. */
function openReader(file: string): Reader {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Database = require('better-sqlite3') as new (f: string, o: { readonly: boolean }) => Reader;
  return new Database(file, { readonly: true });
}

/** A moment for other queued work to run, so interleavings actually happen. */
const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function openDatabase(serialised: boolean): Promise<DataSource> {
  const dataSource = await new DataSource({
    type: 'better-sqlite3',
    database: ':memory:',
  }).initialize();
  await dataSource.query('CREATE TABLE t (k TEXT PRIMARY KEY)');
  return serialised ? serialiseSqliteAccess(dataSource) : dataSource;
}

async function keys(dataSource: DataSource): Promise<string[]> {
  const rows: { k: string }[] = await dataSource.query('SELECT k FROM t ORDER BY k');
  return rows.map((r) => r.k);
}

/** Transaction A writes, waits a few turns, then fails; meanwhile B commits its own transaction and C writes alone. */
async function interleave(dataSource: DataSource): Promise<PromiseSettledResult<unknown>[]> {
  const a = dataSource.transaction(async (em) => {
    await em.query(`INSERT INTO t (k) VALUES ('a')`);
    for (let i = 0; i < 5; i++) await yieldTurn();
    throw new Error('a fails');
  });
  const b = (async () => {
    await yieldTurn();
    return dataSource.transaction(async (em) => {
      await em.query(`INSERT INTO t (k) VALUES ('b')`);
    });
  })();
  const c = (async () => {
    await yieldTurn();
    await dataSource.query(`INSERT INTO t (k) VALUES ('c')`);
  })();
  return Promise.allSettled([a, b, c]);
}

describe('SQLite access serialised per transaction', () => {
  it('keeps concurrent transactions and plain writes apart: only the failed one is undone', async () => {
    const dataSource = await openDatabase(true);
    try {
      const [a, b, c] = await interleave(dataSource);
      expect(a.status).toBe('rejected');
      expect(b.status).toBe('fulfilled');
      expect(c.status).toBe('fulfilled');
      expect(await keys(dataSource)).toEqual(['b', 'c']);
    } finally {
      await dataSource.destroy();
    }
  });

  it('shows the fault it guards against: unserialised, accepted writes vanish with A', async () => {
    const dataSource = await openDatabase(false);
    try {
      const [a, b, c] = await interleave(dataSource);
      expect([a.status, b.status, c.status]).toEqual(['rejected', 'fulfilled', 'fulfilled']);
      // B became a savepoint of A and C ran inside A: A's rollback took both.
      expect(await keys(dataSource)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('runs nested transactions and statements inside a transaction at once (no self-deadlock)', async () => {
    const dataSource = await openDatabase(true);
    try {
      await dataSource.transaction(async (em) => {
        await em.query(`INSERT INTO t (k) VALUES ('outer')`);
        await dataSource.query(`INSERT INTO t (k) VALUES ('same-scope')`);
        await em.transaction(async (inner) => {
          await inner.query(`INSERT INTO t (k) VALUES ('inner')`);
        });
      });
      expect(await keys(dataSource)).toEqual(['inner', 'outer', 'same-scope']);
    } finally {
      await dataSource.destroy();
    }
  });

  it('leaves other engines alone', () => {
    const fake = { options: { type: 'postgres' } } as unknown as DataSource;
    expect(serialiseSqliteAccess(fake)).toBe(fake);
  });

  describe('transactions that queue together share one commit', () => {
    let dir: string;
    let dataSource: DataSource;
    /** A second connection to the same file: it sees committed rows only. */
    let reader: Reader;

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'sqlite-group-'));
      const file = join(dir, 'db.sqlite');
      dataSource = serialiseSqliteAccess(
        await new DataSource({ type: 'better-sqlite3', database: file }).initialize(),
      );
      await dataSource.query('CREATE TABLE t (k TEXT PRIMARY KEY)');
      reader = openReader(file);
    });

    afterEach(async () => {
      reader.close();
      await dataSource.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    const committed = () =>
      reader
        .prepare('SELECT k FROM t ORDER BY k')
        .all()
        .map((r) => r.k);

    /**
     * A transaction that holds the connection until `release` is called; `holding` resolves
     * once it runs (its group has started, so transactions asking afterwards queue behind it).
     */
    function holder(): { holding: Promise<void>; done: Promise<unknown>; release: () => void } {
      let release!: () => void;
      let running!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const holding = new Promise<void>((resolve) => (running = resolve));
      const done = dataSource.transaction(async (em) => {
        await em.query(`INSERT INTO t (k) VALUES ('held')`);
        running();
        await gate;
      });
      return { holding, done, release };
    }

    const insert = (k: string) =>
      dataSource.transaction(async (em) => {
        await em.query('INSERT INTO t (k) VALUES (?)', [k]);
        return k;
      });

    it('runs them in one transaction and answers each only once the commit is visible', async () => {
      const held = holder();
      await held.holding;
      const before = { ...groupCommitStats(dataSource) };
      const seen: string[][] = [];
      const members = ['a', 'b', 'c', 'd'].map((k) =>
        insert(k).then((value) => {
          // Another connection already sees every row of the group when one is answered.
          seen.push(committed());
          return value;
        }),
      );
      held.release();
      await held.done;
      expect(await Promise.all(members)).toEqual(['a', 'b', 'c', 'd']);
      expect(seen).toEqual(Array(4).fill(['a', 'b', 'c', 'd', 'held']));
      const after = groupCommitStats(dataSource);
      expect(after).toEqual({
        commits: (before.commits ?? 0) + 1,
        transactions: (before.transactions ?? 0) + 4,
      });
    });

    it('undoes only a failed member: its own writes are rolled back, the others commit', async () => {
      const held = holder();
      await held.holding;
      const a = insert('a');
      const failed = dataSource.transaction(async (em) => {
        await em.query(`INSERT INTO t (k) VALUES ('x')`);
        await em.query(`INSERT INTO t (k) VALUES ('a')`); // unique violation
      });
      const c = insert('c');
      held.release();
      const results = await Promise.allSettled([held.done, a, failed, c]);
      expect(results.map((r) => r.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      expect(committed()).toEqual(['a', 'c', 'held']);
    });

    it('fails every member when SQLite ends the shared transaction itself', async () => {
      const held = holder();
      await held.holding;
      const a = insert('a');
      const ender = dataSource.transaction(async (em) => {
        await em.query(`INSERT INTO t (k) VALUES ('b')`);
        // As SQLite does on a full disk or an I/O error: the whole transaction is gone.
        await em.query('ROLLBACK');
      });
      const c = insert('c');
      held.release();
      const results = await Promise.allSettled([held.done, a, ender, c]);
      expect(results.map((r) => r.status)).toEqual([
        'fulfilled',
        'rejected',
        'rejected',
        'rejected',
      ]);
      expect(committed()).toEqual(['held']);
      // The connection is usable afterwards.
      await insert('after');
      expect(committed()).toEqual(['after', 'held']);
    });

    it('keeps a plain write between two transactions in its place', async () => {
      const held = holder();
      await held.holding;
      const order: string[] = [];
      const first = insert('a').then(() => order.push('first'));
      const plain = dataSource
        .query(`INSERT INTO t (k) VALUES ('p')`)
        .then(() => order.push('plain'));
      const second = insert('b').then(() => order.push('second'));
      held.release();
      await Promise.all([held.done, first, plain, second]);
      expect(order).toEqual(['first', 'plain', 'second']);
      expect(committed()).toEqual(['a', 'b', 'held', 'p']);
    });

    it(`puts at most ${MAX_GROUP} transactions in one commit`, async () => {
      const held = holder();
      await held.holding;
      const before = { ...groupCommitStats(dataSource) };
      const n = MAX_GROUP + 3;
      const members = Array.from({ length: n }, (_, i) => insert(`k${String(i).padStart(3, '0')}`));
      held.release();
      await Promise.all([held.done, ...members]);
      expect(committed()).toHaveLength(n + 1);
      const after = groupCommitStats(dataSource);
      // One full group, then the three left over in a second.
      expect((after?.commits ?? 0) - (before.commits ?? 0)).toBe(2);
      expect((after?.transactions ?? 0) - (before.transactions ?? 0)).toBe(n);
    });
  });
});
