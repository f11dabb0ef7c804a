import { AsyncLocalStorage } from 'node:async_hooks';
import { EntityManager, QueryFailedError, type DataSource } from 'typeorm';
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

/** A transaction waiting for its turn in a group (see runGroup). */
interface GroupedTransaction {
  work: (em: EntityManager) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

interface AccessQueue {
  tail: Promise<unknown>;
  /** The group queued last and not yet started: a transaction asking now joins it. */
  open: GroupedTransaction[] | undefined;
  stats: GroupCommitStats;
}

/** How many transactions shared their commits so far (see runGroup). */
export interface GroupCommitStats {
  /** Commits made for grouped transactions (one per group). */
  commits: number;
  /** Transactions that committed through those commits. */
  transactions: number;
}

/**
 * At most this many transactions share one commit: a group holds the connection from its first
 * transaction's start to its commit, so a long one would delay a plain statement queued
 * behind it.
 */
export const MAX_GROUP = 32;

const queues = new WeakMap<DataSource, AccessQueue>();
/** Per SQLite file in WAL mode: what makes its durable commits durable (see WalFlusher). */
const flushers = new WeakMap<DataSource, WalFlusher>();
/** Per SQLite file in WAL mode: the worker thread that checkpoints it (see WalCheckpointer). */
const checkpointers = new WeakMap<DataSource, WalCheckpointer>();

function insideTransactionOf(dataSource: DataSource): boolean {
  const current = scope.getStore();
  return current !== undefined && current.open && current.dataSource === dataSource;
}

/**
 * Runs `work` when every earlier exclusive piece of work on `dataSource` has finished. A write
 * closes the open group (a transaction asking later runs after it); a read (`keepsGroup`) does
 * not, so a transaction asking after a read may still join a group queued before it: the two
 * were asked concurrently, and the read sees the database as it was before or after it.
 */
function exclusive<T>(
  dataSource: DataSource,
  work: () => Promise<T>,
  keepsGroup = false,
): Promise<T> {
  const queue = queues.get(dataSource);
  if (queue === undefined || insideTransactionOf(dataSource)) return work();
  if (!keepsGroup) queue.open = undefined;
  const run = queue.tail.then(work);
  queue.tail = run.catch(() => undefined);
  return run;
}

/**
 * Queues a transaction in the open group, or opens one. Transactions that ask while earlier work
 * holds the connection would each have run alone, one after another; grouped, they run one
 * after another inside one transaction, each in a savepoint of its own, and share its commit.
 * SQLite writes every page a commit changed to the log (two writes per page), so transactions
 * that touch the same pages (an order's row, its table's and indexes' last pages) write them
 * once per group instead of once each: under load most of the order path's system calls.
 */
function grouped(
  dataSource: DataSource,
  queue: AccessQueue,
  work: (em: EntityManager) => Promise<unknown>,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const member: GroupedTransaction = { work, resolve, reject };
    if (queue.open !== undefined && queue.open.length < MAX_GROUP) {
      queue.open.push(member);
      return;
    }
    const group = [member];
    exclusive(dataSource, () => {
      if (queue.open === group) queue.open = undefined;
      return heldFor(dataSource, () => runGroup(dataSource, queue.stats, group));
    }).catch(() => undefined);
    queue.open = group;
  });
}

/**
 * Runs a group (on the connection itself, see ownTransaction): alone, a transaction runs as it
 * would have. Together, inside one transaction, each in a savepoint (a failure rolls back its
 * own writes and rejects it, the others go on),
 * and each is answered only after the shared commit, so nobody acts on a write that is not yet
 * committed. If the commit fails (or SQLite ended the transaction itself, as it may on a full
 * disk or an I/O error), every transaction of the group fails with it.
 */
async function runGroup(
  dataSource: DataSource,
  stats: GroupCommitStats,
  group: readonly GroupedTransaction[],
): Promise<void> {
  if (group.length === 1) {
    const [only] = group;
    await ownTransaction(dataSource, only.work).then(only.resolve, only.reject);
    return;
  }
  const db = connectionOf(dataSource);
  const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
  try {
    await ownTransaction(dataSource, async (em) => {
      for (const member of group) {
        try {
          outcomes.push({ ok: true, value: await inSavepoint(dataSource, em, member.work) });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
        if (!db.inTransaction) throw new Error('SQLite ended the transaction of a group');
      }
    });
  } catch (error) {
    for (const member of group) member.reject(error);
    return;
  }
  stats.commits += 1;
  stats.transactions += outcomes.filter((o) => o.ok).length;
  group.forEach((member, i) => {
    const outcome = outcomes[i];
    if (outcome.ok) member.resolve(outcome.value);
    else member.reject(outcome.error);
  });
}

/** TypeORM's transaction bookkeeping on a query runner, set where a transaction begins here. */
interface RunnerTransactionState {
  isTransactionActive: boolean;
  /** TypeORM's nesting count: a transaction begun at depth > 0 is a SAVEPOINT. */
  transactionDepth: number;
  manager: EntityManager;
}

/** The statements that begin and end transactions, prepared once per connection. */
interface TransactionStatements {
  begin: SqliteStatement;
  commit: SqliteStatement;
  rollback: SqliteStatement;
  savepoint: SqliteStatement;
  release: SqliteStatement;
  rollbackToSavepoint: SqliteStatement;
}

const transactionStatements = new WeakMap<SqliteConnection, TransactionStatements>();

function connectionOf(dataSource: DataSource): SqliteConnection {
  return (dataSource.driver as unknown as { databaseConnection: SqliteConnection })
    .databaseConnection;
}

function statementsOf(db: SqliteConnection): TransactionStatements {
  let statements = transactionStatements.get(db);
  if (statements === undefined) {
    statements = {
      begin: db.prepare('BEGIN'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT grouped_member'),
      release: db.prepare('RELEASE SAVEPOINT grouped_member'),
      rollbackToSavepoint: db.prepare('ROLLBACK TO SAVEPOINT grouped_member'),
    };
    transactionStatements.set(db, statements);
  }
  return statements;
}

/** Runs a transaction-control statement, logged and failing as TypeORM's query runner does. */
function control(dataSource: DataSource, statement: SqliteStatement, sql: string): void {
  dataSource.logger.logQuery(sql);
  try {
    statement.run();
  } catch (e) {
    dataSource.logger.logQueryError(e as Error, sql);
    throw new QueryFailedError(sql, [], e as Error);
  }
}

/** Rolls the open transaction back; a failure is not raised (the work's error is). */
function rollBackQuietly(dataSource: DataSource, statements: TransactionStatements): void {
  try {
    control(dataSource, statements.rollback, 'ROLLBACK');
  } catch {
    // the connection ends the transaction itself on the errors that make ROLLBACK fail
  }
}

/**
 * A transaction on SQLite's one connection, for a caller that holds it (see heldFor), begun and
 * ended on the connection itself: TypeORM's `transaction` runs BEGIN and COMMIT each through its
 * query path, with events broadcast to entity subscribers the app has none of, and that was a
 * tenth of an order's CPU time. The query runner is marked as TypeORM marks it, so `work`'s
 * statements and nested transactions (SAVEPOINTs) through the manager it gets run as before.
 */
async function ownTransaction<T>(
  dataSource: DataSource,
  work: (em: EntityManager) => Promise<T>,
): Promise<T> {
  const runner = dataSource.createQueryRunner() as unknown as RunnerTransactionState;
  const db = connectionOf(dataSource);
  if (runner.isTransactionActive || db.inTransaction) {
    throw new Error('SQLite: a transaction is already open on the connection');
  }
  const statements = statementsOf(db);
  control(dataSource, statements.begin, 'BEGIN');
  runner.isTransactionActive = true;
  runner.transactionDepth = 1;
  try {
    const result = await work(runner.manager);
    control(dataSource, statements.commit, 'COMMIT');
    return result;
  } catch (error) {
    // As TypeORM does: the work's (or the commit's) error is raised, a failed rollback is not.
    if (db.inTransaction) rollBackQuietly(dataSource, statements);
    throw error;
  } finally {
    runner.isTransactionActive = false;
    runner.transactionDepth = 0;
  }
}

/** One member of a group in a savepoint of its own: a failure undoes its writes alone. */
async function inSavepoint<T>(
  dataSource: DataSource,
  em: EntityManager,
  work: (em: EntityManager) => Promise<T>,
): Promise<T> {
  const db = connectionOf(dataSource);
  const statements = statementsOf(db);
  const runner = dataSource.createQueryRunner() as unknown as RunnerTransactionState;
  control(dataSource, statements.savepoint, 'SAVEPOINT grouped_member');
  runner.transactionDepth += 1;
  try {
    const result = await work(em);
    control(dataSource, statements.release, 'RELEASE SAVEPOINT grouped_member');
    return result;
  } catch (error) {
    if (db.inTransaction) {
      try {
        control(dataSource, statements.rollbackToSavepoint, 'ROLLBACK TO SAVEPOINT grouped_member');
        control(dataSource, statements.release, 'RELEASE SAVEPOINT grouped_member');
      } catch {
        // Its writes could not be undone alone: the whole transaction is, and the group fails
        // (runGroup sees the transaction ended).
        rollBackQuietly(dataSource, statements);
      }
    }
    throw error;
  } finally {
    runner.transactionDepth -= 1;
  }
}

/** A statement that only reads (SELECT, or a WITH ... SELECT): it never closes a group. */
const READ = /^\s*(SELECT|WITH\b(?![\s\S]*\b(INSERT|UPDATE|DELETE|REPLACE)\b))/i;

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
    const queue = queues.get(dataSource);
    if (queue === undefined || insideTransactionOf(dataSource)) return call();
    // A plain transaction of the data source's own manager may share a commit; one with an
    // isolation level, or on a manager of its own query runner, runs alone.
    // (DataSource.transaction passes its second argument on, undefined.)
    if (typeof args[0] === 'function' && args[1] === undefined && this.queryRunner === undefined) {
      return grouped(dataSource, queue, args[0] as (em: EntityManager) => Promise<unknown>);
    }
    return exclusive(dataSource, () => heldFor(dataSource, call));
  } as typeof EntityManager.prototype.transaction;
}

interface SqliteConnection {
  name: string;
  memory: boolean;
  inTransaction: boolean;
  pragma(sql: string, options?: { simple: boolean }): unknown;
  prepare(sql: string): SqliteStatement;
}

interface SqliteStatement {
  run(): unknown;
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
  queues.set(dataSource, {
    tail: Promise.resolve(),
    open: undefined,
    stats: { commits: 0, transactions: 0 },
  });
  const db = connectionOf(dataSource);
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
    exclusive(
      dataSource,
      () => query(...args),
      typeof args[0] === 'string' && READ.test(args[0]),
    )) as typeof runner.query;
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

/** Transactions that shared a commit on a SQLite DataSource so far; undefined elsewhere. */
export function groupCommitStats(dataSource: DataSource): GroupCommitStats | undefined {
  return queues.get(dataSource)?.stats;
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
