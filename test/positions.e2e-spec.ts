import type { Instrument } from '@app/dhan/types';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { ExecutionService } from '../src/execution/execution.service';
import { POSITIONS_UPDATED } from '../src/execution/execution.events';
import { until } from './dhan/helpers';
import { adminToken, anEquity, newTrader, ordersConfig, type Trader } from './orders.helpers';
import { errorCodes, gql, subscribe, type SubscriptionProbe } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

const INSTRUMENT = 'instrument { segment securityId symbol }';
const POSITION_FIELDS = `${INSTRUMENT} productType netQuantity buyQuantity sellQuantity buyAverage
  sellAverage realizedPnl unrealizedPnl ltp`;
const POSITIONS = `query { positions { ${POSITION_FIELDS} } }`;
const TRADES = `query { trades { id tradeId orderId ${INSTRUMENT} side productType quantity price tradedAt } }`;
const POSITION_UPDATES = `subscription { positionUpdates { ${POSITION_FIELDS} } }`;

interface PositionView {
  instrument: { segment: string; securityId: string };
  productType: string;
  netQuantity: number;
  buyQuantity: number;
  sellQuantity: number;
  buyAverage: number;
  realizedPnl: number;
  unrealizedPnl: number | null;
  ltp: number | null;
}

interface TradeView {
  id: string;
  tradeId: string;
  orderId: string;
  side: string;
  quantity: number;
  price: number;
}

/** Polls an asynchronous condition (a GraphQL read) until it holds. */
async function eventually(check: () => Promise<boolean>, label: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${label}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let keySeq = 0;
const key = (label: string) => `${label}-${Date.now()}-${++keySeq}`;

describe('trades, positions and positionUpdates over GraphQL (e2e: graphql-ws, embedded simulator)', () => {
  let t: TestApp;
  let emitter: EventEmitter2;
  let alice: Trader;
  let bob: Trader;
  let equity: Instrument;
  const probes: SubscriptionProbe[] = [];

  async function positionUpdates(trader: Trader): Promise<SubscriptionProbe> {
    const before = emitter.listenerCount(POSITIONS_UPDATED);
    const probe = subscribe(t.websocketUrl, POSITION_UPDATES, trader.connectionParams);
    probes.push(probe);
    await probe.connected;
    await until(
      () => emitter.listenerCount(POSITIONS_UPDATED) > before,
      'positionUpdates registered',
    );
    return probe;
  }

  const updates = (probe: SubscriptionProbe): PositionView[] =>
    probe.received.map(
      (m) => (m as { data: { positionUpdates: PositionView } }).data.positionUpdates,
    );

  beforeAll(async () => {
    t = await createTestApp({}, { configure: ordersConfig });
    emitter = t.app.get(EventEmitter2);
    await t.app.get(ExecutionService).whenReady();
    equity = await anEquity(t);
    const admin = await adminToken(t);
    alice = await newTrader(t, admin, 'alice');
    bob = await newTrader(t, admin, 'bob');
    // Boot can be slow on a loaded machine; no assertion depends on it.
  }, 90_000);

  afterAll(async () => {
    for (const p of probes) await p.dispose();
    await t?.close();
  });

  it('place -> TRADED -> positions and trades show it; positionUpdates P&L moves with ticks; B sees none of it', async () => {
    const aliceUpdates = await positionUpdates(alice);
    const bobUpdates = await positionUpdates(bob);
    const placed = await alice.place({
      clientOrderId: key('market'),
      instrument: { segment: equity.segment, securityId: equity.securityId },
      side: 'BUY',
      quantity: 4,
      orderType: 'MARKET',
      productType: 'INTRADAY',
      validity: 'DAY',
    });
    await eventually(
      async () => (await alice.order(placed.id))?.status === 'TRADED',
      'the order traded',
    );

    const { trades } = await alice.ok<{ trades: TradeView[] }>(TRADES);
    expect(trades.length).toBeGreaterThanOrEqual(1);
    expect(trades.every((tr) => tr.orderId === placed.id && tr.side === 'BUY')).toBe(true);
    expect(trades.reduce((s, tr) => s + tr.quantity, 0)).toBe(4);
    expect(new Set(trades.map((tr) => tr.tradeId)).size).toBe(trades.length);

    await eventually(
      async () =>
        (await alice.ok<{ positions: PositionView[] }>(POSITIONS)).positions[0]?.netQuantity === 4,
      'the position shows the fill',
    );
    const [position] = (await alice.ok<{ positions: PositionView[] }>(POSITIONS)).positions;
    expect(position).toMatchObject({
      instrument: { segment: equity.segment, securityId: equity.securityId },
      productType: 'INTRADAY',
      netQuantity: 4,
      buyQuantity: 4,
      sellQuantity: 0,
      realizedPnl: 0,
    });
    const value = trades.reduce((s, tr) => s + tr.quantity * tr.price, 0);
    expect(position.buyAverage).toBeCloseTo(value / 4, 4);

    // The simulator ticks on its own; the open position keeps the instrument streaming.
    await until(
      () => {
        const pnl = updates(aliceUpdates)
          .filter((p) => p.instrument.securityId === equity.securityId && p.netQuantity === 4)
          .map((p) => p.unrealizedPnl)
          .filter((v): v is number => v !== null);
        return new Set(pnl).size >= 2;
      },
      'two different unrealizedPnl values on positionUpdates',
      [],
      25_000,
    );
    const moving = updates(aliceUpdates)
      .filter((p) => p.unrealizedPnl !== null)
      .at(-1)!;
    // Unrealised = (LTP - average) x quantity, to the paisa.
    expect(moving.unrealizedPnl!).toBeCloseTo((moving.ltp! - position.buyAverage) * 4, 1);

    // User B: nothing of A's by query or subscription.
    expect((await bob.ok<{ trades: TradeView[] }>(TRADES)).trades).toEqual([]);
    expect((await bob.ok<{ positions: PositionView[] }>(POSITIONS)).positions).toEqual([]);
    expect(bobUpdates.received).toEqual([]);
  }, 60_000);

  it('trades and positions need authentication', async () => {
    for (const query of [TRADES, POSITIONS]) {
      const response = await gql(t.graphqlUrl, query);
      expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    }
  });
});
