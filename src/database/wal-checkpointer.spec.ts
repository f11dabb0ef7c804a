import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { prepareSqliteConnection } from './data-source-options';
import { serialiseSqliteAccess, walCheckpointer, walCheckpointStats } from './sqlite-serial';
import {
  DEFAULT_CHECKPOINT_POLICY,
  type CheckpointPolicy,
  type CheckpointResult,
} from './wal-checkpointer';

/** A policy whose checkpoints never come in a test's time: only the explicit ones run. */
const NEVER: CheckpointPolicy = { pollMs: 600_000, thresholdFrames: 1e9, idleMs: 1e9 };

/** A SQLite file as the app opens it, its checkpointer with `policy`. */
async function openSqlite(
  folder: string,
  policy: CheckpointPolicy,
  create = true,
): Promise<DataSource> {
  const dataSource = await new DataSource({
    type: 'better-sqlite3',
    database: join(folder, 'db.sqlite'),
    prepareDatabase: prepareSqliteConnection,
  }).initialize();
  if (create) await dataSource.query('CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)');
  return serialiseSqliteAccess(dataSource, { checkpoints: policy });
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
    dataSource = await openSqlite(folder, NEVER);
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

  it('copies the log once thresholdFrames wait to be copied, not before', async () => {
    dataSource = await openSqlite(folder, { pollMs: 5, thresholdFrames: 200, idleMs: 1e9 });
    const checkpointer = walCheckpointer(dataSource)!;
    const first = new Promise<CheckpointResult>((resolve) => {
      const off = checkpointer.onCheckpoint((r) => {
        off();
        resolve(r);
      });
    });
    // About three frames a commit: the threshold is passed after some 70 of them.
    await writeRows(dataSource, 150);
    const result = await first;
    // The first checkpoint came with the threshold reached: none copied a smaller log before.
    expect(result.log).toBeGreaterThanOrEqual(200);
    expect(result.checkpointed).toBe(result.log);
  });

  it('copies a smaller log once it stops moving for idleMs', async () => {
    dataSource = await openSqlite(folder, { pollMs: 5, thresholdFrames: 1e9, idleMs: 50 });
    const checkpointer = walCheckpointer(dataSource)!;
    const copied = new Promise<CheckpointResult>((resolve) => checkpointer.onCheckpoint(resolve));
    await writeRows(dataSource, 3);
    const result = await copied;
    expect(result.checkpointed).toBeGreaterThanOrEqual(3);
    expect(result.checkpointed).toBe(result.log);
    expect(await dataSource.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 3 }]);
  });

  it('stops with the connection: the worker exits and is asked nothing more', async () => {
    dataSource = await openSqlite(folder, DEFAULT_CHECKPOINT_POLICY);
    const checkpointer = walCheckpointer(dataSource)!;
    await writeRows(dataSource, 3);
    await dataSource.destroy();
    await expect(checkpointer.checkpointNow()).rejects.toThrow('stopped');
    // The last connection closed: SQLite copied the rest and removed the log.
    expect(() => statSync(join(folder, 'db.sqlite-wal'))).toThrow();
    const reopened = await openSqlite(folder, NEVER, false);
    dataSource = reopened;
    expect(await reopened.query('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 3 }]);
  });
});
