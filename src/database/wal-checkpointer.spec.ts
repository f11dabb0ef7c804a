import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { prepareSqliteConnection } from './data-source-options';
import { serialiseSqliteAccess, walCheckpointer, walCheckpointStats } from './sqlite-serial';
import type { CheckpointResult } from './wal-checkpointer';

/** A SQLite file as the app opens it, its checkpointer at `intervalMs`. */
async function openSqlite(folder: string, intervalMs: number, create = true): Promise<DataSource> {
  const dataSource = await new DataSource({
    type: 'better-sqlite3',
    database: join(folder, 'db.sqlite'),
    prepareDatabase: prepareSqliteConnection,
  }).initialize();
  if (create) await dataSource.query('CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)');
  return serialiseSqliteAccess(dataSource, { checkpointIntervalMs: intervalMs });
}

/** `n` commits of one 5,000-byte row each (two pages or more per commit). */
async function writeRows(dataSource: DataSource, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await dataSource.query('INSERT INTO t (v) VALUES (?)', [Buffer.alloc(5_000, i % 251)]);
  }
}

describe('WalCheckpointer: checkpoints in a worker thread, none on the connection that commits', () => {
  let folder: string;
  let dataSource: DataSource | undefined;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'checkpoint-'));
  });

  afterEach(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    rmSync(folder, { recursive: true, force: true });
  });

  it('the log grows past the automatic checkpoint size until the worker copies it; then it starts again', async () => {
    // A pace the test never reaches: only the explicit checkpoints below run.
    dataSource = await openSqlite(folder, 600_000);
    const rows = (await dataSource.query('PRAGMA wal_autocheckpoint')) as Array<{
      wal_autocheckpoint: number;
    }>;
    expect(rows[0].wal_autocheckpoint).toBe(0);
    await writeRows(dataSource, 700);
    const wal = join(folder, 'db.sqlite-wal');
    // SQLite's automatic checkpoint would have copied and restarted the log at 1,000 pages.
    const pageSize = 4096;
    expect(statSync(wal).size).toBeGreaterThan(1_100 * pageSize);
    const checkpointer = walCheckpointer(dataSource)!;
    const all = await checkpointer.checkpointNow();
    expect(all.busy).toBe(0);
    expect(all.log).toBeGreaterThan(1_100);
    expect(all.checkpointed).toBe(all.log);
    // The next commit writes from the log's beginning: a checkpoint finds a few frames only.
    await writeRows(dataSource, 1);
    const after = await checkpointer.checkpointNow();
    expect(after.log).toBeGreaterThan(0);
    expect(after.log).toBeLessThan(10);
    expect(walCheckpointStats(dataSource)).toMatchObject({ checkpoints: 2 });
    expect(walCheckpointStats(dataSource)!.frames).toBe(all.log + after.log);
    // Everything is there, read by the app's connection and by a new one.
    expect(await dataSource.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 701 }]);
  });

  it('checkpoints on its own at its pace, while the app keeps writing', async () => {
    dataSource = await openSqlite(folder, 20);
    const checkpointer = walCheckpointer(dataSource)!;
    const copied = new Promise<CheckpointResult>((resolve) => {
      const off = checkpointer.onCheckpoint((r) => {
        if (r.checkpointed >= 20) {
          off();
          resolve(r);
        }
      });
    });
    await writeRows(dataSource, 20);
    const result = await copied;
    expect(result.checkpointed).toBeGreaterThanOrEqual(20);
    expect(await dataSource.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 20 }]);
  });

  it('stops with the connection: the worker exits and is asked nothing more', async () => {
    dataSource = await openSqlite(folder, 20);
    const checkpointer = walCheckpointer(dataSource)!;
    await writeRows(dataSource, 3);
    await dataSource.destroy();
    await expect(checkpointer.checkpointNow()).rejects.toThrow('stopped');
    // The last connection closed: SQLite copied the rest and removed the log.
    expect(() => statSync(join(folder, 'db.sqlite-wal'))).toThrow();
    const reopened = await openSqlite(folder, 600_000, false);
    dataSource = reopened;
    expect(await reopened.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 3 }]);
  });
});
