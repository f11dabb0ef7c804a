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
let managerPatched = false;

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

function patchEntityManagerOnce(): void {
  if (managerPatched) return;
  managerPatched = true;
  const original = EntityManager.prototype.transaction;
  EntityManager.prototype.transaction = function patchedTransaction(
    this: EntityManager,
    ...args: unknown[]
  ): Promise<unknown> {
    const dataSource = this.connection;
    const call = () => (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    if (!queues.has(dataSource) || insideTransactionOf(dataSource)) return call();
    return exclusive(dataSource, async () => {
      const current: TransactionScope = { dataSource, open: true };
      try {
        return await scope.run(current, call);
      } finally {
        // Work the transaction started but did not await no longer counts as inside it.
        current.open = false;
      }
    });
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
