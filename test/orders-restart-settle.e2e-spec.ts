import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { ExecutionService } from '../src/execution/execution.service';
import { OrdersService } from '../src/orders/orders.service';
import {
  CANCEL,
  Trader,
  adminToken,
  anEquity,
  newTrader,
  ordersConfig,
  priceNear,
  type OrderView,
} from './orders.helpers';
import { createTestApp, databaseEngine, type TestApp } from './utils/test-app';

const FUNDS = `query { funds { available used reserved balance realizedPnl charges } }`;
const TAGGED = `query { orders { id status tag rejectionReason } }`;

interface Funds {
  available: number;
  used: number;
  reserved: number;
  balance: number;
  realizedPnl: number;
  charges: number;
}

let keySeq = 0;
const key = (label: string) => `${label}-${Date.now()}-${++keySeq}`;

async function untilStatus(trader: Trader, id: string, status: string): Promise<OrderView> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const order = await trader.order(id);
    if (order?.status === status) return order;
    if (Date.now() > deadline) throw new Error(`order ${id} is ${order?.status}, not ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function fundsWhen(trader: Trader, check: (f: Funds) => boolean): Promise<Funds> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const f = (await trader.ok<{ funds: Funds }>(FUNDS)).funds;
    if (check(f)) return f;
    if (Date.now() > deadline) throw new Error(`funds never settled: ${JSON.stringify(f)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One database two boots share: a SQLite file, or a PostgreSQL schema made here. */
async function sharedDatabase(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  const secrets = {
    JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    ADMIN_USERNAME: 'restart-admin',
    ADMIN_PASSWORD: crypto.randomBytes(12).toString('hex'),
    FUNDS_CHARGES: 'on',
  };
  if (databaseEngine() === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restart-settle-'));
    return {
      env: { ...secrets, DATABASE_URL: `sqlite:${path.join(dir, 'data', 'restart.sqlite')}` },
      drop: () => Promise.resolve(fs.rmSync(dir, { recursive: true, force: true })),
    };
  }
  const url = process.env.TEST_DATABASE_URL!;
  const schema = `e2e_restart_${crypto.randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  await admin.end();
  const withSchema = new URL(url);
  withSchema.searchParams.set('schema', schema);
  return {
    env: { ...secrets, DATABASE_URL: withSchema.toString() },
    drop: async () => {
      const c = new Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA "${schema}" CASCADE`);
      await c.end();
    },
  };
}

describe('a restart with working orders (e2e, embedded default: its broker forgets them)', () => {
  let db: Awaited<ReturnType<typeof sharedDatabase>>;
  let second: TestApp | undefined;

  beforeAll(async () => {
    db = await sharedDatabase();
  });

  afterAll(async () => {
    await second?.close();
    await db?.drop();
  });

  it('after boot no order is PENDING, their funds are released, the ledger is rebuilt exactly, and cancel ends them', async () => {
    const first = await createTestApp(db.env, { configure: ordersConfig });
    let trader: Trader;
    let pending: string[];
    let before: Funds;
    try {
      const sim = first.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
      await first.app.get(ExecutionService).whenReady();
      const equity = await anEquity(first);
      trader = await newTrader(first, await adminToken(first), 'restarter');
      const base = {
        instrument: { segment: equity.segment, securityId: equity.securityId },
        side: 'BUY',
        quantity: 5,
        productType: 'CNC',
        validity: 'DAY',
      };
      const market = await trader.place({ ...base, clientOrderId: key('m'), orderType: 'MARKET' });
      await untilStatus(trader, market.id, 'TRADED');
      pending = [];
      for (const fraction of [0.95, 0.94, 0.93]) {
        const placed = await trader.place({
          ...base,
          clientOrderId: key('limit'),
          orderType: 'LIMIT',
          price: priceNear(sim, equity, fraction),
        });
        await untilStatus(trader, placed.id, 'PENDING');
        pending.push(placed.id);
      }
      before = await fundsWhen(trader, (f) => f.used > 0 && f.reserved > 0 && f.charges > 0);
    } finally {
      await first.close();
    }

    second = await createTestApp(db.env, { configure: ordersConfig });
    await second.app.get(ExecutionService).whenReady();
    await second.app.get(OrdersService).whenRecovered();
    const again = new Trader(second, trader.id, trader.token);

    const orders = (
      await again.ok<{ orders: Array<{ id: string; status: string; tag: string | null }> }>(TAGGED)
    ).orders;
    expect(orders.filter((o) => o.status === 'PENDING')).toEqual([]);
    for (const id of pending) {
      expect(orders.find((o) => o.id === id)).toMatchObject({
        status: 'CANCELLED',
        tag: 'BROKER_LOST',
      });
    }
    const after = (await again.ok<{ funds: Funds }>(FUNDS)).funds;
    // Reservations released; balance, used margin, realised P&L and charges exactly as before.
    expect(after).toEqual({
      ...before,
      reserved: 0,
      available: Math.round((before.available + before.reserved) * 100) / 100,
    });

    // Cancel on such an order ends it (it already is): no CONFLICT, no DH-906.
    const cancel = await again.call<{ cancelOrder: { status: string } }>(CANCEL, {
      id: pending[0],
    });
    expect(cancel.errors).toBeUndefined();
    expect(cancel.data!.cancelOrder.status).toBe('CANCELLED');
  }, 240_000);
});
