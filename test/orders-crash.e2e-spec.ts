import { randomBytes } from 'node:crypto';
import { ExchangeSegment, type Instrument } from '@app/dhan/types';
import { DhanSimulator } from '@app/dhan-simulator';
import { EMBEDDED_SIMULATOR_SEED } from '../src/dhan/dhan-endpoints';
import { orderIdFromCorrelationId } from '../src/execution/domain/correlation-id';
import {
  CANCEL,
  FUNDS,
  ORDERS,
  PLACE,
  brokerOrdersFor,
  priceNear,
  type OrderView,
} from './orders.helpers';
import { startChildServer, type ChildServer } from './utils/child-server';
import { createUser, gql, login } from './utils/graphql-client';
import { readyUntil } from './utils/readiness';
import { persistentDatabase } from './utils/test-app';

/**
 * The process killed (SIGKILL) at a random point of 200 placements by 8 dealers at once, then
 * started again on the same database and the same DhanHQ stand-in: every order is resolved,
 * none reached the broker twice, placing the same 200 again (same clientOrderIds) creates
 * nothing new, and every dealer's reserved funds are exactly those of their working orders.
 * The kill point is drawn from CRASH_SEED (printed on failure) so a failure can be replayed.
 * Broker and firm rate limits are lifted: the subject is durability, not the order budget.
 */
const SEED = process.env.CRASH_SEED ? Number(process.env.CRASH_SEED) : Date.now() % 2 ** 31;
const DEALERS = 8;
const PER_DEALER = 25;
const PLACEMENTS = DEALERS * PER_DEALER;
/** Statuses an order may still have once resolved (working at the broker, or final). */
const RESOLVED = new Set(['PENDING', 'PART_TRADED', 'TRADED', 'CANCELLED', 'REJECTED', 'EXPIRED']);
const WORKING = new Set(['PENDING', 'PART_TRADED']);

interface Dealer {
  id: string;
  token: string;
  username: string;
}

interface Placement {
  dealer: number;
  input: Record<string, unknown>;
}

describe(`orders survive a SIGKILL at a random point of ${PLACEMENTS} placements (seed ${SEED})`, () => {
  let broker: DhanSimulator;
  let database: Awaited<ReturnType<typeof persistentDatabase>>;
  let env: Record<string, string>;
  const servers: ChildServer[] = [];

  beforeAll(async () => {
    database = await persistentDatabase();
    broker = new DhanSimulator({
      seed: EMBEDDED_SIMULATOR_SEED,
      host: '127.0.0.1',
      rest: { rateLimits: { orders: false } },
    });
    const urls = await broker.start();
    env = {
      ...database.env,
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_USERNAME: 'crash-admin',
      ADMIN_PASSWORD: randomBytes(12).toString('hex'),
      DHAN_CLIENT_ID: broker.credentials.clientId,
      DHAN_ACCESS_TOKEN: broker.credentials.accessToken,
      DHAN_API_URL: urls.apiUrl,
      DHAN_AUTH_URL: urls.apiUrl.replace(/\/v2$/, ''),
      DHAN_FEED_URL: urls.feedUrl,
      DHAN_ORDER_UPDATE_URL: urls.orderUpdateUrl,
      DHAN_INSTRUMENTS_URL: urls.instrumentsUrl,
      EXECUTION_MODE: 'live',
      TIER_B_ENABLED: 'false',
      ORDER_RATE_PER_SECOND: '1000',
      DHAN_ORDER_LIMITS: '1000/100000/1000000/10000000',
      GRAPHQL_RATE_LIMIT: '100000',
    };
  }, 60_000);

  afterAll(async () => {
    for (const server of servers) await server.stop();
    await broker?.stop();
    await database?.cleanup();
  });

  async function boot(): Promise<ChildServer> {
    const server = await startChildServer(env);
    servers.push(server);
    const answer = await readyUntil(server, (a) => a.status === 200, 60_000);
    if (answer.status !== 200) throw new Error(`not ready: ${JSON.stringify(answer.body)}`);
    return server;
  }

  async function ok<T>(
    url: string,
    query: string,
    variables: Record<string, unknown>,
    token: string,
  ) {
    const answer = await gql<T>(url, query, variables, token);
    if (!answer.data) throw new Error(JSON.stringify(answer.errors));
    return answer.data;
  }

  it('every order resolved, none sent twice, the same placements again create nothing, funds exact', async () => {
    let seed = SEED;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    try {
      // First life: the desk's dealers and limits that let 8 of them place at once.
      const first = await boot();
      const admin = (await login(first.graphqlUrl, env.ADMIN_USERNAME, env.ADMIN_PASSWORD))
        .accessToken;
      await ok(
        first.adminUrl,
        `mutation L($input: RiskLimitsInput!) { setRiskLimits(input: $input) { maxOpenOrders } }`,
        { input: { maxOrdersPerWindow: 1_000, maxOpenOrders: 500 } },
        admin,
      );
      const dealers: Dealer[] = [];
      for (let d = 0; d < DEALERS; d++) {
        const username = `crash-dealer-${d}-${randomBytes(2).toString('hex')}`;
        dealers.push({ ...(await createUser(first, admin, username, 'pw-crash-12345')), username });
      }
      const equities: Instrument[] = broker.universe.instruments
        .filter((i) => i.segment === ExchangeSegment.NSE_EQ)
        .sort((a, b) => a.moneynessRank - b.moneynessRank)
        .slice(0, 10);
      const plan: Placement[] = [];
      for (let k = 0; k < PER_DEALER; k++) {
        for (let d = 0; d < DEALERS; d++) {
          const instrument = equities[(k + d) % equities.length];
          plan.push({
            dealer: d,
            input: {
              clientOrderId: `crash-${d}-${k}`,
              instrument: { segment: instrument.segment, securityId: instrument.securityId },
              side: 'BUY',
              quantity: 1 + (k % 3),
              // Far enough below the market to rest (no fills), within the price collar.
              price: priceNear(broker, instrument, 0.93),
              orderType: 'LIMIT',
              productType: 'CNC',
              validity: 'DAY',
            },
          });
        }
      }

      // Each dealer places one order at a time; the process is killed when the K-th answer
      // arrives, with up to 8 placements at different stages.
      const killAfter = 10 + rand(PLACEMENTS - 20);
      const answered = new Map<string, string>();
      let answers = 0;
      let killed: Promise<void> | undefined;
      const kill = () => {
        killed ??= new Promise<void>((resolve) => {
          first.child.once('close', () => resolve());
          first.child.kill('SIGKILL');
        });
      };
      await Promise.all(
        dealers.map(async (dealer, d) => {
          for (const placement of plan.filter((p) => p.dealer === d)) {
            if (killed) return;
            const answer = await gql<{ placeOrder: OrderView }>(
              first.graphqlUrl,
              PLACE,
              { input: placement.input },
              dealer.token,
            ).catch(() => undefined);
            if (!answer?.data) return; // the process is gone (or going)
            answered.set(String(placement.input.clientOrderId), answer.data.placeOrder.id);
            if (++answers >= killAfter) kill();
          }
        }),
      );
      kill();
      await killed;
      expect(first.alive()).toBe(false);
      expect(answered.size).toBeGreaterThanOrEqual(killAfter);

      // Second life, same database and broker: the dealers place the whole plan again.
      const second = await boot();
      const tokens = await Promise.all(
        dealers.map(
          async (dealer) =>
            (await login(second.graphqlUrl, dealer.username, 'pw-crash-12345')).accessToken,
        ),
      );
      // Each dealer one placement at a time (as in the first life), the dealers at once.
      const again: OrderView[] = [];
      await Promise.all(
        dealers.map(async (_, d) => {
          for (const placement of plan.filter((p) => p.dealer === d)) {
            const placed = await ok<{ placeOrder: OrderView }>(
              second.graphqlUrl,
              PLACE,
              { input: placement.input },
              tokens[d],
            );
            again.push(placed.placeOrder);
          }
        }),
      );
      expect(again).toHaveLength(PLACEMENTS);
      // Idempotency across the crash: an answered placement gives back the same order.
      for (const order of again) {
        const before = answered.get(order.clientOrderId);
        if (before !== undefined) expect(order.id).toBe(before);
      }

      // Every order resolves: working at the broker or final, nothing left in between.
      const books = async () =>
        Promise.all(
          tokens.map(
            async (token) =>
              (await ok<{ orders: OrderView[] }>(second.graphqlUrl, ORDERS, {}, token)).orders,
          ),
        );
      const deadline = Date.now() + 60_000;
      let orders = (await books()).flat();
      while (orders.some((o) => !RESOLVED.has(o.status)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        orders = (await books()).flat();
      }
      expect(orders.filter((o) => !RESOLVED.has(o.status)).map((o) => o.status)).toEqual([]);
      // One order per placement, and the same 200 client ids.
      expect(orders).toHaveLength(PLACEMENTS);
      expect(new Set(orders.map((o) => o.clientOrderId)).size).toBe(PLACEMENTS);

      // None reached the broker twice, and the broker holds nothing we do not know.
      for (const order of orders) {
        const atBroker = brokerOrdersFor(broker, order.id);
        expect(atBroker.length).toBeLessThanOrEqual(1);
        if (WORKING.has(order.status)) {
          expect(atBroker).toHaveLength(1);
          expect(order.brokerOrderId).toBe(atBroker[0].orderId);
        }
      }
      const ours = new Set(orders.map((o) => o.id));
      const stray = broker.orders
        .allOrders()
        .map((o) => orderIdFromCorrelationId(o.correlationId))
        .filter((id) => id === undefined || !ours.has(id));
      expect(stray).toEqual([]);

      // Funds: reserved is exactly the working orders' value (CNC: the whole value), nothing used.
      const byDealer = await books();
      for (let d = 0; d < DEALERS; d++) {
        const funds = (
          await ok<{
            funds: { reserved: number; used: number; balance: number; available: number };
          }>(second.graphqlUrl, FUNDS, {}, tokens[d])
        ).funds;
        const working = byDealer[d].filter((o) => WORKING.has(o.status));
        const value = working.reduce((sum, o) => sum + Math.round(o.price! * 100) * o.quantity, 0);
        expect(Math.round(funds.reserved * 100)).toBe(value);
        expect(funds.used).toBe(0);
        expect(Math.round(funds.available * 100)).toBe(Math.round(funds.balance * 100) - value);
      }

      // And once every working order is cancelled, nothing stays reserved.
      for (let d = 0; d < DEALERS; d++) {
        for (const order of byDealer[d].filter((o) => WORKING.has(o.status))) {
          await ok(second.graphqlUrl, CANCEL, { id: order.id }, tokens[d]);
        }
      }
      const cancelDeadline = Date.now() + 60_000;
      let left = (await books()).flat().filter((o) => WORKING.has(o.status));
      while (left.length > 0 && Date.now() < cancelDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        left = (await books()).flat().filter((o) => WORKING.has(o.status));
      }
      expect(left).toEqual([]);
      for (let d = 0; d < DEALERS; d++) {
        const funds = (
          await ok<{ funds: { reserved: number; available: number; balance: number } }>(
            second.graphqlUrl,
            FUNDS,
            {},
            tokens[d],
          )
        ).funds;
        expect(funds.reserved).toBe(0);
        expect(funds.available).toBe(funds.balance);
      }
    } catch (error) {
      process.stderr.write(`orders crash test failed; replay with CRASH_SEED=${SEED}\n`);
      throw error;
    }
  }, 240_000);
});
