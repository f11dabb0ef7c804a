import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { ExchangeSegment, type Instrument } from '@app/dhan/types';
import { DhanSimulator } from '@app/dhan-simulator';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { ist } from '../src/calendar/__tests__/calendar.factory';
import { MarketCalendar } from '../src/calendar/market-calendar';
import { Exchange } from '../src/calendar/market-calendar.types';
import {
  DHAN_ENDPOINTS,
  EMBEDDED_SIMULATOR_SEED,
  type DhanEndpoints,
} from '../src/dhan/dhan-endpoints';
import { ExecutionService } from '../src/execution/execution.service';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { FeedPool } from '../src/market-data/feed/feed-pool.service';
import { MarketDataService } from '../src/market-data/market-data.service';
import { ORDERS_UPDATED, type OrderUpdatedEvent } from '../src/orders/orders.events';
import { OrdersService } from '../src/orders/orders.service';
import { valuePaise } from '../src/risk/funds-settlement';
import { chargesFor } from '../src/risk/trade-charges';
import { DayCycleService } from '../src/scheduler/day-cycle.service';
import { until } from './dhan/helpers';
import { tierBCentred } from './market-data.helpers';
import { adminToken, newTrader, Trader, type OrderView } from './orders.helpers';
import { gql } from './utils/graphql-client';
import { ready, readyUntil } from './utils/readiness';
import { createTestApp, persistentDatabase, type TestApp } from './utils/test-app';

/**
 * A trading week on one database and one DhanHQ stand-in that outlives the server: Monday
 * 2027-03-08 to Friday 2027-03-12, Wednesday 2027-03-10 an exchange holiday. The day cycle runs
 * at the week's instants (its controllable clock: 08:45 start of day, 15:15 square-off, 15:30
 * close); sockets, fills and token lifetimes run in real time, compressed: the broker's tokens
 * live 20 s and are renewed 13 s ahead, so "the token expires overnight" happens within the test.
 * Tuesday the server restarts mid-session; Wednesday the token is renewed automatically; Thursday
 * renewal fails, DhanHQ refuses the expired token and an admin sets a new one.
 */
const WEEK = {
  mon: '2027-03-08',
  tue: '2027-03-09',
  wed: '2027-03-10',
  thu: '2027-03-11',
  fri: '2027-03-12',
} as const;
const TOKEN_TTL_MS = 20_000;
const RENEW_BEFORE_MS = 13_000;
const OPENING_PAISE = 1_000_000 * 100;
const FINAL = new Set(['TRADED', 'CANCELLED', 'REJECTED', 'EXPIRED']);

const FUNDS = `query { funds { available used reserved balance realizedPnl charges } }`;
const TRADES = `query { trades { instrument { segment securityId } productType side quantity price } }`;
const ORDERS = `query { orders { id status productType side quantity tag } }`;
const POSITIONS = `query { positions { instrument { segment securityId } productType netQuantity
  carriedQuantity referencePrice } }`;
const SET_TOKEN = `mutation S($token: String!) { setBrokerToken(token: $token) { state source } }`;
const ADJUST = `mutation A($dealerId: ID!, $amount: Float!, $reason: String!) {
  adjustFunds(dealerId: $dealerId, amount: $amount, reason: $reason) { after { balance } } }`;

interface FundsView {
  available: number;
  used: number;
  reserved: number;
  balance: number;
  realizedPnl: number;
  charges: number;
}
interface TradeRow {
  instrument: { segment: string; securityId: string };
  productType: string;
  side: 'BUY' | 'SELL';
  quantity: number;
  price: number;
}
interface PositionRow {
  instrument: { segment: string; securityId: string };
  productType: string;
  netQuantity: number;
  carriedQuantity: number;
  referencePrice: number | null;
}

const paise = (rupees: number) => Math.round(rupees * 100);
const units = (rupees: number) => Math.round(rupees * 10_000);
let keySeq = 0;
const key = (label: string) => `${label}-${++keySeq}-${randomBytes(3).toString('hex')}`;

describe('a trading week without a restart of the broker (e2e, controllable day cycle)', () => {
  let broker: DhanSimulator;
  let brokerUrls: Awaited<ReturnType<DhanSimulator['start']>>;
  let database: Awaited<ReturnType<typeof persistentDatabase>>;
  const secrets = {
    JWT_SECRET: randomBytes(32).toString('hex'),
    ADMIN_USERNAME: 'week-admin',
    ADMIN_PASSWORD: randomBytes(12).toString('hex'),
  };
  let t: TestApp;
  let admin: string;
  let dealerA: Trader;
  let dealerB: Trader;
  let traded: Instrument;
  let watched: Instrument;
  const latest = new Map<string, OrderUpdatedEvent['order']>();
  const adjustmentsPaise = new Map<string, number>();

  async function boot(): Promise<TestApp> {
    const app = await createTestApp(
      {
        ...database.env,
        ...secrets,
        FUNDS_CHARGES: 'on',
        DHAN_API_URL: brokerUrls.apiUrl,
        DHAN_FEED_URL: brokerUrls.feedUrl,
        DHAN_ORDER_UPDATE_URL: brokerUrls.orderUpdateUrl,
        DHAN_INSTRUMENTS_URL: brokerUrls.instrumentsUrl,
      },
      {
        // The operator's token of the day: the broker's current one.
        simulatorOptions: { accessToken: brokerToken() },
        configure: (config) => ({
          ...config,
          dhan: { ...config.dhan, tokenRenewBeforeMs: RENEW_BEFORE_MS },
          orders: { lookupBaseMs: 50, lookupCapMs: 400, notFoundGraceMs: 1_000 },
          marketData: { feedBackoff: { baseMs: 50, capMs: 500 } },
        }),
      },
    );
    app.app
      .get(EventEmitter2)
      .on(ORDERS_UPDATED, (e: OrderUpdatedEvent) => latest.set(e.order.id, e.order));
    await app.app.get(InstrumentsService).ready();
    await app.app.get(ExecutionService).whenReady();
    await app.app.get(OrdersService).whenRecovered();
    await tierBCentred(app.app);
    return app;
  }

  const brokerToken = () => broker.accounts.get(broker.credentials.clientId)!.accessToken;
  const endpoints = () => t.app.get<DhanEndpoints>(DHAN_ENDPOINTS);
  const dayCycle = () => t.app.get(DayCycleService);
  const brokerSets = () =>
    broker.feed
      .connectionInfo(endpoints().clientId)
      .map((c) => Object.values(broker.feed.subscriptions(c.id)).flat().sort().join(','))
      .sort();
  const heldSets = () =>
    t.app
      .get(FeedPool)
      .connections.map((c) =>
        c
          .subscriptions()
          .map((s) => `${s.instrument.segment}:${s.instrument.securityId}`)
          .sort()
          .join(','),
      )
      .sort();
  const atBroker = (i: { segment: string; securityId: string }) =>
    brokerSets().some((set) => set.split(',').includes(`${i.segment}:${i.securityId}`));
  const orderEvents = (): Array<[EventEmitter2, string]> => [
    [t.app.get(EventEmitter2), ORDERS_UPDATED],
  ];
  const untilStatus = (id: string, status: string) =>
    until(() => latest.get(id)?.status === status, `order ${id} ${status}`, orderEvents(), 30_000);

  /** Every Tier B, watchlist and position subscription held by the app is at the broker. */
  async function subscriptionsBack(openPositions: Instrument[]): Promise<void> {
    await tierBCentred(t.app);
    const pool = t.app.get(FeedPool);
    await until(
      () =>
        pool.connected() &&
        broker.feed.connectionInfo(endpoints().clientId).length === 5 &&
        brokerSets().join('|') === heldSets().join('|'),
      'the app s subscriptions at the broker',
      [],
      30_000,
    );
    const refs = Object.fromEntries(
      t.app
        .get(MarketDataService)
        .feedStatus()
        .byTier.map((row) => [row.name, row.references]),
    );
    expect(refs.TIER_B).toBeGreaterThan(0);
    expect(refs.WATCHLIST).toBeGreaterThanOrEqual(1);
    expect(atBroker(watched)).toBe(true);
    for (const instrument of openPositions) expect(atBroker(instrument)).toBe(true);
  }

  async function place(trader: Trader, input: Record<string, unknown>): Promise<OrderView> {
    const order = await trader.place({
      instrument: { segment: traded.segment, securityId: traded.securityId },
      validity: 'DAY',
      clientOrderId: key('week'),
      ...input,
    });
    expect([order.status, order.rejectionReason]).not.toContain('REJECTED');
    return order;
  }

  const market = (trader: Trader, side: string, quantity: number, productType: string) =>
    place(trader, { side, quantity, productType, orderType: 'MARKET' });

  /** A DAY limit far below the market: it stays working until the close. */
  function working(trader: Trader): Promise<OrderView> {
    const mark = broker.market.mark(broker.universe.get(traded.segment, traded.securityId)!).ltp;
    const tick = units(traded.tickSize);
    const price = (Math.round((units(mark) * 0.95) / tick) * tick) / 10_000;
    return place(trader, {
      side: 'BUY',
      quantity: 3,
      productType: 'CNC',
      orderType: 'LIMIT',
      price,
    });
  }

  /**
   * The funds invariant, to the paisa, from the dealer's own trades: realised P&L of each
   * flat position is what its sells brought in less what its buys cost; charges are the
   * shipped rates on each trade's value; balance = opening + realised - charges + adjustments.
   */
  async function fundsHold(trader: Trader): Promise<FundsView> {
    const { funds } = await trader.ok<{ funds: FundsView }>(FUNDS);
    const { trades } = await trader.ok<{ trades: TradeRow[] }>(TRADES);
    const groups = new Map<string, { net: number; units: number; sides: Set<string> }>();
    let chargesPaise = 0;
    for (const trade of trades) {
      const id = `${trade.instrument.segment}|${trade.instrument.securityId}|${trade.productType}`;
      const g = groups.get(id) ?? { net: 0, units: 0, sides: new Set<string>() };
      const sign = trade.side === 'BUY' ? 1 : -1;
      g.net += sign * trade.quantity;
      g.units -= sign * trade.quantity * units(trade.price);
      g.sides.add(trade.side);
      groups.set(id, g);
      chargesPaise += chargesFor(
        trade.instrument.segment,
        trade.side,
        valuePaise(trade.quantity, units(trade.price)),
      ).totalPaise;
    }
    let realisedPaise = 0;
    for (const g of groups.values()) {
      if (g.net === 0) realisedPaise += g.units / 100;
      // An open position here was built from one side only: it has realised nothing yet.
      else expect(g.sides.size).toBe(1);
    }
    expect(chargesPaise).toBeGreaterThan(0);
    expect(paise(funds.realizedPnl)).toBe(realisedPaise);
    expect(paise(funds.charges)).toBe(chargesPaise);
    expect(paise(funds.balance)).toBe(
      OPENING_PAISE + realisedPaise - chargesPaise + (adjustmentsPaise.get(trader.id) ?? 0),
    );
    expect(funds.reserved).toBe(0);
    const flat = [...groups.values()].every((g) => g.net === 0);
    if (flat) expect(funds.used).toBe(0);
    else expect(funds.used).toBeGreaterThan(0);
    return funds;
  }

  /** After the close: nothing working, nothing reserved, no order twice at the broker. */
  async function dayClosed(): Promise<void> {
    for (const trader of [dealerA, dealerB]) {
      const { orders } = await trader.ok<{ orders: Array<{ id: string; status: string }> }>(ORDERS);
      expect(orders.filter((o) => !FINAL.has(o.status))).toEqual([]);
      await fundsHold(trader);
    }
    const byCorrelation = new Map<string, number>();
    for (const o of broker.orders.allOrders()) {
      byCorrelation.set(
        o.correlationId ?? o.orderId,
        (byCorrelation.get(o.correlationId ?? o.orderId) ?? 0) + 1,
      );
    }
    expect([...byCorrelation.values()].filter((n) => n > 1)).toEqual([]);
  }

  async function positions(trader: Trader): Promise<PositionRow[]> {
    return (await trader.ok<{ positions: PositionRow[] }>(POSITIONS)).positions;
  }

  async function startOfDay(date: string, carried: number): Promise<void> {
    const report = await dayCycle().runStartOfDay({ at: ist(`${date}T08:45`) });
    expect(report).toMatchObject({ outcome: 'DONE', tradingDate: date, carried });
  }

  /** 15:15 square-off and 15:30 close; returns once every order has reached a final state. */
  async function closeDay(date: string): Promise<void> {
    const squareOff = await dayCycle().runSquareOff('NSE_BSE', { at: ist(`${date}T15:15`) });
    expect(squareOff).toMatchObject({ outcome: 'DONE', failed: 0 });
    await until(
      () =>
        [...latest.values()].filter((o) => o.tag === 'INTRADAY_SQUARE_OFF').length >=
          squareOff.placed &&
        [...latest.values()]
          .filter((o) => o.tag === 'INTRADAY_SQUARE_OFF')
          .every((o) => FINAL.has(o.status)),
      'square-off orders final',
      orderEvents(),
      30_000,
    );
    const eod = await dayCycle().runEndOfDay('NSE_BSE', { at: ist(`${date}T15:30`) });
    expect(eod).toMatchObject({ outcome: 'DONE', orders: { left: 0 } });
    await until(
      () => [...latest.values()].every((o) => FINAL.has(o.status)),
      'every order final after the close',
      orderEvents(),
      30_000,
    );
    for (const trader of [dealerA, dealerB]) {
      const intraday = (await positions(trader)).filter((p) => p.productType === 'INTRADAY');
      expect(intraday.every((p) => p.netQuantity === 0)).toBe(true);
    }
    await dayClosed();
  }

  /** Dealer A's day: buy 6 and sell 2 intraday (both sides fill), one DAY limit left working. */
  async function dealerADay(): Promise<OrderView> {
    const buy = await market(dealerA, 'BUY', 6, 'INTRADAY');
    await untilStatus(buy.id, 'TRADED');
    const sell = await market(dealerA, 'SELL', 2, 'INTRADAY');
    await untilStatus(sell.id, 'TRADED');
    const left = await working(dealerA);
    await untilStatus(left.id, 'PENDING');
    return left;
  }

  beforeAll(async () => {
    database = await persistentDatabase();
    broker = new DhanSimulator({
      seed: EMBEDDED_SIMULATOR_SEED,
      host: '127.0.0.1',
      tokenTtlMs: TOKEN_TTL_MS,
    });
    brokerUrls = await broker.start();
    t = await boot();
    const calendar = t.app.get(MarketCalendar);
    // The week as the shipped calendar has it (a change to the holiday file shows here first).
    expect(Object.values(WEEK).map((d) => calendar.isTradingDay(Exchange.NSE, d))).toEqual([
      true,
      true,
      false,
      true,
      true,
    ]);
    admin = await adminToken(t);
    dealerA = await newTrader(t, admin, 'week-dealer-a');
    dealerB = await newTrader(t, admin, 'week-dealer-b');
    const equities = t.app
      .get(InstrumentsService)
      .all()
      .filter((i) => i.segment === ExchangeSegment.NSE_EQ && i.instrumentType === 'EQUITY');
    [traded, watched] = [equities[0], equities[1]];
    const list = await dealerA.ok<{ createWatchlist: { id: string } }>(
      `mutation { createWatchlist(name: "week") { id } }`,
    );
    await dealerA.ok(
      `mutation W($id: ID!, $i: InstrumentInput!) { addWatchlistItem(watchlistId: $id, instrument: $i) { id } }`,
      {
        id: list.createWatchlist.id,
        i: { segment: watched.segment, securityId: watched.securityId },
      },
    );
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await broker?.stop();
    await database?.cleanup();
  });

  it('Monday: a full day; dealer B buys delivery that carries into the week', async () => {
    await startOfDay(WEEK.mon, 0);
    await subscriptionsBack([]);
    await dealerADay();
    const cnc = await market(dealerB, 'BUY', 4, 'CNC');
    await untilStatus(cnc.id, 'TRADED');
    await closeDay(WEEK.mon);
  }, 180_000);

  it('Tuesday: a restart mid-session loses nothing (working orders, funds, carried positions, subscriptions)', async () => {
    await startOfDay(WEEK.tue, 1);
    await subscriptionsBack([traded]);
    const left = await dealerADay();
    const before = {
      fundsA: (await dealerA.ok<{ funds: FundsView }>(FUNDS)).funds,
      fundsB: (await dealerB.ok<{ funds: FundsView }>(FUNDS)).funds,
      positionsA: await positions(dealerA),
      positionsB: await positions(dealerB),
    };
    const carriedB = before.positionsB.find((p) => p.productType === 'CNC')!;
    expect(carriedB).toMatchObject({ netQuantity: 4, carriedQuantity: 4 });

    await t.close();
    latest.clear();
    // The operator's token for the new process (the old process renewed it until it stopped).
    broker.issueToken();
    t = await boot();
    dealerA = new Trader(t, dealerA.id, dealerA.token);
    dealerB = new Trader(t, dealerB.id, dealerB.token);
    for (const trader of [dealerA, dealerB]) {
      const { orders } = await trader.ok<{ orders: OrderUpdatedEvent['order'][] }>(ORDERS);
      for (const o of orders) if (!latest.has(o.id)) latest.set(o.id, o);
    }
    expect(latest.get(left.id)?.status).toBe('PENDING');
    expect((await dealerA.ok<{ funds: FundsView }>(FUNDS)).funds).toEqual(before.fundsA);
    expect((await dealerB.ok<{ funds: FundsView }>(FUNDS)).funds.balance).toBe(
      before.fundsB.balance,
    );
    const netOf = (rows: PositionRow[]) =>
      rows.map((p) => [p.instrument.securityId, p.productType, p.netQuantity, p.carriedQuantity]);
    expect(netOf(await positions(dealerA))).toEqual(netOf(before.positionsA));
    expect(await positions(dealerB)).toEqual(
      before.positionsB.map((p) =>
        expect.objectContaining({
          netQuantity: p.netQuantity,
          carriedQuantity: p.carriedQuantity,
          referencePrice: p.referencePrice,
        }),
      ),
    );
    await subscriptionsBack([traded]);
    // The day goes on after the restart: both sides fill again.
    const buy = await market(dealerA, 'BUY', 1, 'INTRADAY');
    await untilStatus(buy.id, 'TRADED');
    await closeDay(WEEK.tue);
  }, 240_000);

  it('Wednesday (holiday): the day cycle skips it; the broker token is renewed before it expires, nothing pauses', async () => {
    const token = endpoints().token;
    const first = endpoints().accessToken();
    const renewed = new Promise<void>((resolve) => {
      const listener = (change: { source: string }) => {
        if (change.source !== 'renewal') return;
        token.off('changed', listener);
        resolve();
      };
      token.on('changed', listener);
    });
    // NSE and BSE are closed; MCX keeps its evening session on some holidays (the calendar's say).
    const mcxOpens = t.app.get(MarketCalendar).isTradingDay(Exchange.MCX, WEEK.wed);
    const sod = await dayCycle().runStartOfDay({ at: ist(`${WEEK.wed}T08:45`) });
    expect(sod).toMatchObject(
      mcxOpens
        ? { outcome: 'DONE', carried: 1 }
        : { outcome: 'SKIPPED', reason: 'not a trading day' },
    );
    await renewed;
    expect(endpoints().accessToken()).not.toBe(first);
    expect(token.status()).toMatchObject({ state: 'VALID', source: 'renewal' });
    expect(t.app.get(FeedPool).pauseState().paused).toBe(false);
    const squareOff = await dayCycle().runSquareOff('NSE_BSE', { at: ist(`${WEEK.wed}T15:15`) });
    expect(squareOff.outcome).toBe('SKIPPED');
    const eod = await dayCycle().runEndOfDay('NSE_BSE', { at: ist(`${WEEK.wed}T15:30`) });
    expect(eod.outcome).toBe('SKIPPED');
    // The delivery position is still carried, untouched by the holiday.
    expect((await positions(dealerB)).find((p) => p.productType === 'CNC')).toMatchObject({
      netQuantity: 4,
    });
    await dayClosed();
  }, 120_000);

  it('Thursday: renewal fails, DhanHQ refuses the expired token, an admin sets a new one and everything resumes', async () => {
    await startOfDay(WEEK.thu, 1);
    await subscriptionsBack([traded]);
    const token = endpoints().token;
    const refused = once(token, 'refused');
    broker.rest.failWith({ pattern: /RenewToken/, status: 500 });
    await refused;
    await until(() => t.app.get(FeedPool).pauseState().paused, 'the feed paused', [], 30_000);
    const notReady = await ready(t);
    expect(notReady.status).toBe(503);
    expect(notReady.body.checks['broker-token']).toBe('down');

    broker.rest.clearFaults();
    const set = await gql<{ setBrokerToken: { state: string; source: string } }>(
      t.adminUrl,
      SET_TOKEN,
      { token: broker.issueToken() },
      admin,
    );
    expect(set.errors).toBeUndefined();
    expect(set.data?.setBrokerToken).toMatchObject({ state: 'VALID', source: 'admin' });
    await until(
      () => broker.orderUpdates.sessionCount(endpoints().clientId) === 1,
      'the order-update socket back',
      [],
      30_000,
    );
    await subscriptionsBack([traded]);
    expect((await readyUntil(t, (answer) => answer.status === 200)).status).toBe(200);

    await dealerADay();
    // Dealer B takes the delivery position off: flat again.
    const sell = await market(dealerB, 'SELL', 4, 'CNC');
    await untilStatus(sell.id, 'TRADED');
    await closeDay(WEEK.thu);
  }, 240_000);

  it('Friday: a short intraday squared off, an admin credit, and the week ends with every invariant', async () => {
    await startOfDay(WEEK.fri, 0);
    await subscriptionsBack([]);
    await dealerADay();
    const short = await market(dealerB, 'SELL', 3, 'INTRADAY');
    await untilStatus(short.id, 'TRADED');
    const credit = await gql(
      t.adminUrl,
      ADJUST,
      { dealerId: dealerA.id, amount: 5_000, reason: 'weekly incentive' },
      admin,
    );
    expect(credit.errors).toBeUndefined();
    adjustmentsPaise.set(dealerA.id, 5_000 * 100);
    await closeDay(WEEK.fri);
    const squaredOff = [...latest.values()].filter(
      (o) => o.tag === 'INTRADAY_SQUARE_OFF' && o.side === 'BUY' && o.status === 'TRADED',
    );
    expect(squaredOff.length).toBeGreaterThanOrEqual(1);
    // Every order the server sent exists once at the broker; none was sent twice all week.
    const { orders } = await dealerA.ok<{ orders: Array<{ id: string }> }>(ORDERS);
    expect(orders.length).toBeGreaterThanOrEqual(13);
  }, 180_000);
});
