import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DhanSimulatorOptions } from '@app/dhan-simulator';
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

let keySeq = 0;
const key = (label: string) => `${label}-${Date.now()}-${++keySeq}`;

/** Polls (bounded) until the order reaches `status`. */
async function untilStatus(trader: Trader, id: string, status: string): Promise<OrderView> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const order = await trader.order(id);
    if (order?.status === status) return order;
    if (Date.now() > deadline) {
      throw new Error(`order ${id} is ${order?.status ?? 'missing'}, not ${status}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Outcome {
  /** Broker id of the order PENDING before the restart. */
  before: string;
  /** Broker ids of the orders placed after it: a PENDING LIMIT, then a MARKET that trades. */
  pendingAfter: string;
  tradedAfter: string;
  cancel: { code: unknown; message: string };
  /** Our order after the refused cancel, as its owner reads it. */
  oldOrder: OrderView;
  /** Every order at the restarted broker before and after the cancel. */
  brokerBefore: string[];
  brokerAfter: string[];
  foreign: number;
}

/**
 * Issue 17 "ghost orders": an order PENDING at the embedded simulator, the server restarted
 * (the simulator with it: its books start empty), two orders placed on the new one, then the
 * old order cancelled. Two boots on one SQLite file.
 */
async function restartAndCancel(
  label: string,
  simulatorOptions?: DhanSimulatorOptions,
): Promise<Outcome> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `orders-ids-${label}-`));
  const env = {
    DATABASE_URL: `sqlite:${path.join(dir, 'data', 'restart.sqlite')}`,
    JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    ADMIN_USERNAME: 'restart-admin',
    ADMIN_PASSWORD: crypto.randomBytes(12).toString('hex'),
  };
  const options = { configure: ordersConfig, ...(simulatorOptions ? { simulatorOptions } : {}) };
  let second: TestApp | undefined;
  try {
    const first = await createTestApp(env, options);
    let trader: Trader;
    let old: OrderView;
    try {
      const sim = first.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
      await first.app.get(ExecutionService).whenReady();
      const equity = await anEquity(first);
      trader = await newTrader(first, await adminToken(first), `ids-${label}`);
      const placed = await trader.place({
        clientOrderId: key('before'),
        instrument: { segment: equity.segment, securityId: equity.securityId },
        side: 'BUY',
        quantity: 1,
        orderType: 'LIMIT',
        productType: 'INTRADAY',
        validity: 'DAY',
        price: priceNear(sim, equity, 0.95),
      });
      old = await untilStatus(trader, placed.id, 'PENDING');
    } finally {
      await first.close();
    }

    second = await createTestApp(env, options);
    const sim = second.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    const execution = second.app.get(ExecutionService);
    await execution.whenReady();
    await second.app.get(OrdersService).whenRecovered();
    const equity = await anEquity(second);
    // Same user, same session: the token outlives the restart (same secret, same database).
    const again = new Trader(second, trader.id, trader.token);
    const base = {
      instrument: { segment: equity.segment, securityId: equity.securityId },
      side: 'BUY',
      quantity: 1,
      productType: 'INTRADAY',
      validity: 'DAY',
    };
    const pending = await again.place({
      ...base,
      clientOrderId: key('pending-after'),
      orderType: 'LIMIT',
      price: priceNear(sim, equity, 0.95),
    });
    const pendingAfter = await untilStatus(again, pending.id, 'PENDING');
    const market = await again.place({
      ...base,
      clientOrderId: key('traded-after'),
      orderType: 'MARKET',
    });
    const tradedAfter = await untilStatus(again, market.id, 'TRADED');

    const book = () =>
      sim.orders
        .allOrders()
        .map((o) => `${o.orderId} ${o.correlationId} ${o.status} ${o.modifications}`);
    const brokerBefore = book();
    const response = await again.call(CANCEL, { id: old.id });
    const error = response.errors?.[0];
    return {
      before: old.brokerOrderId!,
      pendingAfter: pendingAfter.brokerOrderId!,
      tradedAfter: tradedAfter.brokerOrderId!,
      cancel: { code: error?.extensions?.code, message: error?.message ?? '' },
      oldOrder: (await again.order(old.id))!,
      brokerBefore,
      brokerAfter: book(),
      foreign: execution.stats.foreignBrokerOrders,
    };
  } finally {
    await second?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('broker order ids across a restart of the embedded default (e2e, two boots on one SQLite file)', () => {
  // The two boots share a file, which the SQLite run gives cheaply; the code is engine-free.
  const sqliteOnly = databaseEngine() === 'sqlite' ? it : it.skip;

  sqliteOnly(
    'the restarted simulator gives out new ids: cancelling the old PENDING order finds nothing at the broker and touches no other order',
    async () => {
      const out = await restartAndCancel('default');
      expect(out.pendingAfter).not.toBe(out.before);
      expect(out.tradedAfter).not.toBe(out.before);
      expect(BigInt(out.pendingAfter) > BigInt(out.before)).toBe(true);
      expect(out.brokerBefore.some((row) => row.startsWith(`${out.before} `))).toBe(false);
      // The broker lost it with its books: recovery ended it at boot (BROKER_LOST), so the
      // cancel has nothing left to do and answers the ended order.
      expect(out.cancel.code).toBeUndefined();
      expect(out.oldOrder.status).toBe('CANCELLED');
      expect(out.brokerAfter).toEqual(out.brokerBefore);
      expect(out.brokerAfter.filter((row) => row.includes(' CANCELLED '))).toEqual([]);
      expect(out.foreign).toBe(0);
    },
    180_000,
  );

  sqliteOnly(
    'even a broker that reuses the id (the old numbering, forced here): the PENDING order now under it is not ours by correlationId and is never cancelled',
    async () => {
      const out = await restartAndCancel('reused', { orders: { idBase: 7_000_000 } });
      // The id came back, on another order that is still working at the broker.
      expect(out.pendingAfter).toBe(out.before);
      // Looked up by correlationId at boot, the order under the old id is not ours: ours was
      // lost and ended (BROKER_LOST); the cancel touches nothing at the broker.
      expect(out.cancel.code).toBeUndefined();
      expect(out.oldOrder.status).toBe('CANCELLED');
      expect(out.brokerAfter).toEqual(out.brokerBefore);
      const underOldId = out.brokerAfter.find((row) => row.startsWith(`${out.before} `));
      expect(underOldId).toMatch(/ PENDING 0$/);
      // No cancel reached the broker, so no foreign order was ever seen under our route.
      expect(out.foreign).toBe(0);
    },
    180_000,
  );
});
