import { AsyncLocalStorage } from 'node:async_hooks';
import { EntityManager, type DataSource } from 'typeorm';

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

/** The transaction of an entity manager as TypeORM has it (before the patch below). */
let originalTransaction: ((...args: unknown[]) => Promise<unknown>) | undefined;

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
  if (originalTransaction !== undefined) return;
  const original = EntityManager.prototype.transaction as (...a: unknown[]) => Promise<unknown>;
  originalTransaction = original;
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

/** Serialises transactions and statements on a better-sqlite3 DataSource; a no-op elsewhere. */
export function serialiseSqliteAccess(dataSource: DataSource): DataSource {
  if (dataSource.options.type !== 'better-sqlite3' || queues.has(dataSource)) return dataSource;
  patchEntityManagerOnce();
  queues.set(dataSource, { tail: Promise.resolve() });
  const runner = dataSource.createQueryRunner();
  const query = runner.query.bind(runner) as (...args: unknown[]) => Promise<unknown>;
  runner.query = ((...args: unknown[]) =>
    exclusive(dataSource, () => query(...args))) as typeof runner.query;
  return dataSource;
}

/**
 * How a transaction's commit reaches the disk. `durable`: the commit returns once the
 * write-ahead log is flushed to the disk (SQLite `synchronous = FULL`, PostgreSQL
 * `synchronous_commit = on`). `deferred`: the commit returns once the log is handed to the
 * operating system, and is flushed with the next durable commit (the log is one sequence:
 * flushing it flushes everything before) or the database's own checkpoint. Both survive a crash
 * of the process; a deferred commit can be lost by a crash of the machine (or of the PostgreSQL
 * server) before the next flush. Without either, a transaction commits as the engine is set:
 * PostgreSQL durable, SQLite deferred (see prepareSqliteConnection).
 */
export type CommitDurability = 'durable' | 'deferred';

interface SqliteConnection {
  pragma(sql: string, options?: { simple: boolean }): unknown;
}

/** SQLite's safety levels for the two durabilities (WAL mode). */
const SQLITE_LEVEL: Record<CommitDurability, number> = { durable: 2, deferred: 1 };

/**
 * `dataSource.transaction(work)` committed as `durability` says (undefined: the engine's
 * default). SQLite cannot change its safety level inside a transaction, so the level is set
 * around BEGIN ... COMMIT while the transaction holds the connection (see
 * serialiseSqliteAccess) and restored after; PostgreSQL sets `synchronous_commit` for the
 * transaction alone. Inside a transaction already open, `work` joins it as it is.
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
  const original = originalTransaction;
  if (
    dataSource.options.type !== 'better-sqlite3' ||
    !queues.has(dataSource) ||
    insideTransactionOf(dataSource) ||
    original === undefined
  ) {
    return dataSource.transaction(work);
  }
  return exclusive(dataSource, async () => {
    const db = (dataSource.driver as unknown as { databaseConnection: SqliteConnection })
      .databaseConnection;
    const call = () => original.apply(dataSource.manager, [work]) as Promise<T>;
    const level = Number(db.pragma('synchronous', { simple: true }));
    const wanted = SQLITE_LEVEL[durability];
    if (level === wanted) return heldFor(dataSource, call);
    db.pragma(`synchronous = ${wanted}`);
    try {
      return await heldFor(dataSource, call);
    } finally {
      db.pragma(`synchronous = ${level}`);
    }
  });
}
