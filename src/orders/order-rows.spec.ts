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
    const event: OrderEventEntity = {
      id: randomUUID(),
      orderId: one.id,
      seq: 1,
      type: 'CREATED',
      fromStatus: null,
      toStatus: 'NEW',
      cause: 'user',
      payload: '{}',
      at: one.createdAt,
    };
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

  it('refuses a write outside a transaction and a condition without a value', async () => {
    await expect(orders.insert(ds.manager, anOrder())).rejects.toThrow('inside a transaction');
    await expect(orders.findOne({ parentId: null })).rejects.toThrow('needs a value');
    await expect(
      ds.transaction((em) => orders.update(em, { id: undefined }, { status: 'X' })),
    ).rejects.toThrow('needs a value');
  });
});
