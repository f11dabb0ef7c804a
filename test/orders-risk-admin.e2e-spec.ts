import type { Instrument } from '@app/dhan/types';
import type { DhanSimulator } from '@app/dhan-simulator';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { ExecutionService } from '../src/execution/execution.service';
import { ORDERS_UPDATED, type OrderUpdatedEvent } from '../src/orders/orders.events';
import { until } from './dhan/helpers';
import {
  adminToken,
  anEquity,
  codes,
  newTrader,
  ordersConfig,
  priceNear,
  type Trader,
} from './orders.helpers';
import { gql } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

const LIMITS_FIELDS = 'userId maxQuantityPerOrder maxOrderValuePaise maxOpenOrders rateWindowMs';
const RISK_LIMITS = `query L($userId: ID) { riskLimits(userId: $userId) { ${LIMITS_FIELDS} } }`;
const SET_RISK_LIMITS = `mutation S($userId: ID, $input: RiskLimitsInput!) {
  setRiskLimits(userId: $userId, input: $input) { ${LIMITS_FIELDS} }
}`;
const SET_TRADING_STATE = `mutation T($scope: TradingScope!, $userId: ID, $state: TradingState!, $reason: String) {
  setTradingState(scope: $scope, userId: $userId, state: $state, reason: $reason) {
    scope userId state reason
  }
}`;
const AUDIT = `query { auditLog(limit: 20) { action target } }`;

let keySeq = 0;

describe('admin risk controls (e2e: riskLimits, setRiskLimits, setTradingState)', () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let admin: string;
  let alice: Trader;
  let equity: Instrument;
  let emitter: EventEmitter2;
  const latest = new Map<string, string>();

  const asAdmin = (query: string, variables: Record<string, unknown> = {}) =>
    gql<Record<string, unknown>>(t.adminUrl, query, variables, admin);

  const order = (overrides: Record<string, unknown> = {}) => ({
    clientOrderId: `admin-${Date.now()}-${++keySeq}`,
    instrument: { segment: equity.segment, securityId: equity.securityId },
    side: 'BUY',
    quantity: 1,
    orderType: 'LIMIT',
    productType: 'INTRADAY',
    validity: 'DAY',
    price: priceNear(sim, equity, 0.95),
    ...overrides,
  });

  beforeAll(async () => {
    t = await createTestApp({}, { configure: ordersConfig });
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    await t.app.get(ExecutionService).whenReady();
    equity = await anEquity(t);
    emitter = t.app.get(EventEmitter2);
    emitter.on(ORDERS_UPDATED, (e: OrderUpdatedEvent) => latest.set(e.order.id, e.order.status));
    admin = await adminToken(t);
    alice = await newTrader(t, admin, 'alice');
  });

  afterAll(async () => {
    await t?.close();
  });

  it('reads the defaults, sets a user s limits (audited) and RMS applies them', async () => {
    const defaults = await asAdmin(RISK_LIMITS);
    expect(defaults.data?.riskLimits).toMatchObject({ userId: null, maxQuantityPerOrder: 100_000 });

    const set = await asAdmin(SET_RISK_LIMITS, {
      userId: alice.id,
      input: { maxQuantityPerOrder: 5 },
    });
    expect(set.errors).toBeUndefined();
    expect(set.data?.setRiskLimits).toMatchObject({ userId: alice.id, maxQuantityPerOrder: 5 });
    expect((await asAdmin(RISK_LIMITS, { userId: alice.id })).data?.riskLimits).toMatchObject({
      maxQuantityPerOrder: 5,
      maxOpenOrders: 50,
    });
    expect(await alice.place(order({ quantity: 6 }))).toMatchObject({
      status: 'REJECTED',
      rejectionReason: 'QTY_ABOVE_MAX',
    });
    const audit = (await asAdmin(AUDIT)).data?.auditLog as Array<{
      action: string;
      target: string;
    }>;
    expect(audit).toContainEqual({ action: 'setRiskLimits', target: alice.id });
  });

  it('refuses invalid limits and unknown users, changing nothing', async () => {
    const bad = await asAdmin(SET_RISK_LIMITS, { userId: alice.id, input: { rateWindowMs: 0 } });
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    const unknown = await asAdmin(SET_RISK_LIMITS, {
      userId: '00000000-0000-4000-8000-000000000000',
      input: { maxOpenOrders: 1 },
    });
    expect(codes(unknown)).toEqual(['NOT_FOUND']);
    expect((await asAdmin(RISK_LIMITS, { userId: alice.id })).data?.riskLimits).toMatchObject({
      rateWindowMs: 1_000,
    });
  });

  it('GLOBAL HALTED denies new orders and the broker s kill switch cancels working ones; ACTIVE again lets them through', async () => {
    const working = await alice.place(order());
    await until(() => latest.get(working.id) === 'PENDING', 'PENDING', [[emitter, ORDERS_UPDATED]]);
    const halted = await asAdmin(SET_TRADING_STATE, {
      scope: 'GLOBAL',
      state: 'HALTED',
      reason: 'incident',
    });
    expect(halted.data?.setTradingState).toMatchObject({
      scope: 'GLOBAL',
      userId: null,
      state: 'HALTED',
      reason: 'incident',
    });
    expect(await alice.place(order())).toMatchObject({
      status: 'REJECTED',
      rejectionReason: 'TRADING_HALTED',
    });
    // The global halt reached the broker's kill switch, which cancels the working orders there.
    await until(() => latest.get(working.id) === 'CANCELLED', 'CANCELLED by the kill switch', [
      [emitter, ORDERS_UPDATED],
    ]);
    await asAdmin(SET_TRADING_STATE, { scope: 'GLOBAL', state: 'ACTIVE' });
    expect((await alice.place(order())).status).not.toBe('REJECTED');
    const audit = (await asAdmin(AUDIT)).data?.auditLog as Array<{
      action: string;
      target: string;
    }>;
    expect(audit.filter((a) => a.action === 'setTradingState')).toHaveLength(2);
  });

  it('USER scope needs a known userId; a plain user cannot reach the admin schema', async () => {
    expect(codes(await asAdmin(SET_TRADING_STATE, { scope: 'USER', state: 'HALTED' }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    const user = await asAdmin(SET_TRADING_STATE, {
      scope: 'USER',
      userId: alice.id,
      state: 'REDUCING',
    });
    expect(user.data?.setTradingState).toMatchObject({ scope: 'USER', userId: alice.id });
    expect(await alice.place(order())).toMatchObject({
      status: 'REJECTED',
      rejectionReason: 'REDUCE_ONLY',
    });
    const denied = await gql(
      t.adminUrl,
      SET_TRADING_STATE,
      { scope: 'GLOBAL', state: 'HALTED' },
      alice.token,
    );
    expect(codes(denied)[0]).toMatch(/FORBIDDEN|UNAUTHENTICATED/);
  });
});
