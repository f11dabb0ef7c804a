import type { Instrument } from '@app/dhan/types';
import type { DhanSimulator } from '@app/dhan-simulator';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { ExecutionService } from '../src/execution/execution.service';
import { MarketDataService } from '../src/market-data/market-data.service';
import { ORDER_TRANSITION, type OrderTransitionEvent } from '../src/orders/orders.events';
import { until } from './dhan/helpers';
import {
  adminToken,
  anEquity,
  brokerOrdersFor,
  newTrader,
  ordersConfig,
  type Trader,
} from './orders.helpers';
import { gql } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

const SET_LIMITS = `mutation S($userId: ID, $input: RiskLimitsInput!) {
  setRiskLimits(userId: $userId, input: $input) { priceCollarBps }
}`;

let keySeq = 0;
const key = (label: string) => `${label}-${Date.now()}-${++keySeq}`;

describe("circuit limits from DhanHQ's quote in the collar (e2e)", () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let emitter: EventEmitter2;
  let equity: Instrument;
  let trader: Trader;
  const statusOf = new Map<string, string>();

  beforeAll(async () => {
    t = await createTestApp({ MARKET_PROTECTION_PERCENT: '20' }, { configure: ordersConfig });
    sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    emitter = t.app.get(EventEmitter2);
    emitter.on(ORDER_TRANSITION, (e: OrderTransitionEvent) => statusOf.set(e.orderId, e.to));
    await t.app.get(ExecutionService).whenReady();
    equity = await anEquity(t);
    const admin = await adminToken(t);
    trader = await newTrader(t, admin, 'circuit');
    // A 50 % collar: only the circuit limits can refuse the prices below.
    const set = await gql(
      t.adminUrl,
      SET_LIMITS,
      { userId: trader.id, input: { priceCollarBps: 5_000 } },
      admin,
    );
    expect(set.errors).toBeUndefined();
  }, 90_000);

  afterAll(async () => {
    await t?.close();
  });

  it("the quote gives the day's limits; a MARKET buy is clamped to the upper circuit and a LIMIT above it is refused", async () => {
    sim.market.setVolatilityScale(0);
    const inst = sim.universe.get(equity.segment, equity.securityId)!;
    const { prevClose, ltp } = sim.market.mark(inst);
    const walk = sim.universe.walks[inst.walk].name;
    // 5 % above the previous close: LTP + 20 % is past the upper circuit (previous close + 20 %).
    sim.market.setLevel(walk, (sim.market.level(walk)! * prevClose * 1.05) / ltp);

    // Nobody streams it yet: the quote comes from DhanHQ's REST quote, limits included.
    const quote = await trader.ok<{ quote: { ltp: number } }>(
      `query Q($s: ExchangeSegment!, $id: String!) { quote(segment: $s, securityId: $id) { ltp } }`,
      { s: equity.segment, id: equity.securityId },
    );
    expect(quote.quote.ltp).toBeGreaterThan(prevClose);
    const limits = t.app
      .get(MarketDataService)
      .circuitLimits(equity.segment, equity.securityId, Date.now());
    const upper = Math.round(prevClose * 1.2 * 100) / 100;
    expect(limits).toEqual({ upper, lower: Math.round(prevClose * 0.8 * 100) / 100 });

    const tick = Math.round(equity.tickSize * 10_000);
    const upperOnTick = (Math.floor(Math.round(upper * 10_000) / tick) * tick) / 10_000;
    const order = (over: Record<string, unknown>) => ({
      clientOrderId: key('c'),
      instrument: { segment: equity.segment, securityId: equity.securityId },
      side: 'BUY',
      quantity: 1,
      productType: 'INTRADAY',
      validity: 'DAY',
      ...over,
    });

    const market = await trader.place(order({ orderType: 'MARKET' }));
    await until(
      () => brokerOrdersFor(sim, market.id).length === 1 || statusOf.get(market.id) === 'REJECTED',
      'the MARKET order at the simulator',
      [[emitter, ORDER_TRANSITION]],
    );
    expect((await trader.order(market.id))?.rejectionReason ?? null).toBeNull();
    const [atBroker] = brokerOrdersFor(sim, market.id);
    expect(atBroker).toMatchObject({ orderType: 'LIMIT', price: upperOnTick });

    const above = await trader.place(
      order({ orderType: 'LIMIT', price: (Math.round(upperOnTick * 10_000) + tick) / 10_000 }),
    );
    expect(above).toMatchObject({ status: 'REJECTED', rejectionReason: 'PRICE_OUTSIDE_COLLAR' });
    const at = await trader.place(order({ orderType: 'LIMIT', price: upperOnTick }));
    expect(at.rejectionReason).toBeNull();
  }, 60_000);
});
