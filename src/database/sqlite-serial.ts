import { AsyncLocalStorage } from 'node:async_hooks';
import { EntityManager, type DataSource } from 'typeorm';
import {
  DEFAULT_CHECKPOINT_POLICY,
  WalCheckpointer,
  type CheckpointPolicy,
  type CheckpointStats,
} from './wal-checkpointer';
import { WalFlusher, type SyncFile, type WalFlushStats } from './wal-flush';

/**
 * SQLite through better-sqlite3 has one connection, so TypeORM hands every caller the same
 * query runner. Two transactions started at once then nest (the second becomes a SAVEPOINT of
 * the first, or fails with "cannot start a transaction within a transaction"), and a plain
 * write made by another module while a transaction is open commits or rolls back with it.
 *
 * `serialiseSqliteAccess` makes the one connection behave like a database with its own
 * transactions: a transaction holds the connection from BEGIN to COMMIT/ROLLBACK, other
 * transactions wait their turn, and a statement from outside any transaction waits until the
 * open one ends. Work inside a transaction (its own statements, nested transactions) is
 * recognised through AsyncLocalStorage and runs at once. PostgreSQL needs none of this (a pool
 * of connections, one per transaction) and is left untouched.
 */
interface TransactionScope {
  dataSource: DataSource;
  open: boolean;
}

const scope = new AsyncLocalStorage<TransactionScope>();
const queues = new WeakMap<DataSource, { tail: Promise<unknown> }>();
/** Per SQLite file in WAL mode: what makes its durable commits durable (see WalFlusher). */
const flushers = new WeakMap<DataSource, WalFlusher>();
/** Per SQLite file in WAL mode: the worker thread that checkpoints it (see WalCheckpointer). */
const checkpointers = new WeakMap<DataSource, WalCheckpointer>();

function insideTransactionOf(dataSource: DataSource): boolean {
  const current = scope.getStore();
  return current !== undefined && current.open && current.dataSource === dataSource;
}

/** Runs `work` when every earlier exclusive piece of work on `dataSource` has finished. */
function exclusive<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  const queue = queues.get(dataSource);
  if (queue === undefined || insideTransactionOf(dataSource)) return work();
  const run = queue.tail.then(work);
  queue.tail = run.catch(() => undefined);
  return run;
}

let patched = false;

/** Runs `call` (a transaction) as the one the connection is held for. */
async function heldFor<T>(dataSource: DataSource, call: () => Promise<T>): Promise<T> {
  const current: TransactionScope = { dataSource, open: true };
  try {
    return await scope.run(current, call);
  } finally {
    // Work the transaction started but did not await no longer counts as inside it.
    current.open = false;
  }
}

function patchEntityManagerOnce(): void {
  if (patched) return;
  patched = true;
  const original = EntityManager.prototype.transaction as (...a: unknown[]) => Promise<unknown>;
  EntityManager.prototype.transaction = function patchedTransaction(
    this: EntityManager,
    ...args: unknown[]
  ): Promise<unknown> {
    const dataSource = this.connection;
    const call = () => original.apply(this, args);
    if (!queues.has(dataSource) || insideTransactionOf(dataSource)) return call();
    return exclusive(dataSource, () => heldFor(dataSource, call));
  } as typeof EntityManager.prototype.transaction;
}

interface SqliteConnection {
  name: string;
  memory: boolean;
  pragma(sql: string, options?: { simple: boolean }): unknown;
}

/**
 * Serialises transactions and statements on a better-sqlite3 DataSource; for a file in WAL
 * mode, also flushes its durable commits and checkpoints its log off the event loop. A no-op
 * elsewhere. `syncFile` replaces the fsync and `checkpoints` the checkpointer's policy (tests).
 */
export function serialiseSqliteAccess(
  dataSource: DataSource,
  {
    syncFile,
    checkpoints = DEFAULT_CHECKPOINT_POLICY,
  }: { syncFile?: SyncFile; checkpoints?: CheckpointPolicy } = {},
): DataSource {
  if (dataSource.options.type !== 'better-sqlite3' || queues.has(dataSource)) return dataSource;
  patchEntityManagerOnce();
  queues.set(dataSource, { tail: Promise.resolve() });
  const db = (dataSource.driver as unknown as { databaseConnection: SqliteConnection })
    .databaseConnection;
  if (!db.memory && db.pragma('journal_mode', { simple: true }) === 'wal') {
    const flusher = new WalFlusher(db.name, syncFile);
    flushers.set(dataSource, flusher);
    // Checkpoints move to a worker thread: none on this connection, which commits.
    db.pragma('wal_autocheckpoint = 0');
    const checkpointer = new WalCheckpointer(db.name, checkpoints);
    checkpointers.set(dataSource, checkpointer);
    // The checkpointer's connection closes first, then this one (SQLite's last connection
    // copies what is left and removes the log); the flusher's handle on the log last.
    const destroy = dataSource.destroy.bind(dataSource);
    dataSource.destroy = async () => {
      await checkpointer.stop();
      await destroy();
      await flusher.close();
    };
  }
  const runner = dataSource.createQueryRunner();
  const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
  runner.query = ((...args: unknown[]) =>
    exclusive(dataSource, () => query(...args))) as typeof runner.query;
  return dataSource;
}

/** The checkpointer of a SQLite file in WAL mode; undefined for other engines. */
export function walCheckpointer(dataSource: DataSource): WalCheckpointer | undefined {
  return checkpointers.get(dataSource);
}

/** What the checkpointer did so far; undefined for other engines. */
export function walCheckpointStats(dataSource: DataSource): CheckpointStats | undefined {
  return checkpointers.get(dataSource)?.stats;
}

/** The WAL flushes of a SQLite DataSource so far; undefined for other engines. */
export function walFlushStats(dataSource: DataSource): WalFlushStats | undefined {
  return flushers.get(dataSource)?.stats;
}

/**
 * Resolves once every commit made so far on a SQLite file is on the disk (the WAL flush a
 * durable transaction waits for); at once elsewhere. For callers that queue their own
 * transactions and must not hold that queue during the flush (see OrderStore).
 */
export function flushCommits(dataSource: DataSource): Promise<void> {
  return flushers.get(dataSource)?.flush() ?? Promise.resolve();
}

/**
 * How a transaction's commit reaches the disk. `durable`: the transaction resolves once its
 * commit is on the disk (SQLite: an fsync of the write-ahead log, off the event loop and shared
 * by the commits that ask meanwhile, see WalFlusher; PostgreSQL: `synchronous_commit = on`).
 * `deferred`: the commit is handed to the operating system (or the PostgreSQL server) and
 * reaches the disk with the next durable commit (the log is one sequence: flushing it flushes
 * everything before) or the database's own checkpoint. Both survive a crash of the process; a
 * deferred commit can be lost by a crash of the machine (or of the PostgreSQL server) before
 * the next flush. Without either, a transaction commits as the engine is set: PostgreSQL
 * durable, SQLite deferred (`synchronous = NORMAL`, see prepareSqliteConnection).
 */
export type CommitDurability = 'durable' | 'deferred';

/**
 * `dataSource.transaction(work)` committed as `durability` says (undefined: the engine's
 * default). SQLite commits at NORMAL (no flush); a durable transaction then waits, after its commit
 * and outside the connection's turn (other transactions go on), for the WAL flush that covers
 * it. PostgreSQL sets `synchronous_commit` for the transaction alone. Inside a transaction
 * already open, `work` joins it as it is (its commit is the outer transaction's).
 */
export function transactionWith<T>(
  dataSource: DataSource,
  durability: CommitDurability | undefined,
  work: (em: EntityManager) => Promise<T>,
): Promise<T> {
  if (durability === undefined) return dataSource.transaction(work);
  if (dataSource.options.type === 'postgres') {
    return dataSource.transaction(async (em) => {
      await em.query(`SET LOCAL synchronous_commit = ${durability === 'durable' ? 'on' : 'off'}`);
      return work(em);
    });
  }
  const flusher = flushers.get(dataSource);
  if (durability === 'deferred' || flusher === undefined || insideTransactionOf(dataSource)) {
    return dataSource.transaction(work);
  }
  return dataSource.transaction(work).then(async (result) => {
    await flushCommits(dataSource);
    return result;
  });
}
