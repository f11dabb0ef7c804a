import {
  QueryFailedError,
  type DataSource,
  type EntityManager,
  type EntityMetadata,
  type EntityTarget,
  type ObjectLiteral,
  type QueryRunner,
} from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { transactionWith, type CommitDurability } from './sqlite-serial';

/**
 * Plain statements for an entity's hot rows: read by equality, insert, update by equality.
 *
 * TypeORM's query builder spends most of a small statement's time building it (aliases,
 * property-name replacement, parameter escaping) and hydrating the result; on the order path
 * that was the largest share of the process's CPU per order. These statements are written once
 * per shape (cached), take their column list, names and value conversions from the entity's
 * metadata (`driver.preparePersistentValue` / `prepareHydratedValue`, transformers included),
 * and run through the query runner as any other statement (logged, serialised on SQLite), so
 * what they store and read is exactly what the repository would.
 *
 * Writes run inside a transaction (the entity manager `transaction` hands out); reads run on
 * that manager or on the data source.
 *
 * On SQLite a statement inside a transaction runs on the connection itself, prepared once per
 * shape: the transaction holds the one connection (see sqlite-serial), and TypeORM's query
 * path (its event broadcasts, four awaited promises and a statement lookup keyed by the SQL
 * text) cost more than the statement. It is logged through TypeORM's logger and fails with
 * its `QueryFailedError`, as the query runner's statements are and do. On PostgreSQL `write`'s
 * statement is a named prepared statement on the pool's connection (see runNamed).
 */
export class EntityRows<T extends ObjectLiteral> {
  private readonly columns: readonly ColumnMetadata[];
  private readonly byProperty = new Map<string, ColumnMetadata>();
  /** The columns' property names, in the order of `columns`. */
  private readonly propertyNames: readonly string[];
  private readonly table: string;
  private readonly selectList: string;
  private readonly sql = new Map<string, string>();
  private readonly postgres: boolean;
  private readonly meta: EntityMetadata;
  /** SQLite's connection (better-sqlite3), for statements inside a transaction; else undefined. */
  private readonly sqlite: SqliteConnection | undefined;
  private readonly prepared = new Map<string, SqliteStatement>();

  private constructor(
    private readonly dataSource: DataSource,
    target: EntityTarget<T>,
  ) {
    const meta = dataSource.getMetadata(target);
    this.meta = meta;
    const driver = dataSource.driver;
    this.columns = meta.columns.filter((c) => !c.isVirtual && c.relationMetadata === undefined);
    for (const c of this.columns) this.byProperty.set(c.propertyName, c);
    this.propertyNames = this.columns.map((c) => c.propertyName);
    this.table = meta.tablePath
      .split('.')
      .map((part) => driver.escape(part))
      .join('.');
    this.selectList = this.columns.map((c) => driver.escape(c.databaseName)).join(', ');
    this.postgres = dataSource.options.type === 'postgres';
    this.sqlite =
      dataSource.options.type === 'better-sqlite3'
        ? (driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection
        : undefined;
  }

  private static readonly made = new WeakMap<DataSource, Map<unknown, EntityRows<ObjectLiteral>>>();

  /** One per data source and entity. */
  static of<T extends ObjectLiteral>(
    dataSource: DataSource,
    target: EntityTarget<T>,
  ): EntityRows<T> {
    let forSource = EntityRows.made.get(dataSource);
    if (forSource === undefined) {
      forSource = new Map();
      EntityRows.made.set(dataSource, forSource);
    }
    let rows = forSource.get(target);
    if (rows === undefined) {
      rows = new EntityRows<T>(dataSource, target) as unknown as EntityRows<ObjectLiteral>;
      forSource.set(target, rows);
    }
    return rows as unknown as EntityRows<T>;
  }

  /** The first row whose columns equal `where` (every property given), or null. */
  async findOne(
    where: Partial<T>,
    on: EntityManager | DataSource = this.dataSource,
  ): Promise<T | null> {
    const keys = conditionKeys(where, 'findOne');
    const key = `select:${keys.join(',')}`;
    const sql = this.statement(key, () => {
      const conditions = keys.map((k, i) => `${this.name(k)} = ${this.param(i)}`).join(' AND ');
      return `SELECT ${this.selectList} FROM ${this.table} WHERE ${conditions} LIMIT 1`;
    });
    const params = this.values(keys, where);
    const direct = this.direct((on as Partial<EntityManager>).queryRunner, key, sql);
    if (direct !== undefined) {
      const row = this.run(sql, params, () => direct.get(...params)) as
        Record<string, unknown> | undefined;
      return row === undefined ? null : this.hydrate(row);
    }
    const raw = (await on.query(sql, params)) as Array<Record<string, unknown>>;
    return raw.length === 0 ? null : this.hydrate(raw[0]);
  }

  /** Inserts whole rows (every column of the entity; absent properties are NULL). */
  async insert(em: EntityManager, rows: T | readonly T[]): Promise<void> {
    const list = (Array.isArray(rows) ? rows : [rows]) as readonly T[];
    if (list.length === 0) return;
    const n = this.columns.length;
    const key = `insert:${list.length}`;
    const sql = this.statement(key, () => {
      const tuples = list.map(
        (_, r) => `(${this.columns.map((_c, i) => this.param(r * n + i)).join(', ')})`,
      );
      return `INSERT INTO ${this.table} (${this.selectList}) VALUES ${tuples.join(', ')}`;
    });
    const params: unknown[] = [];
    for (const row of list) {
      for (const c of this.columns) {
        params.push(this.dataSource.driver.preparePersistentValue(row[c.propertyName], c));
      }
    }
    const direct = this.direct(em.queryRunner, key, sql);
    if (direct !== undefined) {
      this.run(sql, params, () => direct.run(...params));
      return;
    }
    await this.runner(em).query(sql, params);
  }

  /** Sets `set` on the rows whose columns equal `where`; returns how many rows changed. */
  async update(em: EntityManager, where: Partial<T>, set: Partial<T>): Promise<number> {
    const setKeys = Object.keys(set);
    const whereKeys = conditionKeys(where, 'update');
    if (setKeys.length === 0) throw new Error('EntityRows.update: nothing to set');
    const key = `update:${setKeys.join(',')}:${whereKeys.join(',')}`;
    const sql = this.statement(key, () => {
      const assignments = setKeys.map((k, i) => `${this.name(k)} = ${this.param(i)}`).join(', ');
      const conditions = whereKeys
        .map((k, i) => `${this.name(k)} = ${this.param(setKeys.length + i)}`)
        .join(' AND ');
      return `UPDATE ${this.table} SET ${assignments} WHERE ${conditions}`;
    });
    const params = [...this.values(setKeys, set), ...this.values(whereKeys, where)];
    const direct = this.direct(em.queryRunner, key, sql);
    if (direct !== undefined) {
      return this.run(sql, params, () => direct.run(...params)).changes;
    }
    const result = (await this.runner(em).query(sql, params, true)) as { affected?: number };
    return result.affected ?? 0;
  }

  /**
   * One write of this entity (insert a row, or update by equality) and, with `then`, rows
   * inserted into another entity's table only when that write wrote a row; atomically,
   * committed as `durability` says (see transactionWith; undefined: the engine's default).
   * Resolves whether the write wrote a row (an update whose condition matched; an insert does,
   * or fails).
   *
   * On PostgreSQL this is ONE statement (the writes as data-modifying WITH queries, the
   * durability a `set_config` local to it), its own transaction: one round trip where a
   * transaction of its statements took one each, plus one to begin it (with its setting) and one
   * to commit. Elsewhere it is that transaction.
   */
  async write<E extends ObjectLiteral>(
    first: { insert: T } | { update: Partial<T>; where: Partial<T> },
    {
      durability,
      then,
    }: {
      durability?: CommitDurability;
      then?: { into: EntityRows<E>; rows: readonly E[] };
    } = {},
  ): Promise<boolean> {
    if (then !== undefined && then.rows.length === 0) {
      throw new Error('EntityRows.write: no rows to insert');
    }
    if (!this.postgres) {
      return transactionWith(this.dataSource, durability, async (em) => {
        if ('insert' in first) await this.insert(em, first.insert);
        else if ((await this.update(em, first.where, first.update)) === 0) return false;
        if (then !== undefined) await then.into.insert(em, then.rows);
        return true;
      });
    }
    // The values in the statement's order: the first write's, then each row's.
    const params: unknown[] = [];
    const driver = this.dataSource.driver;
    const bind = (
      values: ObjectLiteral,
      keys: readonly string[],
      rows: EntityRows<ObjectLiteral>,
    ) => {
      for (const k of keys) params.push(driver.preparePersistentValue(values[k], rows.column(k)));
    };
    const self = this as unknown as EntityRows<ObjectLiteral>;
    const into = then?.into as EntityRows<ObjectLiteral> | undefined;
    let shape: string;
    let firstKeys: { set: string[]; where: string[] } | undefined;
    if ('insert' in first) {
      bind(first.insert, this.propertyNames, self);
      shape = 'insert';
    } else {
      const set = Object.keys(first.update);
      const where = conditionKeys(first.where, 'write');
      if (set.length === 0) throw new Error('EntityRows.write: nothing to set');
      bind(first.update, set, self);
      bind(first.where, where, self);
      firstKeys = { set, where };
      shape = `update:${set.join(',')}:${where.join(',')}`;
    }
    const rowCount = then?.rows.length ?? 0;
    if (into !== undefined) for (const row of then?.rows ?? []) bind(row, into.propertyNames, into);
    const key = `write:${shape}:${into?.table ?? ''}:${rowCount}:${durability ?? ''}`;
    const sql = this.statement(key, () => {
      let n = 0;
      const next = () => `$${++n}`;
      // Typed where a VALUES list holds it: its parameters have no target column's type.
      const typed = (c: ColumnMetadata) => `${next()}::${driver.normalizeType(c)}`;
      let firstSql: string;
      if (firstKeys === undefined) {
        const values = this.columns.map(() => next()).join(', ');
        firstSql = `INSERT INTO ${this.table} (${this.selectList}) VALUES (${values}) RETURNING 1`;
      } else {
        const assignments = firstKeys.set.map((k) => `${this.name(k)} = ${next()}`).join(', ');
        const conditions = firstKeys.where.map((k) => `${this.name(k)} = ${next()}`).join(' AND ');
        firstSql = `UPDATE ${this.table} SET ${assignments} WHERE ${conditions} RETURNING 1`;
      }
      const level = durability === 'durable' ? 'on' : 'off';
      const setting =
        durability === undefined
          ? ''
          : `setting AS (SELECT set_config('synchronous_commit', '${level}', true)), `;
      // The setting's query runs only where it is read; the writes run in any case.
      const gate = setting === '' ? '' : ' AND EXISTS (SELECT 1 FROM setting)';
      const head = `WITH ${setting}first AS (${firstSql}) `;
      if (into === undefined)
        return `${head}SELECT count(*)::int AS written FROM first WHERE true${gate}`;
      const tuples = Array.from(
        { length: rowCount },
        () => `(${into.columns.map((c) => typed(c)).join(', ')})`,
      ).join(', ');
      return (
        `${head}INSERT INTO ${into.table} (${into.selectList}) ` +
        `SELECT * FROM (VALUES ${tuples}) AS v (${into.selectList}) ` +
        `WHERE EXISTS (SELECT 1 FROM first)${gate} RETURNING 1 AS written`
      );
    });
    const rows = await this.runNamed(sql, params);
    if (then !== undefined) return rows.length > 0;
    return (rows[0] as { written: number }).written > 0;
  }

  /**
   * Runs a PostgreSQL statement of `write` on a pooled connection as a named prepared statement:
   * the server parses and analyses it once per connection and keeps its plan, where an unnamed
   * statement is parsed, analysed and planned on every call (most of the server's work for a
   * one-row write). Logged and failing as the query runner logs and fails.
   */
  private async runNamed(sql: string, params: unknown[]): Promise<unknown[]> {
    this.dataSource.logger.logQuery(sql, params);
    let name = statementNames.get(sql);
    if (name === undefined) {
      name = `entity_rows_${statementNames.size + 1}`;
      statementNames.set(sql, name);
    }
    const pool = (this.dataSource.driver as unknown as { master: PostgresPool }).master;
    try {
      return (await pool.query({ name, text: sql, values: params })).rows;
    } catch (e) {
      throw this.failed(e, sql, params);
    }
  }

  /**
   * The statement `key` prepared on SQLite's connection when `runner` is a transaction's (the
   * transaction holds the connection); undefined otherwise (the query runner's path).
   */
  private direct(
    runner: QueryRunner | undefined,
    key: string,
    sql: string,
  ): SqliteStatement | undefined {
    if (this.sqlite === undefined || runner?.isTransactionActive !== true) return undefined;
    if (!this.sqlite.inTransaction) throw new Error('EntityRows: the transaction has ended');
    let statement = this.prepared.get(key);
    if (statement === undefined) {
      statement = this.sqlite.prepare(sql);
      this.prepared.set(key, statement);
    }
    return statement;
  }

  /**
   * Runs a statement of the direct path, logged and failing as the query runner logs and fails.
   */
  private run<R>(sql: string, params: unknown[], statement: () => R): R {
    this.dataSource.logger.logQuery(sql, params);
    try {
      return statement();
    } catch (e) {
      throw this.failed(e, sql, params);
    }
  }

  /** A statement's error as the query runner reports it: logged, as its `QueryFailedError`. */
  private failed(error: unknown, sql: string, params: unknown[]): QueryFailedError {
    this.dataSource.logger.logQueryError(error as Error, sql, params);
    return new QueryFailedError(sql, params, error as Error);
  }

  private runner(em: EntityManager) {
    if (em.queryRunner === undefined) {
      throw new Error('EntityRows: writes run inside a transaction');
    }
    return em.queryRunner;
  }

  private hydrate(raw: Record<string, unknown>): T {
    const entity = this.meta.create() as Record<string, unknown>;
    for (const c of this.columns) {
      entity[c.propertyName] = this.dataSource.driver.prepareHydratedValue(raw[c.databaseName], c);
    }
    return entity as T;
  }

  private values(keys: readonly string[], from: Partial<T>): unknown[] {
    return keys.map((k) =>
      this.dataSource.driver.preparePersistentValue(from[k as keyof T], this.column(k)),
    );
  }

  private column(property: string): ColumnMetadata {
    const c = this.byProperty.get(property);
    if (c === undefined) throw new Error(`EntityRows: no column for ${property}`);
    return c;
  }

  private name(property: string): string {
    return this.dataSource.driver.escape(this.column(property).databaseName);
  }

  private param(index: number): string {
    return this.postgres ? `$${index + 1}` : '?';
  }

  private statement(key: string, build: () => string): string {
    let sql = this.sql.get(key);
    if (sql === undefined) {
      sql = build();
      this.sql.set(key, sql);
    }
    return sql;
  }
}

/**
 * The name of each PostgreSQL statement `write` prepares, one per text for the whole process:
 * a name is prepared once on each pooled connection, and a connection must never see one name
 * with two texts (the node-postgres client refuses it).
 */
const statementNames = new Map<string, string>();

/** What `write` uses of node-postgres's pool (TypeORM's driver holds it as `master`). */
interface PostgresPool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** What the direct path uses of better-sqlite3's connection and statements. */
interface SqliteConnection {
  inTransaction: boolean;
  prepare(sql: string): SqliteStatement;
}

interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
}

/** The properties of `where`; every condition needs a value (`= NULL` never matches). */
function conditionKeys(where: ObjectLiteral, call: string): string[] {
  const keys = Object.keys(where);
  if (keys.length === 0 || keys.some((k) => where[k] === null || where[k] === undefined)) {
    throw new Error(`EntityRows.${call}: every condition needs a value`);
  }
  return keys;
}
