import type {
  DataSource,
  EntityManager,
  EntityMetadata,
  EntityTarget,
  ObjectLiteral,
} from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';

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
 */
export class EntityRows<T extends ObjectLiteral> {
  private readonly columns: readonly ColumnMetadata[];
  private readonly byProperty = new Map<string, ColumnMetadata>();
  private readonly table: string;
  private readonly selectList: string;
  private readonly sql = new Map<string, string>();
  private readonly postgres: boolean;
  private readonly meta: EntityMetadata;

  private constructor(
    private readonly dataSource: DataSource,
    target: EntityTarget<T>,
  ) {
    const meta = dataSource.getMetadata(target);
    this.meta = meta;
    const driver = dataSource.driver;
    this.columns = meta.columns.filter((c) => !c.isVirtual && c.relationMetadata === undefined);
    for (const c of this.columns) this.byProperty.set(c.propertyName, c);
    this.table = meta.tablePath
      .split('.')
      .map((part) => driver.escape(part))
      .join('.');
    this.selectList = this.columns.map((c) => driver.escape(c.databaseName)).join(', ');
    this.postgres = dataSource.options.type === 'postgres';
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
    const sql = this.statement(`select:${keys.join(',')}`, () => {
      const conditions = keys.map((k, i) => `${this.name(k)} = ${this.param(i)}`).join(' AND ');
      return `SELECT ${this.selectList} FROM ${this.table} WHERE ${conditions} LIMIT 1`;
    });
    const raw = (await on.query(sql, this.values(keys, where))) as Array<Record<string, unknown>>;
    return raw.length === 0 ? null : this.hydrate(raw[0]);
  }

  /** Inserts whole rows (every column of the entity; absent properties are NULL). */
  async insert(em: EntityManager, rows: T | readonly T[]): Promise<void> {
    const list = (Array.isArray(rows) ? rows : [rows]) as readonly T[];
    if (list.length === 0) return;
    const n = this.columns.length;
    const sql = this.statement(`insert:${list.length}`, () => {
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
    await this.runner(em).query(sql, params);
  }

  /** Sets `set` on the rows whose columns equal `where`; returns how many rows changed. */
  async update(em: EntityManager, where: Partial<T>, set: Partial<T>): Promise<number> {
    const setKeys = Object.keys(set);
    const whereKeys = conditionKeys(where, 'update');
    if (setKeys.length === 0) throw new Error('EntityRows.update: nothing to set');
    const sql = this.statement(`update:${setKeys.join(',')}:${whereKeys.join(',')}`, () => {
      const assignments = setKeys.map((k, i) => `${this.name(k)} = ${this.param(i)}`).join(', ');
      const conditions = whereKeys
        .map((k, i) => `${this.name(k)} = ${this.param(setKeys.length + i)}`)
        .join(' AND ');
      return `UPDATE ${this.table} SET ${assignments} WHERE ${conditions}`;
    });
    const params = [...this.values(setKeys, set), ...this.values(whereKeys, where)];
    const result = (await this.runner(em).query(sql, params, true)) as { affected?: number };
    return result.affected ?? 0;
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

/** The properties of `where`; every condition needs a value (`= NULL` never matches). */
function conditionKeys(where: ObjectLiteral, call: string): string[] {
  const keys = Object.keys(where);
  if (keys.length === 0 || keys.some((k) => where[k] === null || where[k] === undefined)) {
    throw new Error(`EntityRows.${call}: every condition needs a value`);
  }
  return keys;
}
