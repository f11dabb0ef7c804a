import { DataSource } from 'typeorm';
import { serialiseSqliteAccess } from './sqlite-serial';

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
});
