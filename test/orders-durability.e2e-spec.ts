import type { Instrument } from '@app/dhan/types';
import type { DhanSimulator } from '@app/dhan-simulator';
import { DataSource, type QueryRunner } from 'typeorm';
import { walFlushStats } from '../src/database/sqlite-serial';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { ExecutionService } from '../src/execution/execution.service';
import { OrdersService } from '../src/orders/orders.service';
import { OrderStatus } from '../src/trading/order-status';
import {
  adminToken,
  anEquity,
  newTrader,
  ordersConfig,
  priceNear,
  type Trader,
} from './orders.helpers';
import { createTestApp, type TestApp } from './utils/test-app';

/**
 * The order's write-ahead record reaches the disk before the order leaves, and it is the one
 * flush of a placement (SQLite: every commit is at NORMAL, written to the operating system; a
 * durable one then waits for an fsync of the WAL, off the event loop, which flushes it and
 * every commit before it). Every statement the app runs is logged with the safety level it
 * runs at and the WAL flushes asked for and done so far; the simulator holds the order's REST
 * request until the test has read the log.
 */

const PLACE_ORDER = /^POST \/v2\/orders$/;

interface Statement {
  sql: string;
  level: number;
  inTransaction: boolean;
  /** Durable commits that had asked for a WAL flush, and flushes done, before it ran. */
  durableCommits: number;
  flushes: number;
}

/** A commit point: COMMIT, or a write outside any transaction (it commits by itself). */
function commits(log: readonly Statement[]): Statement[] {
  return log.filter(
    (s) => /^COMMIT/i.test(s.sql) || (!s.inTransaction && /^(INSERT|UPDATE|DELETE)/i.test(s.sql)),
  );
}

/** The table each commit wrote, from the writes since the transaction began. */
function writtenTables(log: readonly Statement[]): string[][] {
  const out: string[][] = [];
  let open: string[] = [];
  for (const s of log) {
    const table = /^(?:INSERT INTO|UPDATE)\s+"?(\w+)"?/i.exec(s.sql)?.[1];
    if (table) open.push(table);
    if (/^COMMIT/i.test(s.sql) || (!s.inTransaction && table)) {
      out.push(open);
      open = [];
    }
    if (/^(BEGIN|ROLLBACK)/i.test(s.sql)) open = [];
  }
  return out;
}

/**
 * Holds the next order request at the simulator until `release`; `atBroker` resolves when it
 * arrives (the simulator awaits the hold then, which calls its `then`).
 */
function holdNextPlacement(sim: DhanSimulator): { atBroker: Promise<void>; release: () => void } {
  let arrived!: () => void;
  const atBroker = new Promise<void>((resolve) => (arrived = resolve));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const until = {
    then: (onDone: () => void, onFail: () => void) => {
      arrived();
      return held.then(onDone, onFail);
    },
  } as unknown as Promise<void>;
  sim.rest.delay({ pattern: PLACE_ORDER, until, count: 1 });
  return { atBroker, release };
}

function limitBuy(sim: DhanSimulator, equity: Instrument, label: string) {
  return {
    clientOrderId: `${label}-${Date.now()}`,
    instrument: { segment: equity.segment, securityId: equity.securityId },
    side: 'BUY',
    quantity: 1,
    orderType: 'LIMIT',
    productType: 'INTRADAY',
    validity: 'DAY',
    price: priceNear(sim, equity, 0.95),
  };
}

describe('order durability (e2e, SQLite): one flush per placement, before the order leaves', () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let alice: Trader;
  let equity: Instrument;
  const log: Statement[] = [];
  let flushStats: () => { commits: number; flushes: number };

  beforeAll(async () => {
    t = await createTestApp({}, { configure: ordersConfig });
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    await t.app.get(ExecutionService).whenReady();
    await t.app.get(OrdersService).whenRecovered();
    equity = await anEquity(t);
    alice = await newTrader(t, await adminToken(t), 'durable-alice');
    const dataSource = t.app.get(DataSource);
    const db = (
      dataSource.driver as unknown as {
        databaseConnection: {
          pragma(sql: string, o: { simple: boolean }): unknown;
          inTransaction: boolean;
        };
      }
    ).databaseConnection;
    flushStats = () => {
      const stats = walFlushStats(dataSource);
      if (stats === undefined) throw new Error('no WAL flusher on the SQLite file');
      return { commits: stats.commits, flushes: stats.flushes };
    };
    const logger = dataSource.logger;
    const logQuery = logger.logQuery.bind(logger);
    // TypeORM logs each statement just before it runs it, synchronously with the run.
    logger.logQuery = (sql: string, parameters?: unknown[], runner?: QueryRunner) => {
      log.push({
        sql: sql.trim(),
        level: Number(db.pragma('synchronous', { simple: true })),
        inTransaction: db.inTransaction,
        durableCommits: flushStats().commits,
        flushes: flushStats().flushes,
      });
      return logQuery(sql, parameters, runner);
    };
  });

  afterEach(() => sim.rest.clearFaults());

  afterAll(async () => {
    await t?.close();
  });

  it('flushes the WAL once, after the routing record commits and before the request leaves; nothing after the answer', async () => {
    const { atBroker, release } = holdNextPlacement(sim);

    log.length = 0;
    const start = flushStats();
    const placing = alice.place(limitBuy(sim, equity, 'durable'));
    await Promise.race([
      atBroker,
      placing.then((o) => {
        throw new Error(`answered before the broker had it: ${JSON.stringify(o)}`);
      }),
    ]);
    const beforeSend = [...log];
    const atSend = flushStats();
    release();
    const placed = await placing;
    expect([OrderStatus.TRANSIT, OrderStatus.PENDING]).toContain(placed.status);

    const ahead = commits(beforeSend);
    const aheadTables = writtenTables(beforeSend);
    // CREATED, then RISK_APPROVED with SENT, then the routing record: the last one flushes all.
    expect(aheadTables.filter((w) => w.includes('orders')).length).toBeGreaterThanOrEqual(2);
    expect(aheadTables[aheadTables.length - 1]).toContain('execution_orders');
    const routing = ahead[ahead.length - 1];
    // No durable commit before the routing record's; exactly one with it, flushed before the
    // request reached the broker.
    expect(ahead.every((c) => c.durableCommits === start.commits)).toBe(true);
    expect(atSend.commits).toBe(start.commits + 1);
    expect(atSend.flushes).toBeGreaterThanOrEqual(routing.flushes + 1);
    // Every statement ran at NORMAL: no commit flushed on the event loop.
    expect(beforeSend.every((s) => s.level === 1)).toBe(true);

    // After the answer (ACKNOWLEDGED, the broker's id on the routing record): no flush asked.
    const after = commits(log.slice(beforeSend.length));
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(flushStats().commits).toBe(atSend.commits);
    expect(log.every((s) => s.level === 1)).toBe(true);
    // A single instance keeps the rows it committed: no step of the placement, nor its answer,
    // reads the order's row back by its id (the funds ledger's first load reads the user's).
    expect(
      log.filter((s) => /^SELECT\b[\s\S]*\bFROM "orders" WHERE "id" = \?/i.test(s.sql)),
    ).toEqual([]);
  });

  it('a resend (the routing record exists) flushes its own SENT before the request leaves again', async () => {
    // The first request fails before the broker takes it: looked up, not found, sent again.
    sim.rest.failWith({ pattern: PLACE_ORDER, count: 1, status: 503 });
    const { atBroker, release } = holdNextPlacement(sim);
    log.length = 0;
    const start = flushStats();
    const placed = alice.place(limitBuy(sim, equity, 'resent'));
    await atBroker;
    const beforeResend = [...log];
    const atResend = flushStats();
    release();
    await placed;
    const tables = writtenTables(beforeResend);
    const points = commits(beforeResend);
    // One routing record, written before the first request; the resend's SENT is the last
    // commit before the second, and is flushed: two durable commits in all.
    expect(tables.filter((w) => w.includes('execution_orders'))).toHaveLength(1);
    expect(tables[tables.length - 1]).toContain('orders');
    expect(tables[tables.length - 1]).not.toContain('execution_orders');
    const resent = points[points.length - 1];
    expect(resent.durableCommits).toBe(start.commits + 1);
    expect(atResend.commits).toBe(start.commits + 2);
    expect(atResend.flushes).toBeGreaterThanOrEqual(resent.flushes + 1);
  });
});
