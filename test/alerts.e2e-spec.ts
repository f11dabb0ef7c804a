import * as crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Instrument } from '@app/dhan/types';
import type { DhanSimulator } from '@app/dhan-simulator';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { ALERT_FIRED, type AlertFiredEvent } from '../src/alerts/alerts.events';
import { AlertsService } from '../src/alerts/alerts.service';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import { correlationIdFor } from '../src/execution/domain';
import { ExecutionService } from '../src/execution/execution.service';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { MarketDataService } from '../src/market-data/market-data.service';
import { TickStore } from '../src/market-data/ticks/tick-store';
import { BasketService } from '../src/orders/baskets/basket.service';
import { OrdersService } from '../src/orders/orders.service';
import { until } from './dhan/helpers';
import { Trader, adminToken, codes, newTrader, ordersConfig } from './orders.helpers';
import { subscribe } from './utils/graphql-client';
import { metricValue } from './utils/metrics';
import { createTestApp, persistentDatabase, type TestApp } from './utils/test-app';

const ALERT_FIELDS = `id status armed firedCount placesOrder level rearmBand
  firings { id value actionStatus orderId basketId message }`;
const CREATE = `mutation C($input: CreateAlertInput!) { createAlert(input: $input) { ${ALERT_FIELDS} } }`;
const DELETE = `mutation D($id: ID!) { deleteAlert(id: $id) { id status } }`;
const ALERTS = `query { alerts { ${ALERT_FIELDS} } }`;
const ORDERS = `query { orders { id clientOrderId status } }`;
const BASKET = `query B($id: ID!) { basket(id: $id) { id status origin legs { clientOrderId order { id } } } }`;
const ALERTS_SUB = `subscription { alerts { id alertId value actionStatus } }`;

interface Alert {
  id: string;
  status: string;
  armed: boolean;
  firedCount: number;
  placesOrder: boolean;
  firings: Array<{
    id: string;
    value: number;
    actionStatus: string;
    orderId: string | null;
    basketId: string | null;
    message: string | null;
  }>;
}

/** Ticks often, so a moved price reaches the server soon. */
const simulatorOptions = { market: { tickRate: () => 10 } };

/** Test-side view of one app: price moves on the simulator, evaluations on the server. */
class Desk {
  readonly sim: DhanSimulator;
  readonly emitter: EventEmitter2;
  readonly marketData: MarketDataService;
  readonly fired: AlertFiredEvent[] = [];
  /** Emits 'flush' after each fan-out flush (each drain of the tick store is evaluated first). */
  readonly flushes = new EventEmitter();

  constructor(readonly t: TestApp) {
    this.sim = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS).simulator!;
    this.emitter = t.app.get(EventEmitter2);
    this.marketData = t.app.get(MarketDataService);
    this.emitter.on(ALERT_FIRED, (e: AlertFiredEvent) => this.fired.push(e));
    this.marketData.onFanoutFlush(() => this.flushes.emit('flush'));
    // Prices move only when a test moves them.
    this.sim.market.setVolatilityScale(0);
  }

  firingsOf(alertId: string, actionStatus?: string): AlertFiredEvent[] {
    return this.fired.filter(
      (e) =>
        e.firing.alertId === alertId &&
        (actionStatus === undefined || e.firing.actionStatus === actionStatus),
    );
  }

  simPrice(i: Instrument): number {
    return this.sim.market.mark(this.sim.universe.get(i.segment, i.securityId)!).ltp;
  }

  /** Puts the instrument's price at `target` (its underlying walk moved proportionally). */
  moveTo(i: Instrument, target: number): void {
    const inst = this.sim.universe.get(i.segment, i.securityId)!;
    const walk = this.sim.universe.walks[inst.walk].name;
    const level = this.sim.market.level(walk)!;
    this.sim.market.setLevel(walk, (level * target) / this.simPrice(i));
  }

  /** Resolves once the server's record shows ~`target`, fresh, and has been evaluated. */
  evaluatedAt(i: Instrument, target: number): Promise<void> {
    return until(
      () => {
        const rec = this.marketData.record(i.segment, i.securityId);
        return (
          rec !== undefined &&
          !rec.stale &&
          !rec.dirty &&
          Math.abs(rec.ltp - target) / target < 0.003
        );
      },
      `${i.symbol} evaluated at ${target}`,
      [[this.flushes, 'flush']],
      20_000,
    );
  }
}

function busyEquities(t: TestApp, n: number): Instrument[] {
  return t.app
    .get(InstrumentsService)
    .all()
    .filter((i) => i.segment === 'NSE_EQ' && i.instrumentType === 'EQUITY')
    .slice(0, n);
}

const ltpAlert = (i: Instrument, condition: string, level: number, extra = {}) => ({
  instrument: { segment: i.segment, securityId: i.securityId },
  metric: 'LTP',
  condition,
  level,
  ...extra,
});

async function create(trader: Trader, input: Record<string, unknown>): Promise<Alert> {
  return (await trader.ok<{ createAlert: Alert }>(CREATE, { input })).createAlert;
}

async function alertsOf(trader: Trader): Promise<Alert[]> {
  return (await trader.ok<{ alerts: Alert[] }>(ALERTS)).alerts;
}

describe('server-side alerts (e2e: simulator prices moved over real sockets)', () => {
  let t: TestApp;
  let desk: Desk;
  let admin: string;
  let equities: Instrument[];

  beforeAll(async () => {
    t = await createTestApp({}, { configure: ordersConfig, simulatorOptions });
    desk = new Desk(t);
    await t.app.get(ExecutionService).whenReady();
    await t.app.get(AlertsService).whenLoaded();
    admin = await adminToken(t);
    equities = busyEquities(t, 3);
  }, 90_000);

  afterAll(async () => {
    await t?.close();
  });

  it('a crossing fires once (hysteresis), again only after re-arming; firings reach their owner only', async () => {
    const owner = await newTrader(t, admin, 'alert-owner');
    const stranger = await newTrader(t, admin, 'alert-stranger');
    const mine = subscribe(t.graphqlUrl, ALERTS_SUB, owner.connectionParams);
    const theirs = subscribe(t.graphqlUrl, ALERTS_SUB, stranger.connectionParams);
    try {
      await Promise.all([mine.connected, theirs.connected]);
      await until(() => desk.emitter.listenerCount(ALERT_FIRED) >= 3, 'both subscribed');
      const e = equities[0];
      const p = desk.simPrice(e);
      const level = p * 1.04;
      const firedBefore = await metricValue(t.baseUrl, 'alerts_fired_total');
      const activeBefore = await metricValue(t.baseUrl, 'alerts_active');
      const alert = await create(owner, ltpAlert(e, 'ABOVE', level, { rearmBand: p * 0.02 }));
      expect(await metricValue(t.baseUrl, 'alerts_active')).toBe(activeBefore + 1);
      expect(alert).toMatchObject({ status: 'ACTIVE', armed: true, firedCount: 0 });
      await desk.evaluatedAt(e, desk.simPrice(e));
      expect(desk.firingsOf(alert.id)).toHaveLength(0);

      desk.moveTo(e, p * 1.06);
      await until(() => desk.firingsOf(alert.id).length === 1, 'the first firing', [
        [desk.emitter, ALERT_FIRED],
      ]);
      expect(desk.firingsOf(alert.id)[0].firing.value).toBeGreaterThanOrEqual(level);

      // Back under the level but within the band, then above again: not re-armed, no firing.
      desk.moveTo(e, p * 1.03);
      await desk.evaluatedAt(e, desk.simPrice(e));
      desk.moveTo(e, p * 1.06);
      await desk.evaluatedAt(e, desk.simPrice(e));
      expect(desk.firingsOf(alert.id)).toHaveLength(1);
      expect((await alertsOf(owner))[0]).toMatchObject({ armed: false, firedCount: 1 });

      // Past the band: re-armed; the next crossing fires again.
      desk.moveTo(e, p * 0.99);
      await desk.evaluatedAt(e, desk.simPrice(e));
      expect((await alertsOf(owner))[0].armed).toBe(true);
      desk.moveTo(e, p * 1.06);
      await until(() => desk.firingsOf(alert.id).length === 2, 'the second firing', [
        [desk.emitter, ALERT_FIRED],
      ]);

      await until(() => mine.received.length === 2, 'two firings on the owner socket');
      // On /metrics: two firings stored, the tick path checked.
      expect(await metricValue(t.baseUrl, 'alerts_fired_total')).toBe(firedBefore + 2);
      expect(await metricValue(t.baseUrl, 'alerts_evaluations_total')).toBeGreaterThan(0);
      const [listed] = await alertsOf(owner);
      expect(listed).toMatchObject({ firedCount: 2, armed: false });
      expect(listed.firings).toHaveLength(2);
      expect(listed.firings.every((f) => f.actionStatus === 'NONE')).toBe(true);
      expect(theirs.received).toHaveLength(0);
      expect(await alertsOf(stranger)).toHaveLength(0);
      expect(codes(await stranger.call(DELETE, { id: alert.id }))).toEqual(['NOT_FOUND']);

      const deleted = await owner.ok<{ deleteAlert: { status: string } }>(DELETE, { id: alert.id });
      expect(deleted.deleteAlert.status).toBe('DELETED');
      expect(await alertsOf(owner)).toHaveLength(0);
      expect(await metricValue(t.baseUrl, 'alerts_active')).toBe(activeBefore);
    } finally {
      await mine.dispose();
      await theirs.dispose();
    }
  }, 90_000);

  it('a stale instrument fires nothing, even with its last price past the level; fresh again, it fires once', async () => {
    const trader = await newTrader(t, admin, 'alert-stale');
    const e = equities[1];
    // A first alert far away puts the instrument on the feed.
    await create(trader, ltpAlert(e, 'ABOVE', desk.simPrice(e) * 10));
    await desk.evaluatedAt(e, desk.simPrice(e));
    const connection = desk.sim.feed
      .connectionInfo()
      .find((c) =>
        Object.values(desk.sim.feed.subscriptions(c.id)).some((l) =>
          l.includes(`${e.segment}:${e.securityId}`),
        ),
      )!.id;
    // The connection goes quiet and its instruments are marked stale, as the feed pool does
    // when a connection drops.
    desk.sim.feed.goSilent(connection, { answerPings: true });
    const key = desk.marketData.instrumentKeyOf(e.segment, e.securityId);
    t.app.get(TickStore).markConnectionStale([key]);
    expect(desk.marketData.record(e.segment, e.securityId)!.stale).toBe(true);

    const last = desk.marketData.record(e.segment, e.securityId)!.ltp;
    const alert = await create(trader, ltpAlert(e, 'ABOVE', last * 0.5));
    expect(alert).toMatchObject({ armed: true, firedCount: 0 });
    let flushes = 0;
    const count = () => flushes++;
    desk.flushes.on('flush', count);
    await until(() => flushes >= 5, 'five flushes while stale', [[desk.flushes, 'flush']]);
    desk.flushes.off('flush', count);
    expect(desk.firingsOf(alert.id)).toHaveLength(0);

    desk.sim.feed.resume(connection);
    await until(() => desk.firingsOf(alert.id).length === 1, 'the firing once fresh', [
      [desk.emitter, ALERT_FIRED],
    ]);
    await desk.evaluatedAt(e, desk.simPrice(e));
    expect(desk.firingsOf(alert.id)).toHaveLength(1);
  }, 90_000);

  it('IV: an alert on an option keeps its chain analysed and fires on the solved IV, as optionChain shows it', async () => {
    const trader = await newTrader(t, admin, 'alert-iv');
    const instruments = t.app.get(InstrumentsService);
    const nifty = desk.sim.market.level('NIFTY')!;
    const calls = instruments
      .all()
      .filter((i) => i.segment === 'NSE_FNO' && i.underlying === 'NIFTY' && i.optionType === 'CE');
    const expiry = calls.map((i) => i.expiry!).sort()[0];
    const option = calls
      .filter((i) => i.expiry === expiry)
      .sort((a, b) => Math.abs(a.strike! - nifty) - Math.abs(b.strike! - nifty))[0];
    const alert = await create(trader, {
      instrument: { segment: option.segment, securityId: option.securityId },
      metric: 'IV',
      condition: 'ABOVE',
      level: 0.01,
    });
    await until(() => desk.firingsOf(alert.id).length === 1, 'the IV firing', [
      [desk.emitter, ALERT_FIRED],
    ]);
    const value = desk.firingsOf(alert.id)[0].firing.value;
    expect(value).toBeGreaterThan(0.01);
    const chain = await trader.ok<{
      optionChain: {
        strikes: Array<{ strike: number; call: { analytics: { iv: number | null } } | null }>;
      };
    }>(
      `query C($u: String!, $e: Date) { optionChain(underlying: $u, expiry: $e) {
        strikes { strike call { analytics { iv } } } } }`,
      { u: 'NIFTY', e: expiry },
    );
    const shown = chain.optionChain.strikes.find((x) => x.strike === option.strike)!.call!.analytics
      .iv!;
    // Prices are frozen: the IV moves only with the time to expiry between the two reads.
    expect(Math.abs(shown - value) / value).toBeLessThan(0.01);
    await trader.ok(DELETE, { id: alert.id });
  }, 60_000);

  it('bad input changes nothing: IV on an equity, an order and a basket at once, an unknown instrument', async () => {
    const trader = await newTrader(t, admin, 'alert-bad');
    const e = equities[2];
    const order = {
      instrument: { segment: e.segment, securityId: e.securityId },
      side: 'BUY',
      quantity: 1,
      orderType: 'MARKET',
      productType: 'INTRADAY',
      validity: 'DAY',
    };
    const bad = [
      { ...ltpAlert(e, 'ABOVE', 1), metric: 'IV' },
      ltpAlert(e, 'ABOVE', 1, { order, basket: { legs: [order] } }),
      ltpAlert(e, 'ABOVE', 1, { order: { ...order, quantity: 0 } }),
    ];
    for (const input of bad) {
      expect(codes(await trader.call(CREATE, { input }))).toEqual(['BAD_USER_INPUT']);
    }
    expect(
      codes(
        await trader.call(CREATE, {
          input: ltpAlert({ ...e, securityId: '99999999' }, 'ABOVE', 1),
        }),
      ),
    ).toEqual(['NOT_FOUND']);
    expect(await alertsOf(trader)).toHaveLength(0);
  }, 60_000);
});

describe('alerts that place an order or a basket, across a restart (e2e)', () => {
  it('each places exactly once: an order placed before the restart is not placed again, a basket stored but not yet placed is placed at boot', async () => {
    const db = await persistentDatabase();
    const env = {
      ...db.env,
      JWT_SECRET: crypto.randomBytes(32).toString('hex'),
      ADMIN_USERNAME: 'alerts-admin',
      ADMIN_PASSWORD: crypto.randomBytes(12).toString('hex'),
    };
    const options = { configure: ordersConfig, simulatorOptions };
    let second: TestApp | undefined;
    try {
      const first = await createTestApp(env, options);
      let trader: Trader;
      let orderAlert: string;
      let basketAlert: string;
      let orderKey: string;
      let e: Instrument;
      try {
        const desk = new Desk(first);
        await first.app.get(ExecutionService).whenReady();
        await first.app.get(AlertsService).whenLoaded();
        trader = await newTrader(first, await adminToken(first), 'ato-dealer');
        [e] = busyEquities(first, 1);
        const p = desk.simPrice(e);
        const tick = e.tickSize;
        const on = (x: number) => Math.round(x / tick) * tick;
        const leg = (price: number) => ({
          instrument: { segment: e.segment, securityId: e.securityId },
          side: 'BUY',
          quantity: 1,
          orderType: 'LIMIT',
          price: on(price),
          productType: 'INTRADAY',
          validity: 'DAY',
        });
        orderAlert = (
          await create(trader, ltpAlert(e, 'ABOVE', p * 1.04, { order: leg(p * 1.05) }))
        ).id;
        basketAlert = (
          await create(
            trader,
            ltpAlert(e, 'ABOVE', p * 1.04, { basket: { legs: [leg(p * 1.02), leg(p * 1.01)] } }),
          )
        ).id;
        // The process stops after the basket's firing is stored, before the basket is placed.
        jest
          .spyOn(first.app.get(BasketService), 'place')
          .mockImplementation(() => new Promise(() => undefined));

        desk.moveTo(e, p * 1.06);
        await until(
          () =>
            desk.firingsOf(orderAlert, 'DONE').length === 1 &&
            desk.firingsOf(basketAlert, 'PENDING').length === 1,
          'the order placed and the basket firing stored',
          [[desk.emitter, ALERT_FIRED]],
        );
        const done = desk.firingsOf(orderAlert, 'DONE')[0].firing;
        orderKey = `ATO-${done.id}`;
        expect(
          desk.sim.orders
            .allOrders()
            .filter((o) => o.correlationId === correlationIdFor(done.orderId!)),
        ).toHaveLength(1);
      } finally {
        await first.close();
      }

      second = await createTestApp(env, options);
      const desk = new Desk(second);
      await second.app.get(ExecutionService).whenReady();
      await second.app.get(OrdersService).whenRecovered();
      await second.app.get(AlertsService).whenLoaded();
      const again = new Trader(second, trader.id, trader.token);

      const alerts = await alertsOf(again);
      const byId = new Map(alerts.map((a) => [a.id, a]));
      expect(byId.get(orderAlert)).toMatchObject({ status: 'TRIGGERED', firedCount: 1 });
      expect(byId.get(orderAlert)!.firings).toHaveLength(1);
      expect(byId.get(orderAlert)!.firings[0].actionStatus).toBe('DONE');
      const basketFiring = byId.get(basketAlert)!.firings;
      expect(byId.get(basketAlert)).toMatchObject({ status: 'TRIGGERED', firedCount: 1 });
      expect(basketFiring).toHaveLength(1);
      expect(basketFiring[0]).toMatchObject({ actionStatus: 'DONE', message: null });

      const basket = (
        await again.ok<{
          basket: { status: string; origin: string; legs: Array<{ order: { id: string } | null }> };
        }>(BASKET, { id: basketFiring[0].basketId })
      ).basket;
      expect(basket).toMatchObject({ status: 'PLACED', origin: `alert:${basketAlert}` });
      // Each leg once at the (restarted) broker; the earlier order not sent again.
      for (const l of basket.legs) {
        expect(
          desk.sim.orders
            .allOrders()
            .filter((o) => o.correlationId === correlationIdFor(l.order!.id)),
        ).toHaveLength(1);
      }
      const orders = (
        await again.ok<{ orders: Array<{ id: string; clientOrderId: string }> }>(ORDERS)
      ).orders;
      expect(orders.filter((o) => o.clientOrderId === orderKey)).toHaveLength(1);
      expect(orders).toHaveLength(3);
      const orderId = byId.get(orderAlert)!.firings[0].orderId!;
      expect(
        desk.sim.orders.allOrders().filter((o) => o.correlationId === correlationIdFor(orderId)),
      ).toHaveLength(0);

      // Past the level again on this boot: triggered alerts fire no more.
      desk.moveTo(e, desk.simPrice(e) * 1.06);
      await desk.evaluatedAt(e, desk.simPrice(e));
      // The only firing told on this boot is the stored one, as its basket was placed.
      expect(desk.fired.map((f) => [f.firing.id, f.firing.actionStatus])).toEqual([
        [basketFiring[0].id, 'DONE'],
      ]);
    } finally {
      await second?.close();
      await db.cleanup();
    }
  }, 180_000);
});
