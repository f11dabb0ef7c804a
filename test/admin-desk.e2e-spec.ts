import type { Instrument } from '@app/dhan/types';
import type { DhanSimulator } from '@app/dhan-simulator';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { ExecutionService } from '../src/execution/execution.service';
import { ORDERS_UPDATED } from '../src/orders/orders.events';
import { until } from './dhan/helpers';
import {
  adminToken,
  anEquity,
  FUNDS,
  newTrader,
  ORDER_UPDATES,
  ordersConfig,
  priceNear,
  type Trader,
} from './orders.helpers';
import { errorCodes, gql, subscribe, type SubscriptionProbe } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

const DEALER = 'dealerId dealerUsername';
const INSTRUMENT = 'instrument { segment securityId }';
const ORDER = `id ${DEALER} ${INSTRUMENT} status side quantity filledQuantity productType deskNote`;
const POSITION = `${DEALER} ${INSTRUMENT} productType netQuantity realizedPnl unrealizedPnl ltp exposure`;
const DEALER_ROW = `dealerId dealerUsername grossExposure netExposure realizedPnl unrealizedPnl
  openPositions funds { balance available used reserved }`;
const SUMMARY = `dealers { ${DEALER_ROW} } grossExposure netExposure realizedPnl unrealizedPnl
  topPositions { ${POSITION} } at`;

const Q_ORDERS = `query O($filter: DeskFilter, $limit: Int! = 50, $offset: Int! = 0) {
  orders(filter: $filter, limit: $limit, offset: $offset) { total items { ${ORDER} } }
}`;
const Q_TRADES = `query T($filter: DeskFilter) {
  trades(filter: $filter) { total items { id ${DEALER} orderId quantity price side tradedAt } }
}`;
const Q_POSITIONS = `query P($filter: DeskFilter) {
  positions(filter: $filter) { total items { ${POSITION} } }
}`;
const Q_SUMMARY = `query { deskSummary { ${SUMMARY} } }`;
const M_CANCEL = `mutation C($id: ID!, $reason: String!) { cancelOrder(id: $id, reason: $reason) { ${ORDER} } }`;
const M_SQUARE = `mutation S($dealerId: ID!, $reason: String!) {
  squareOff(dealerId: $dealerId, reason: $reason) { orders { ${ORDER} } }
}`;
const M_FUNDS = `mutation F($dealerId: ID!, $amount: Float!, $reason: String!) {
  adjustFunds(dealerId: $dealerId, amount: $amount, reason: $reason) {
    dealerId before { balance available } after { balance available }
  }
}`;
const Q_AUDIT = `query A($action: String, $actor: String, $limit: Int! = 50, $offset: Int! = 0, $from: DateTime) {
  auditLog(action: $action, actor: $actor, limit: $limit, offset: $offset, from: $from) {
    id action actorUsername target payload createdAt
  }
}`;
const S_DESK = `subscription { deskUpdates { ${SUMMARY} } }`;
const S_FEED = `subscription { feedStatusUpdates { connected capacity instruments staleInstruments connections { index state packets } } }`;

interface DeskOrder {
  id: string;
  dealerId: string;
  dealerUsername: string;
  status: string;
  side: string;
  quantity: number;
  deskNote: string | null;
  instrument: { segment: string; securityId: string };
}
interface DeskPosition {
  dealerId: string;
  netQuantity: number;
  unrealizedPnl: number | null;
  exposure: number;
}
interface DealerRow {
  dealerId: string;
  grossExposure: number;
  netExposure: number;
  unrealizedPnl: number;
  openPositions: number;
  funds: { balance: number; available: number };
}
interface Summary {
  dealers: DealerRow[];
  grossExposure: number;
  unrealizedPnl: number;
  topPositions: DeskPosition[];
}
interface AuditRow {
  action: string;
  actorUsername: string;
  target: string;
  payload: string;
  createdAt: string;
}

let seq = 0;
const key = (label: string) => `${label}-${Date.now()}-${++seq}`;

describe('admin desk: every dealer s book, summary, actions on their behalf (e2e, embedded simulator)', () => {
  let t: TestApp;
  let admin: string;
  let emitter: EventEmitter2;
  let alice: Trader;
  let bob: Trader;
  let equity: Instrument;
  let started: string;
  const probes: SubscriptionProbe[] = [];

  const as = <T>(query: string, variables: Record<string, unknown> = {}, token = admin) =>
    gql<T>(t.adminUrl, query, variables, token);
  async function ok<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const r = await as<T>(query, variables);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data as T;
  }
  const orderUpdates = (probe: SubscriptionProbe) =>
    probe.received.map((m) => (m as { data: { orderUpdates: DeskOrder } }).data.orderUpdates);

  async function watchOrders(trader: Trader): Promise<SubscriptionProbe> {
    const before = emitter.listenerCount(ORDERS_UPDATED);
    const probe = subscribe(
      t.websocketUrl,
      ORDER_UPDATES.replace('rejectionReason', 'rejectionReason deskNote'),
      trader.connectionParams,
    );
    probes.push(probe);
    await probe.connected;
    await until(() => emitter.listenerCount(ORDERS_UPDATED) > before, 'orderUpdates registered');
    return probe;
  }

  async function auditOf(action: string): Promise<AuditRow> {
    const { auditLog } = await ok<{ auditLog: AuditRow[] }>(Q_AUDIT, { action, from: started });
    expect(auditLog.length).toBeGreaterThanOrEqual(1);
    return auditLog[0];
  }

  beforeAll(async () => {
    t = await createTestApp({}, { configure: ordersConfig });
    emitter = t.app.get(EventEmitter2);
    await t.app.get(ExecutionService).whenReady();
    equity = await anEquity(t);
    admin = await adminToken(t);
    alice = await newTrader(t, admin, 'desk-alice');
    bob = await newTrader(t, admin, 'desk-bob');
    started = new Date(Date.now() - 1_000).toISOString();
  }, 180_000); // Boot is slow on a loaded machine; no assertion depends on it.

  afterAll(async () => {
    for (const p of probes) await p.dispose();
    await t?.close();
  });

  const instrument = () => ({ segment: equity.segment, securityId: equity.securityId });

  it('lists and filters every dealer s orders, trades and positions with paging', async () => {
    const bought = await alice.place({
      clientOrderId: key('buy'),
      instrument: instrument(),
      side: 'BUY',
      quantity: 4,
      orderType: 'MARKET',
      productType: 'INTRADAY',
      validity: 'DAY',
    });
    const sim: DhanSimulator = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    const far = priceNear(sim, equity, 0.95);
    const resting = await bob.place({
      clientOrderId: key('rest'),
      instrument: instrument(),
      side: 'BUY',
      quantity: 1,
      orderType: 'LIMIT',
      price: far,
      productType: 'CNC',
      validity: 'DAY',
    });
    for (const [trader, id] of [
      [alice, bought.id],
      [bob, resting.id],
    ] as const) {
      await eventuallyStatus(trader, id, trader === alice ? 'TRADED' : 'PENDING');
    }

    const aliceOrders = (
      await ok<{ orders: { total: number; items: DeskOrder[] } }>(Q_ORDERS, {
        filter: { dealerId: alice.id },
      })
    ).orders;
    expect(aliceOrders.total).toBe(1);
    expect(aliceOrders.items[0]).toMatchObject({
      id: bought.id,
      dealerId: alice.id,
      dealerUsername: 'desk-alice',
      status: 'TRADED',
    });
    const pending = (
      await ok<{ orders: { total: number; items: DeskOrder[] } }>(Q_ORDERS, {
        filter: { status: ['PENDING'], instrument: instrument(), productType: 'CNC' },
      })
    ).orders;
    expect(pending.items.map((o) => o.id)).toEqual([resting.id]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect(
      (await ok<{ orders: { total: number } }>(Q_ORDERS, { filter: { from: future } })).orders
        .total,
    ).toBe(0);
    // Paging: newest first, one per page, the total stays.
    const page1 = (
      await ok<{ orders: { total: number; items: DeskOrder[] } }>(Q_ORDERS, {
        limit: 1,
      })
    ).orders;
    const page2 = (
      await ok<{ orders: { total: number; items: DeskOrder[] } }>(Q_ORDERS, {
        limit: 1,
        offset: 1,
      })
    ).orders;
    expect([page1.total, page2.total]).toEqual([2, 2]);
    expect([page1.items[0].id, page2.items[0].id]).toEqual([resting.id, bought.id]);

    const trades = (
      await ok<{ trades: { total: number; items: { dealerId: string; quantity: number }[] } }>(
        Q_TRADES,
        { filter: { dealerId: alice.id } },
      )
    ).trades;
    expect(trades.items.every((tr) => tr.dealerId === alice.id)).toBe(true);
    expect(trades.items.reduce((s, tr) => s + tr.quantity, 0)).toBe(4);
    expect(
      (await ok<{ trades: { total: number } }>(Q_TRADES, { filter: { dealerId: bob.id } })).trades
        .total,
    ).toBe(0);

    const positions = (
      await ok<{ positions: { total: number; items: DeskPosition[] } }>(Q_POSITIONS, {
        filter: { dealerId: alice.id, instrument: instrument() },
      })
    ).positions;
    expect(positions.total).toBe(1);
    expect(positions.items[0]).toMatchObject({ dealerId: alice.id, netQuantity: 4 });
    expect(
      (await ok<{ positions: { total: number } }>(Q_POSITIONS, { filter: { dealerId: bob.id } }))
        .positions.total,
    ).toBe(0);
  }, 60_000);

  it('the desk summary shows exposure, P&L and funds per dealer, and deskUpdates moves with ticks', async () => {
    const { deskSummary } = await ok<{ deskSummary: Summary }>(Q_SUMMARY);
    const row = deskSummary.dealers.find((d) => d.dealerId === alice.id)!;
    expect(row.openPositions).toBe(1);
    expect(row.grossExposure).toBeGreaterThan(0);
    expect(row.netExposure).toBeCloseTo(row.grossExposure, 2);
    expect(deskSummary.dealers.find((d) => d.dealerId === bob.id)).toMatchObject({
      openPositions: 0,
      grossExposure: 0,
    });
    expect(deskSummary.grossExposure).toBeCloseTo(row.grossExposure, 2);
    expect(deskSummary.topPositions[0]).toMatchObject({ dealerId: alice.id, netQuantity: 4 });

    const desk = subscribe(t.adminWebsocketUrl, S_DESK, { authorization: `Bearer ${admin}` });
    probes.push(desk);
    const pnl = () =>
      new Set(
        desk.received.map(
          (m) =>
            (m as { data: { deskUpdates: Summary } }).data.deskUpdates.dealers.find(
              (d) => d.dealerId === alice.id,
            )?.unrealizedPnl,
        ),
      );
    // The simulator ticks on its own; alice's open position is marked to each new LTP.
    await until(
      () => pnl().size >= 2,
      'two different unrealised P&L values on deskUpdates',
      [],
      30_000,
    );

    const feed = subscribe(t.adminWebsocketUrl, S_FEED, { authorization: `Bearer ${admin}` });
    probes.push(feed);
    const first = (await Promise.race([feed.firstValue, feed.failed])) as {
      data: { feedStatusUpdates: { connected: boolean; connections: { packets: number }[] } };
    };
    expect(first.data.feedStatusUpdates.connected).toBe(true);
    // Once a second: the packet count moves with the simulator's ticks.
    const packets = () =>
      new Set(
        feed.received.map((m) =>
          (m as typeof first).data.feedStatusUpdates.connections.reduce((s, c) => s + c.packets, 0),
        ),
      );
    await until(() => packets().size >= 2, 'feedStatusUpdates shows packets moving', [], 20_000);
  }, 60_000);

  it('cancels a dealer s order on their behalf: their orderUpdates show why; audited before/after', async () => {
    const watch = await watchOrders(bob);
    const { orders } = await ok<{ orders: { items: DeskOrder[] } }>(Q_ORDERS, {
      filter: { dealerId: bob.id, status: ['PENDING'] },
    });
    const id = orders.items[0].id;
    const reason = 'limit breach on the desk';
    const cancelled = (await ok<{ cancelOrder: DeskOrder }>(M_CANCEL, { id, reason })).cancelOrder;
    expect(cancelled.deskNote).toContain(reason);
    await until(
      () => orderUpdates(watch).some((o) => o.id === id && o.status === 'CANCELLED'),
      'bob sees his order CANCELLED',
    );
    const seen = orderUpdates(watch).filter((o) => o.id === id);
    expect(seen.every((o) => o.deskNote?.includes(reason))).toBe(true);

    const row = await auditOf('cancelOrder');
    expect(row.target).toBe(id);
    expect(JSON.parse(row.payload)).toMatchObject({
      dealerId: bob.id,
      reason,
      before: { status: 'PENDING', deskNote: null },
      after: { deskNote: expect.stringContaining(reason) as unknown },
    });
    // A second cancel of the finished order is refused and writes nothing.
    const again = await as(M_CANCEL, { id, reason });
    expect(errorCodes(again)).toEqual(['CONFLICT']);
  }, 60_000);

  it('squares off a dealer s position on their behalf; audited before/after', async () => {
    const watch = await watchOrders(alice);
    const reason = 'end of day square-off';
    const { squareOff } = await ok<{ squareOff: { orders: DeskOrder[] } }>(M_SQUARE, {
      dealerId: alice.id,
      reason,
    });
    expect(squareOff.orders).toHaveLength(1);
    const [order] = squareOff.orders;
    expect(order).toMatchObject({ side: 'SELL', quantity: 4, dealerId: alice.id });
    expect(order.deskNote).toContain(reason);
    await until(
      () => orderUpdates(watch).some((o) => o.id === order.id && o.status === 'TRADED'),
      'alice sees the square-off order TRADED',
    );
    expect(orderUpdates(watch).find((o) => o.id === order.id)?.deskNote).toContain(reason);
    await eventuallyTrue(async () => {
      const { positions } = await ok<{ positions: { items: DeskPosition[] } }>(Q_POSITIONS, {
        filter: { dealerId: alice.id },
      });
      return positions.items[0]?.netQuantity === 0;
    }, 'alice is flat');

    const row = await auditOf('squareOff');
    expect(row.target).toBe(alice.id);
    expect(JSON.parse(row.payload)).toMatchObject({
      reason,
      before: [{ netQuantity: 4, securityId: equity.securityId }],
      after: [{ orderId: order.id, side: 'SELL', quantity: 4 }],
    });
  }, 60_000);

  it('credits and debits a dealer s funds (audited); a debit beyond available is refused', async () => {
    const before = (await bob.ok<{ funds: { balance: number } }>(FUNDS)).funds.balance;
    const credited = (
      await ok<{
        adjustFunds: { before: { balance: number }; after: { balance: number } };
      }>(M_FUNDS, { dealerId: bob.id, amount: 1234.5, reason: 'pay-in received' })
    ).adjustFunds;
    expect(credited.before.balance).toBe(before);
    expect(credited.after.balance).toBeCloseTo(before + 1234.5, 2);
    expect((await bob.ok<{ funds: { balance: number } }>(FUNDS)).funds.balance).toBeCloseTo(
      before + 1234.5,
      2,
    );
    const credit = await auditOf('creditFunds');
    expect(JSON.parse(credit.payload)).toMatchObject({
      amount: 1234.5,
      reason: 'pay-in received',
      before: { balancePaise: Math.round(before * 100) },
      after: { balancePaise: Math.round((before + 1234.5) * 100) },
    });

    await ok(M_FUNDS, { dealerId: bob.id, amount: -234.5, reason: 'pay-out' });
    expect(JSON.parse((await auditOf('debitFunds')).payload)).toMatchObject({ amount: -234.5 });
    const tooMuch = await as(M_FUNDS, { dealerId: bob.id, amount: -1e9, reason: 'too much' });
    expect(errorCodes(tooMuch)).toEqual(['BAD_USER_INPUT']);
    expect((await bob.ok<{ funds: { balance: number } }>(FUNDS)).funds.balance).toBeCloseTo(
      before + 1000,
      2,
    );
  }, 30_000);

  it('auditLog filters by actor and action and pages; no API changes a row', async () => {
    const mine = (
      await ok<{ auditLog: AuditRow[] }>(Q_AUDIT, { actor: t.admin.username, from: started })
    ).auditLog;
    const actions = new Set(mine.map((r) => r.action));
    for (const a of ['cancelOrder', 'squareOff', 'creditFunds', 'debitFunds']) {
      expect(actions.has(a)).toBe(true);
    }
    expect(mine.every((r) => r.actorUsername === t.admin.username)).toBe(true);
    const one = (await ok<{ auditLog: AuditRow[] }>(Q_AUDIT, { limit: 1, offset: 1 })).auditLog;
    expect(one).toHaveLength(1);
    expect(one[0]).toEqual((await ok<{ auditLog: AuditRow[] }>(Q_AUDIT, { limit: 2 })).auditLog[1]);
    expect(
      (await ok<{ auditLog: AuditRow[] }>(Q_AUDIT, { actor: 'nobody-at-all' })).auditLog,
    ).toEqual([]);
    // The admin schema has no operation that writes or deletes audit rows.
    const r = await as<{ __schema: { mutationType: { fields: { name: string }[] } } }>(
      'query { __schema { mutationType { fields { name } } } }',
    );
    const names = r.data?.__schema.mutationType.fields.map((f) => f.name) ?? [];
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => /audit/i.test(n))).toEqual([]);
  });

  it('a global HALTED reaches the broker s kill switch and shows it; a dealer HALTED does not', async () => {
    const SET = `mutation T($scope: TradingScope!, $state: TradingState!, $userId: ID) {
      setTradingState(scope: $scope, state: $state, userId: $userId, reason: "desk test") {
        state brokerKillSwitch
      }
    }`;
    const sim: DhanSimulator = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    const state = async () =>
      (await ok<{ brokerKillSwitch: string }>('query { brokerKillSwitch }')).brokerKillSwitch;
    expect(await state()).toBe('INACTIVE');
    const dealer = await ok<{ setTradingState: { brokerKillSwitch: string | null } }>(SET, {
      scope: 'USER',
      state: 'HALTED',
      userId: bob.id,
    });
    expect(dealer.setTradingState.brokerKillSwitch).toBeNull();
    expect(await state()).toBe('INACTIVE');

    const halted = await ok<{ setTradingState: { brokerKillSwitch: string } }>(SET, {
      scope: 'GLOBAL',
      state: 'HALTED',
    });
    expect(halted.setTradingState.brokerKillSwitch).toBe('ACTIVE');
    expect(await state()).toBe('ACTIVE');
    expect(sim.orders.killSwitchActive(sim.credentials.clientId)).toBe(true);
    expect(JSON.parse((await auditOf('setTradingState')).payload)).toMatchObject({
      scope: 'GLOBAL',
      state: 'HALTED',
      before: 'ACTIVE',
      brokerKillSwitch: 'ACTIVE',
    });

    const resumed = await ok<{ setTradingState: { brokerKillSwitch: string } }>(SET, {
      scope: 'GLOBAL',
      state: 'ACTIVE',
    });
    expect(resumed.setTradingState.brokerKillSwitch).toBe('INACTIVE');
    await ok(SET, { scope: 'USER', state: 'ACTIVE', userId: bob.id });
    expect(errorCodes(await as('query { brokerKillSwitch }', {}, bob.token))).toEqual([
      'FORBIDDEN',
    ]);
  });

  it('USER tokens are FORBIDDEN on every new admin operation', async () => {
    const operations: [string, Record<string, unknown>][] = [
      [Q_ORDERS, {}],
      [Q_TRADES, {}],
      [Q_POSITIONS, {}],
      [Q_SUMMARY, {}],
      [Q_AUDIT, {}],
      [M_CANCEL, { id: '00000000-0000-4000-8000-000000000000', reason: 'nope' }],
      [M_SQUARE, { dealerId: alice.id, reason: 'nope' }],
      [M_FUNDS, { dealerId: alice.id, amount: 1, reason: 'nope' }],
    ];
    const count = (await ok<{ auditLog: AuditRow[] }>(Q_AUDIT, { limit: 500 })).auditLog.filter(
      (r) => r.action !== 'adminAccessRefused',
    ).length;
    for (const [query, variables] of operations) {
      expect(errorCodes(await as(query, variables, alice.token))).toEqual(['FORBIDDEN']);
    }
    for (const query of [S_DESK, S_FEED]) {
      const probe = subscribe(t.adminWebsocketUrl, query, alice.connectionParams);
      try {
        expect((await probe.closed).code).toBe(4403);
        expect(probe.received).toEqual([]);
      } finally {
        await probe.dispose();
      }
    }
    // Nothing was changed on the refused calls.
    const after = (await ok<{ auditLog: AuditRow[] }>(Q_AUDIT, { limit: 500 })).auditLog.filter(
      (r) => r.action !== 'adminAccessRefused',
    ).length;
    expect(after).toBe(count);
  }, 30_000);

  async function eventuallyStatus(trader: Trader, id: string, status: string) {
    await eventuallyTrue(
      async () => (await trader.order(id))?.status === status,
      `${id} ${status}`,
    );
  }
});

/** Polls an asynchronous read until it holds. */
async function eventuallyTrue(check: () => Promise<boolean>, label: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${label}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
