import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../database/data-source-options';
import { EntityRows } from '../database/entity-rows';
import { isUniqueViolation } from '../database/unique-violation';
import { OrderEventEntity } from './entities/order-event.entity';
import { OrderEntity } from './entities/order.entity';
import { postgresScratchSchema } from './__tests__/harness';

/** The order path's statements (OrderStore) against TypeORM's repository, on the real tables. */
const ENTITIES = [OrderEntity, OrderEventEntity];

function anOrder(overrides: Partial<OrderEntity> = {}): OrderEntity {
  const at = new Date('2026-12-04T04:05:06.789Z');
  return {
    id: randomUUID(),
    userId: randomUUID(),
    clientOrderId: `c-${randomBytes(4).toString('hex')}`,
    segment: 'NSE_EQ',
    securityId: '2885',
    side: 'BUY',
    quantity: 7,
    orderType: 'LIMIT',
    productType: 'INTRADAY',
    validity: 'DAY',
    price: '1234.55',
    triggerPrice: null,
    status: 'NEW',
    filledQuantity: 0,
    averagePrice: null,
    brokerOrderId: null,
    rejectionReason: null,
    tag: 'a tag',
    deskNote: null,
    protectedPrice: null,
    protectionPercent: null,
    parentId: null,
    sliceCount: 0,
    modificationCount: 0,
    sendAttempts: 0,
    reservedPaise: 864_185,
    reservation: '{"units":7}',
    pendingTerms: null,
    state: '{"status":"NEW"}',
    createdAt: at,
    updatedAt: at,
    version: 1,
    ...overrides,
  };
}

/** The event row of an order's creation. */
function aCreatedEvent(order: OrderEntity): OrderEventEntity {
  return {
    id: randomUUID(),
    orderId: order.id,
    seq: 1,
    type: 'CREATED',
    fromStatus: null,
    toStatus: 'NEW',
    cause: 'user',
    payload: '{}',
    at: order.createdAt,
  };
}

/** The engines: SQLite always; PostgreSQL in a scratch schema when TEST_DATABASE_URL is set. */
const engines: Array<[string, () => Promise<{ ds: DataSource; drop(): Promise<void> }>]> = [
  [
    'SQLite',
    async () => {
      const ds = await new DataSource(
        buildDataSourceOptions(
          { engine: 'sqlite', url: 'sqlite::memory:', sqlitePath: ':memory:' },
          ENTITIES,
        ),
      ).initialize();
      return { ds, drop: () => ds.destroy() };
    },
  ],
];
const pgUrl = process.env.TEST_DATABASE_URL;
if (pgUrl) {
  engines.push([
    'PostgreSQL',
    async () => {
      const scratch = await postgresScratchSchema(pgUrl, 'rows');
      const ds = await new DataSource(
        buildDataSourceOptions(scratch.config, ENTITIES),
      ).initialize();
      return {
        ds,
        drop: async () => {
          await ds.destroy();
          await scratch.drop();
        },
      };
    },
  ]);
}

describe.each(engines)('EntityRows on %s: the same rows as the repository', (_engine, open) => {
  let ds: DataSource;
  let drop: () => Promise<void>;
  let orders: EntityRows<OrderEntity>;

  beforeEach(async () => {
    ({ ds, drop } = await open());
    orders = EntityRows.of(ds, OrderEntity);
  });

  afterEach(async () => {
    await drop();
  });

  it('reads a row the repository wrote exactly as the repository reads it', async () => {
    const row = anOrder({ triggerPrice: '1200.05', deskNote: 'desk', parentId: randomUUID() });
    await ds.getRepository(OrderEntity).insert(row);
    const expected = await ds.getRepository(OrderEntity).findOneByOrFail({ id: row.id });
    const read = await orders.findOne({ id: row.id });
    expect(read).toEqual(expected);
    expect(read).toBeInstanceOf(OrderEntity);
    expect(read?.createdAt).toBeInstanceOf(Date);
    expect(read?.createdAt.getTime()).toBe(row.createdAt.getTime());
    expect(await orders.findOne({ id: row.id, userId: row.userId })).toEqual(expected);
    expect(await orders.findOne({ id: row.id, userId: randomUUID() })).toBeNull();
    expect(await orders.findOne({ id: randomUUID() })).toBeNull();
  });

  it('writes rows the repository reads back as they were given (one or several at once)', async () => {
    const one = anOrder();
    const two = [anOrder({ price: null, orderType: 'MARKET' }), anOrder({ tag: null })];
    await ds.transaction(async (em) => {
      await orders.insert(em, one);
      await orders.insert(em, two);
    });
    for (const row of [one, ...two]) {
      const stored = await ds.getRepository(OrderEntity).findOneByOrFail({ id: row.id });
      expect(stored).toEqual(row);
    }
    const events = EntityRows.of(ds, OrderEventEntity);
    const event = aCreatedEvent(one);
    await ds.transaction((em) => events.insert(em, event));
    expect(await ds.getRepository(OrderEventEntity).findOneByOrFail({ id: event.id })).toEqual(
      event,
    );
  });

  it('updates by equality and says how many rows changed (the optimistic version check)', async () => {
    const row = anOrder();
    await ds.transaction((em) => orders.insert(em, row));
    const later = new Date(row.updatedAt.getTime() + 1_500);
    const changed = await ds.transaction((em) =>
      orders.update(
        em,
        { id: row.id, version: 1 },
        { status: 'IN_FLIGHT', version: 2, updatedAt: later, reservation: null },
      ),
    );
    expect(changed).toBe(1);
    const stale = await ds.transaction((em) =>
      orders.update(em, { id: row.id, version: 1 }, { status: 'REJECTED', version: 2 }),
    );
    expect(stale).toBe(0);
    const stored = await ds.getRepository(OrderEntity).findOneByOrFail({ id: row.id });
    expect(stored).toEqual({
      ...row,
      status: 'IN_FLIGHT',
      version: 2,
      updatedAt: later,
      reservation: null,
    });
  });

  it('a duplicate key is the engine error the unique-violation check knows; nothing is written', async () => {
    const row = anOrder();
    await ds.transaction((em) => orders.insert(em, row));
    const again = anOrder({ userId: row.userId, clientOrderId: row.clientOrderId });
    const error = await ds.transaction((em) => orders.insert(em, again)).catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    expect(await orders.findOne({ id: again.id })).toBeNull();
  });

  it('writes a row and, only when it wrote one, its events; atomically, at either durability', async () => {
    const events = EntityRows.of(ds, OrderEventEntity);
    const eventOf = (order: OrderEntity, seq: number, type: string): OrderEventEntity => ({
      id: randomUUID(),
      orderId: order.id,
      seq,
      type,
      fromStatus: seq === 1 ? null : 'NEW',
      toStatus: 'NEW',
      cause: 'user',
      payload: `{"seq":${seq}}`,
      at: new Date(order.createdAt.getTime() + seq),
    });
    const eventsOf = (order: OrderEntity) =>
      ds
        .getRepository(OrderEventEntity)
        .find({ where: { orderId: order.id }, order: { seq: 'ASC' } });

    const row = anOrder();
    const created = eventOf(row, 1, 'CREATED');
    expect(
      await orders.write(
        { insert: row },
        { durability: 'deferred', then: { into: events, rows: [created] } },
      ),
    ).toBe(true);
    expect(await ds.getRepository(OrderEntity).findOneByOrFail({ id: row.id })).toEqual(row);
    expect(await eventsOf(row)).toEqual([created]);

    // An update that matches: the row changed and every event inserted.
    const later = new Date(row.updatedAt.getTime() + 2_000);
    const steps = [eventOf(row, 2, 'RISK_APPROVED'), eventOf(row, 3, 'SENT')];
    const set = { status: 'IN_FLIGHT', sendAttempts: 1, updatedAt: later, version: 3 };
    const where = { id: row.id, version: 1 };
    expect(
      await orders.write(
        { update: set, where },
        { durability: 'durable', then: { into: events, rows: steps } },
      ),
    ).toBe(true);
    expect(await ds.getRepository(OrderEntity).findOneByOrFail({ id: row.id })).toEqual({
      ...row,
      ...set,
    });
    expect(await eventsOf(row)).toEqual([created, ...steps]);

    // A stale version: nothing changed, no event inserted.
    const stale = [eventOf(row, 2, 'CANCEL_REQUESTED')];
    expect(
      await orders.write(
        { update: { status: 'X', version: 2 }, where },
        { then: { into: events, rows: stale } },
      ),
    ).toBe(false);
    expect((await ds.getRepository(OrderEntity).findOneByOrFail({ id: row.id })).status).toBe(
      'IN_FLIGHT',
    );
    expect(await eventsOf(row)).toHaveLength(3);

    // A duplicate key: the unique-violation error, and neither the row nor its event written.
    const again = anOrder({ userId: row.userId, clientOrderId: row.clientOrderId });
    const error = await orders
      .write({ insert: again }, { then: { into: events, rows: [eventOf(again, 1, 'CREATED')] } })
      .catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    expect(await orders.findOne({ id: again.id })).toBeNull();
    expect(await eventsOf(again)).toEqual([]);

    // An event that cannot be written (its key taken) undoes the row's write too.
    const third = anOrder();
    const clash = { ...eventOf(third, 1, 'CREATED'), id: created.id };
    const failed = await orders
      .write({ insert: third }, { durability: 'deferred', then: { into: events, rows: [clash] } })
      .catch((e: unknown) => e);
    expect(isUniqueViolation(failed)).toBe(true);
    expect(await orders.findOne({ id: third.id })).toBeNull();
  });

  it('writes one row alone, at either durability, and says whether it wrote', async () => {
    const row = anOrder();
    expect(await orders.write({ insert: row }, { durability: 'durable' })).toBe(true);
    expect(await ds.getRepository(OrderEntity).findOneByOrFail({ id: row.id })).toEqual(row);
    const where = { id: row.id, version: 1 };
    const set = { brokerOrderId: 'B-1', version: 2 };
    expect(await orders.write({ update: set, where }, { durability: 'deferred' })).toBe(true);
    expect(await orders.write({ update: set, where })).toBe(false); // the version moved on
    expect(await ds.getRepository(OrderEntity).findOneByOrFail({ id: row.id })).toEqual({
      ...row,
      ...set,
    });
    const again = anOrder({ userId: row.userId, clientOrderId: row.clientOrderId });
    const error = await orders.write({ insert: again }).catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
  });

  it('refuses a write outside a transaction and a condition without a value', async () => {
    await expect(orders.insert(ds.manager, anOrder())).rejects.toThrow('inside a transaction');
    await expect(orders.findOne({ parentId: null })).rejects.toThrow('needs a value');
    await expect(
      ds.transaction((em) => orders.update(em, { id: undefined }, { status: 'X' })),
    ).rejects.toThrow('needs a value');
  });
});

/*
 * PostgreSQL parses, analyses and plans an unnamed statement on every call; for the order path's
 * one-row writes that was most of the server's CPU per order. `write` names its statements so
 * that each connection prepares one once and then only executes it.
 */
(pgUrl ? describe : describe.skip)('EntityRows.write on PostgreSQL: prepared statements', () => {
  it('prepares a statement once per connection and executes it again for the same shape', async () => {
    const scratch = await postgresScratchSchema(pgUrl as string, 'prep');
    const options = buildDataSourceOptions(scratch.config, ENTITIES);
    // One connection, so that the session the view below shows is the one that wrote.
    const ds = await new DataSource({
      ...options,
      extra: { ...(options as { extra?: object }).extra, max: 1 },
    } as typeof options).initialize();
    try {
      const orders = EntityRows.of(ds, OrderEntity);
      const events = EntityRows.of(ds, OrderEventEntity);
      for (let i = 0; i < 3; i++) {
        const row = anOrder();
        await orders.write(
          { insert: row },
          { durability: 'durable', then: { into: events, rows: [aCreatedEvent(row)] } },
        );
      }
      const prepared = (await ds.query(
        "SELECT statement, generic_plans + custom_plans AS runs FROM pg_prepared_statements WHERE name LIKE 'entity_rows_%'",
      )) as Array<{ statement: string; runs: string }>;
      expect(prepared).toHaveLength(1);
      expect(prepared[0].statement).toContain('INSERT INTO "prep');
      expect(Number(prepared[0].runs)).toBe(3);
      expect(await ds.getRepository(OrderEntity).count()).toBe(3);
    } finally {
      await ds.destroy();
      await scratch.drop();
    }
  });
});
