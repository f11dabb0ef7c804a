import { randomBytes } from 'node:crypto';
import { DhanSimulator } from '@app/dhan-simulator';
import { EMBEDDED_SIMULATOR_SEED } from '../src/dhan/dhan-endpoints';
import { liquidEquities, until } from './dhan/helpers';
import { eventually } from './utils/eventually';
import { startChildServer, type ChildServer } from './utils/child-server';
import { createUser, gql, login, subscribe, type SubscriptionProbe } from './utils/graphql-client';
import { freePort, OwnRedis } from './utils/redis-server';
import { databaseEngine, persistentDatabase } from './utils/test-app';

/**
 * Two real server processes on one PostgreSQL schema and a Redis of the suite's own (so it can
 * restart it), pointed at one external DhanHQ stand-in: A leads (it holds the feed), B follows.
 * Ticks, feed health and each user's order events reach B's clients through Redis. PostgreSQL
 * only, and only with TEST_REDIS_URL (the sign that redis-server is installed).
 */
const describeCluster =
  databaseEngine() === 'postgres' && process.env.TEST_REDIS_URL ? describe : describe.skip;

const LOCK_TTL_MS = 3_000;
const FAILOVER_MS = 10_000;
const FEED_CONNECTIONS = 5;
const ORDER_FIELDS = 'id clientOrderId status rejectionReason';

interface Tick {
  securityId: string;
  ltp: number | null;
  stale: boolean;
}

function ticksQuery(instruments: ReadonlyArray<{ segment: string; securityId: string }>): string {
  const list = instruments
    .map((i) => `{ segment: ${i.segment}, securityId: "${i.securityId}" }`)
    .join(', ');
  return `subscription { ticks(instruments: [${list}]) { securityId ltp stale } }`;
}

function ticksOf(probe: SubscriptionProbe): Tick[] {
  // Each message is a batch: the instruments that changed since the last one.
  return probe.received.flatMap((v) => (v as { data: { ticks: Tick[] } }).data.ticks);
}

describeCluster('two instances on Redis: ticks, feed health and order events relayed', () => {
  let redis: OwnRedis;
  let broker: DhanSimulator;
  let database: Awaited<ReturnType<typeof persistentDatabase>>;
  let env: Record<string, string>;
  const servers: ChildServer[] = [];
  const probes: SubscriptionProbe[] = [];
  let a: ChildServer;
  let b: ChildServer;
  let dealer: { id: string; name: string; token: string };
  const instruments = () => liquidEquities(broker, 12);

  const clientId = () => broker.credentials.clientId;
  const feedConnections = () => broker.feed.connectionInfo(clientId());
  /** Every instrument on the account's feed sockets (a duplicate shows twice), sorted. */
  const brokerSubscriptions = () =>
    feedConnections()
      .flatMap((c) => Object.values(broker.feed.subscriptions(c.id)).flat())
      .sort();

  const keyOf = (i: { segment: string; securityId: string }) => `${i.segment}:${i.securityId}`;
  /** How many times the stand-in has the instrument subscribed on the account's sockets. */
  const occurrences = (key: string) => brokerSubscriptions().filter((k) => k === key).length;

  async function newDealer(): Promise<{ id: string; name: string; token: string }> {
    const admin = (await login(a.graphqlUrl, env.ADMIN_USERNAME, env.ADMIN_PASSWORD)).accessToken;
    const name = `dealer-${randomBytes(3).toString('hex')}`;
    const made = await createUser(a, admin, name, 'pw-1234567890');
    return { id: made.id, name, token: made.token };
  }

  function place(server: ChildServer, token: string, input: Record<string, unknown>) {
    return gql<{ placeOrder: { id: string; clientOrderId: string; status: string } }>(
      server.graphqlUrl,
      `mutation P($input: PlaceOrderInput!) { placeOrder(input: $input) { ${ORDER_FIELDS} } }`,
      { input },
      token,
    );
  }

  async function ordersOf(server: ChildServer, token: string) {
    const answer = await gql<{
      orders: Array<{
        id: string;
        clientOrderId: string;
        status: string;
        rejectionReason: string | null;
      }>;
    }>(server.graphqlUrl, `query { orders { ${ORDER_FIELDS} } }`, {}, token);
    if (!answer.data) throw new Error(JSON.stringify(answer.errors));
    return answer.data.orders;
  }

  /** The roles of A and B once exactly one leads. */
  async function oneLeader(ms = 60_000): Promise<[ChildServer, ChildServer]> {
    let pair: [ChildServer, ChildServer] | undefined;
    await eventually(
      async () => {
        const roleA = (await ready(a)).body.info?.role;
        const roleB = (await ready(b)).body.info?.role;
        if (roleA === 'LEADER' && roleB === 'FOLLOWER') pair = [a, b];
        else if (roleB === 'LEADER' && roleA === 'FOLLOWER') pair = [b, a];
        else pair = undefined;
        return pair !== undefined;
      },
      'exactly one instance leads',
      ms,
    );
    return pair!;
  }

  async function ready(server: ChildServer): Promise<{ status: number; body: ReadyBody }> {
    const response = await fetch(`${server.baseUrl}/ready`);
    return { status: response.status, body: (await response.json()) as ReadyBody };
  }
  interface ReadyBody {
    info?: { role?: string };
    checks?: Record<string, string>;
    details?: Record<string, { reason: string }>;
  }

  async function boot(): Promise<ChildServer> {
    const server = await startChildServer(env);
    servers.push(server);
    return server;
  }

  function watch(server: ChildServer, query: string, token = dealer.token): SubscriptionProbe {
    const probe = subscribe(server.websocketUrl, query, { authorization: `Bearer ${token}` });
    probes.push(probe);
    return probe;
  }

  /** A fresh (not stale) tick of `securityId` arrives on the probe after `from` ticks. */
  async function freshTick(probe: SubscriptionProbe, securityId: string, from = 0): Promise<Tick> {
    let found: Tick | undefined;
    await eventually(
      () => {
        found = ticksOf(probe)
          .slice(from)
          .find((t) => t.securityId === securityId && !t.stale && t.ltp !== null);
        return Promise.resolve(found !== undefined);
      },
      `a fresh tick of ${securityId}`,
      20_000,
    );
    return found!;
  }

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    database = await persistentDatabase();
    broker = new DhanSimulator({ seed: EMBEDDED_SIMULATOR_SEED, host: '127.0.0.1' });
    const urls = await broker.start();
    env = {
      ...database.env,
      REDIS_URL: redis.url,
      LEADER_LOCK_TTL_MS: String(LOCK_TTL_MS),
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_USERNAME: 'relay-admin',
      ADMIN_PASSWORD: randomBytes(12).toString('hex'),
      DHAN_CLIENT_ID: clientId(),
      DHAN_ACCESS_TOKEN: broker.credentials.accessToken,
      DHAN_API_URL: urls.apiUrl,
      DHAN_AUTH_URL: urls.apiUrl.replace(/\/v2$/, ''),
      DHAN_FEED_URL: urls.feedUrl,
      DHAN_ORDER_UPDATE_URL: urls.orderUpdateUrl,
      DHAN_INSTRUMENTS_URL: urls.instrumentsUrl,
      EXECUTION_MODE: 'live',
      TIER_B_ENABLED: 'false',
      // Two resting buys of 5 shares of a ~Rs 1,300 stock (CNC: full value) exceed this.
      PAPER_FUNDS_RUPEES: '10000',
    };
    a = await boot();
    await eventually(async () => feedConnections().length === FEED_CONNECTIONS, 'A opens 5');
    dealer = await newDealer();
    b = await boot();
    await eventually(async () => (await ready(b)).body.info?.role === 'FOLLOWER', 'B follows');
  }, 240_000);

  afterAll(async () => {
    await Promise.all(probes.map((p) => p.dispose().catch(() => undefined)));
    await Promise.all(servers.map((s) => s.stop()));
    await broker?.stop();
    await redis?.stop();
    await database?.cleanup();
  }, 120_000);

  it("a client on B alone puts its instrument on A's feed once and gets the ticks A ingests", async () => {
    const [x] = instruments();
    expect(occurrences(keyOf(x))).toBe(0);
    const onB = watch(b, ticksQuery([x]));
    await until(() => occurrences(keyOf(x)) === 1, 'A subscribes what B wants');
    const tick = await freshTick(onB, x.securityId);
    expect(tick.ltp).toBeGreaterThan(0);
    expect(occurrences(keyOf(x))).toBe(1);
    await eventually(async () => (await ready(b)).status === 200, 'B is ready', 15_000).catch(
      async (e: Error) => {
        throw new Error(`${e.message}: ${JSON.stringify((await ready(b)).body)}`);
      },
    );
    const { body } = await ready(b);
    expect(body.checks).toMatchObject({ feed: 'up', 'tick-relay': 'up', 'order-updates': 'up' });
  });

  it("a watchlist add on B subscribes at A's feed once; its removal on B releases it", async () => {
    const [, , z] = instruments();
    expect(occurrences(keyOf(z))).toBe(0);
    const made = await gql<{ createWatchlist: { id: string } }>(
      b.graphqlUrl,
      `mutation C($name: String!) { createWatchlist(name: $name) { id } }`,
      { name: 'relay' },
      dealer.token,
    );
    const watchlistId = made.data!.createWatchlist.id;
    const added = await gql<{ addWatchlistItem: { id: string } }>(
      b.graphqlUrl,
      `mutation A($id: ID!, $instrument: InstrumentInput!) {
        addWatchlistItem(watchlistId: $id, instrument: $instrument) { id } }`,
      { id: watchlistId, instrument: z },
      dealer.token,
    );
    expect(added.errors).toBeUndefined();
    await until(() => occurrences(keyOf(z)) === 1, "the item is on A's feed");
    const removed = await gql(
      b.graphqlUrl,
      `mutation R($id: ID!, $instrument: InstrumentInput!) {
        removeWatchlistItem(watchlistId: $id, instrument: $instrument) { id } }`,
      { id: watchlistId, instrument: z },
      dealer.token,
    );
    expect(removed.errors).toBeUndefined();
    await until(() => occurrences(keyOf(z)) === 0, "the item leaves A's feed");
  });

  it("a dealer's order events reach their socket on the other instance", async () => {
    const [, y] = instruments();
    const onB = watch(b, `subscription { orderUpdates { ${ORDER_FIELDS} } }`);
    await onB.connected;
    const clientOrderId = `relay-${randomBytes(4).toString('hex')}`;
    const placed = await gql<{ placeOrder: { id: string } }>(
      a.graphqlUrl,
      `mutation P($input: PlaceOrderInput!) { placeOrder(input: $input) { ${ORDER_FIELDS} } }`,
      {
        input: {
          clientOrderId,
          instrument: y,
          side: 'BUY',
          quantity: 1,
          orderType: 'MARKET',
          productType: 'INTRADAY',
          validity: 'DAY',
        },
      },
      dealer.token,
    );
    expect(placed.errors).toBeUndefined();
    await until(
      () =>
        onB.received.some(
          (v) =>
            (v as { data: { orderUpdates: { clientOrderId: string } } }).data.orderUpdates
              .clientOrderId === clientOrderId,
        ),
      'the order event reaches B',
    );
  });

  it("an alert fired on one instance reaches its owner's socket on the other", async () => {
    const [, y] = instruments();
    const onB = watch(b, 'subscription { alerts { id alertId value } }');
    await onB.connected;
    // LTP above 0.01 holds at y's first fresh price: the alert fires on A, where it was created
    // (B loaded the alerts stored at its boot only, so it never evaluates this one).
    const created = await gql<{ createAlert: { id: string } }>(
      a.graphqlUrl,
      `mutation C($input: CreateAlertInput!) { createAlert(input: $input) { id } }`,
      { input: { instrument: y, metric: 'LTP', condition: 'ABOVE', level: 0.01 } },
      dealer.token,
    );
    expect(created.errors).toBeUndefined();
    const alertId = created.data!.createAlert.id;
    await until(
      () =>
        onB.received.some(
          (v) => (v as { data: { alerts: { alertId: string } } }).data.alerts.alertId === alertId,
        ),
      'the firing reaches B',
    );
  });

  it('an alert created on the follower fires, and its owner on the leader is told', async () => {
    const [, , z] = instruments();
    const onA = watch(a, 'subscription { alerts { id alertId value } }');
    await onA.connected;
    const created = await gql<{ createAlert: { id: string } }>(
      b.graphqlUrl,
      `mutation C($input: CreateAlertInput!) { createAlert(input: $input) { id } }`,
      { input: { instrument: z, metric: 'LTP', condition: 'ABOVE', level: 0.01 } },
      dealer.token,
    );
    expect(created.errors).toBeUndefined();
    const alertId = created.data!.createAlert.id;
    await until(
      () =>
        onA.received.some(
          (v) => (v as { data: { alerts: { alertId: string } } }).data.alerts.alertId === alertId,
        ),
      'the firing reaches A',
    );
  });

  it('the same clientOrderId on A and B at once makes one order', async () => {
    const [, , , w] = instruments();
    const trader = await newDealer();
    const input = {
      clientOrderId: `twice-${randomBytes(4).toString('hex')}`,
      instrument: w,
      side: 'BUY',
      quantity: 1,
      orderType: 'LIMIT',
      price: 1,
      productType: 'INTRADAY',
      validity: 'DAY',
    };
    const [onA, onB] = await Promise.all([
      place(a, trader.token, input),
      place(b, trader.token, input),
    ]);
    expect(onA.errors).toBeUndefined();
    expect(onB.errors).toBeUndefined();
    expect(onA.data!.placeOrder.id).toBe(onB.data!.placeOrder.id);
    const orders = (await ordersOf(a, trader.token)).filter(
      (o) => o.clientOrderId === input.clientOrderId,
    );
    expect(orders).toHaveLength(1);
  });

  it("two dealers' concurrent orders on A and B never exceed their funds", async () => {
    const [x] = instruments();
    const { ltp } = await freshTick(watch(b, ticksQuery([x])), x.securityId);
    // A buy limit 5 % under the market rests (its margin stays reserved): 5 shares of a
    // ~Rs 1,300 stock under CNC (full value) is ~62 % of the Rs 10,000; two of them exceed it.
    const price = Math.round(ltp! * 0.95 * 20) / 20;
    const dealers = await Promise.all([newDealer(), newDealer()]);
    const order = (tag: string) => ({
      clientOrderId: `funds-${tag}-${randomBytes(4).toString('hex')}`,
      instrument: x,
      side: 'BUY',
      quantity: 5,
      orderType: 'LIMIT',
      price,
      productType: 'CNC',
      validity: 'DAY',
    });
    const answers = await Promise.all(
      dealers.flatMap((d) => [place(a, d.token, order('a')), place(b, d.token, order('b'))]),
    );
    for (const answer of answers) expect(answer.errors).toBeUndefined();
    for (const d of dealers) {
      let orders: Array<{ status: string }> = [];
      await eventually(async () => {
        orders = await ordersOf(b, d.token);
        return orders.length === 2 && orders.every((o) => o.status !== 'NEW');
      }, 'both orders are past RMS');
      const statuses = orders.map((o) => o.status);
      expect(statuses.filter((s) => s === 'REJECTED')).toHaveLength(1);
    }
  });

  it('a dealer halted on A has their next order on B refused', async () => {
    const [x] = instruments();
    const { ltp } = await freshTick(watch(b, ticksQuery([x])), x.securityId);
    const trader = await newDealer();
    const input = (tag: string) => ({
      clientOrderId: `halt-${tag}-${randomBytes(4).toString('hex')}`,
      instrument: x,
      side: 'BUY',
      quantity: 1,
      orderType: 'LIMIT',
      // Resting, inside the price collar.
      price: Math.round(ltp! * 0.95 * 20) / 20,
      productType: 'INTRADAY',
      validity: 'DAY',
    });
    // B has read the dealer's state (ACTIVE) once already.
    const before = await place(b, trader.token, input('before'));
    expect(before.errors).toBeUndefined();
    expect(before.data?.placeOrder.status).not.toBe('REJECTED');
    const admin = (await login(a.graphqlUrl, env.ADMIN_USERNAME, env.ADMIN_PASSWORD)).accessToken;
    const halted = await gql(
      a.adminUrl,
      `mutation H($u: ID!) { setTradingState(scope: USER, state: HALTED, userId: $u) { state } }`,
      { u: trader.id },
      admin,
    );
    expect(halted.errors).toBeUndefined();
    const after = await place(b, trader.token, input('after'));
    expect(after.errors).toBeUndefined();
    expect(after.data?.placeOrder.status).toBe('REJECTED');
  });

  it("a dealer's funds on either instance answer what the other admitted, filled and adjusted", async () => {
    const [x, y] = instruments();
    const { ltp } = await freshTick(watch(b, ticksQuery([x])), x.securityId);
    await freshTick(watch(a, ticksQuery([y])), y.securityId);
    const trader = await newDealer();
    type Funds = { available: number; used: number; reserved: number; balance: number };
    const funds = async (server: ChildServer): Promise<Funds> => {
      const answer = await gql<{ funds: Funds }>(
        server.graphqlUrl,
        `query { funds { available used reserved balance } }`,
        {},
        trader.token,
      );
      if (!answer.data) throw new Error(JSON.stringify(answer.errors));
      return answer.data.funds;
    };
    /** B (or A) shows what the other did: the same figures on both, and `check` holds. */
    async function both(check: (f: Funds) => boolean, label: string): Promise<Funds> {
      let seen: { onA?: Funds; onB?: Funds; error?: string } = {};
      try {
        await eventually(async () => {
          try {
            const [onA, onB] = await Promise.all([funds(a), funds(b)]);
            seen = { onA, onB };
            return check(onB) && JSON.stringify(onA) === JSON.stringify(onB);
          } catch (e) {
            seen = { ...seen, error: String(e) };
            throw e;
          }
        }, label);
      } catch (e) {
        const orders = await ordersOf(a, trader.token).catch(() => []);
        throw new Error(`${String(e)}; last ${JSON.stringify(seen)}; ${JSON.stringify(orders)}`);
      }
      return seen.onB!;
    }
    // Each instance has answered the dealer's funds once (its figures as of now).
    const start = await funds(b);
    expect(await funds(a)).toEqual(start);
    expect(start).toMatchObject({ reserved: 0, used: 0 });

    // A resting buy admitted on A (5 % under the market): B shows its reservation.
    const resting = await place(a, trader.token, {
      clientOrderId: `funds-rest-${randomBytes(4).toString('hex')}`,
      instrument: x,
      side: 'BUY',
      quantity: 1,
      orderType: 'LIMIT',
      price: Math.round(ltp! * 0.95 * 20) / 20,
      productType: 'CNC',
      validity: 'DAY',
    });
    expect(resting.data?.placeOrder).toMatchObject({ rejectionReason: null });
    const reserved = await both((f) => f.reserved > 0, "B's funds show the order A admitted");

    // A market buy fills on the leader's order-update socket: B shows its margin.
    const traded = await place(a, trader.token, {
      clientOrderId: `funds-fill-${randomBytes(4).toString('hex')}`,
      instrument: y,
      side: 'BUY',
      quantity: 1,
      orderType: 'MARKET',
      productType: 'INTRADAY',
      validity: 'DAY',
    });
    expect(traded.data?.placeOrder).toMatchObject({ rejectionReason: null });
    await both(
      (f) => f.used > 0 && f.reserved === reserved.reserved,
      'both show the margin of the fill and the resting order alone reserved',
    );

    // An adjustment on B: A shows it.
    const admin = (await login(b.graphqlUrl, env.ADMIN_USERNAME, env.ADMIN_PASSWORD)).accessToken;
    const adjusted = await gql(
      b.adminUrl,
      `mutation F($d: ID!) { adjustFunds(dealerId: $d, amount: 500, reason: "cluster pay-in") { dealerId } }`,
      { d: trader.id },
      admin,
    );
    expect(adjusted.errors).toBeUndefined();
    await both((f) => f.balance === start.balance + 500, "A's funds show B's credit");
  });

  it("an order sent by the follower is followed by the leader's order-update socket: it fills, and a resting one cancels", async () => {
    const [x, y] = instruments();
    const { ltp } = await freshTick(watch(b, ticksQuery([x])), x.securityId);
    await freshTick(watch(b, ticksQuery([y])), y.securityId);
    const trader = await newDealer();
    const market = await place(b, trader.token, {
      clientOrderId: `follower-fill-${randomBytes(4).toString('hex')}`,
      instrument: y,
      side: 'BUY',
      quantity: 1,
      orderType: 'MARKET',
      productType: 'INTRADAY',
      validity: 'DAY',
    });
    expect(market.errors).toBeUndefined();
    const id = market.data!.placeOrder.id;
    // Only the leader holds the order-update socket: the fill can reach the order through it alone.
    await eventually(
      async () =>
        (await ordersOf(b, trader.token)).some((o) => o.id === id && o.status === 'TRADED'),
      'the follower-sent order TRADED',
    );
    const resting = await place(b, trader.token, {
      clientOrderId: `follower-rest-${randomBytes(4).toString('hex')}`,
      instrument: x,
      side: 'BUY',
      quantity: 1,
      orderType: 'LIMIT',
      price: Math.round(ltp! * 0.95 * 20) / 20,
      productType: 'CNC',
      validity: 'DAY',
    });
    const restingId = resting.data!.placeOrder.id;
    await eventually(
      async () =>
        (await ordersOf(b, trader.token)).some((o) => o.id === restingId && o.status === 'PENDING'),
      'the follower-sent resting order PENDING',
    );
    // Cancelled through the leader, which never sent it: it finds the order's routing record.
    const cancelled = await gql<{ cancelOrder: { status: string } }>(
      a.graphqlUrl,
      `mutation C($id: ID!) { cancelOrder(id: $id) { status } }`,
      { id: restingId },
      trader.token,
    );
    expect(cancelled.errors).toBeUndefined();
    await eventually(
      async () =>
        (await ordersOf(a, trader.token)).some(
          (o) => o.id === restingId && o.status === 'CANCELLED',
        ),
      'the resting order CANCELLED',
    );
  });

  /** A watchlist of the dealer's on `server` holding `instrument`. */
  async function watchlistWith(
    server: ChildServer,
    instrument: { segment: string; securityId: string },
  ): Promise<void> {
    const made = await gql<{ createWatchlist: { id: string } }>(
      server.graphqlUrl,
      `mutation C($name: String!) { createWatchlist(name: $name) { id } }`,
      { name: `tier-a-${randomBytes(3).toString('hex')}` },
      dealer.token,
    );
    if (!made.data) throw new Error(JSON.stringify(made.errors));
    const added = await gql(
      server.graphqlUrl,
      `mutation A($id: ID!, $instrument: InstrumentInput!) {
        addWatchlistItem(watchlistId: $id, instrument: $instrument) { id } }`,
      { id: made.data.createWatchlist.id, instrument },
      dealer.token,
    );
    if (added.errors) throw new Error(JSON.stringify(added.errors));
  }

  it('a watchlist item added on an instance that then stops stays on the feed: every instance holds it', async () => {
    const [, , , , , , w, , , lone] = instruments();
    const c = await boot();
    await eventually(async () => (await ready(c)).body.info?.role === 'FOLLOWER', 'C follows');
    await watchlistWith(c, w);
    await until(() => occurrences(keyOf(w)) === 1, "C's item is on A's feed");
    // Wanted by a client of C alone: it leaves the feed once C's references have lapsed.
    await freshTick(watch(c, ticksQuery([lone])), lone.securityId);
    await c.stop();
    servers.splice(servers.indexOf(c), 1);
    await until(
      () => occurrences(keyOf(lone)) === 0,
      "C's references lapse at the leader",
      [],
      30_000,
    );
    // A and B adopted the item when C added it: it stays.
    expect(occurrences(keyOf(w))).toBe(1);
  });

  it('end of day run on the follower releases Tier A on every instance; start of day there restores it on every one', async () => {
    const [, , , , , , , u, v] = instruments();
    await watchlistWith(a, u);
    await watchlistWith(b, v);
    await until(
      () => occurrences(keyOf(u)) === 1 && occurrences(keyOf(v)) === 1,
      'both items on the feed',
    );
    const admin = (await login(b.graphqlUrl, env.ADMIN_USERNAME, env.ADMIN_PASSWORD)).accessToken;
    const eod = await gql<{ runEndOfDay: { outcome: string } }>(
      b.adminUrl,
      `mutation { runEndOfDay(group: NSE_BSE, force: true) { outcome } }`,
      {},
      admin,
    );
    expect(eod.errors).toBeUndefined();
    expect(eod.data?.runEndOfDay.outcome).toBe('DONE');
    // A held both (u its own, v adopted from B): it released them as B did.
    await until(
      () => occurrences(keyOf(u)) === 0 && occurrences(keyOf(v)) === 0,
      "Tier A leaves A's feed",
    );
    const sod = await gql<{ runStartOfDay: { outcome: string } }>(
      b.adminUrl,
      `mutation { runStartOfDay(force: true) { outcome } }`,
      {},
      admin,
    );
    expect(sod.errors).toBeUndefined();
    expect(sod.data?.runStartOfDay.outcome).toBe('DONE');
    await until(
      () => occurrences(keyOf(u)) === 1 && occurrences(keyOf(v)) === 1,
      "Tier A is back on A's feed",
    );
  });

  it('Redis restarted: followers go stale and say so, then every instance recovers with its subscriptions', async () => {
    const [x] = instruments();
    const probe = watch(b, ticksQuery([x]));
    await freshTick(probe, x.securityId);
    // Counted before the stop: B may tell its client while the stop is still being awaited.
    const cut = probe.received.length;
    await redis.stop();
    await eventually(async () => {
      const { status, body } = await ready(b);
      return status === 503 && body.checks?.redis === 'down';
    }, "B's /ready says Redis is down");
    await until(
      () =>
        ticksOf(probe)
          .slice(cut)
          .some((t) => t.securityId === x.securityId && t.stale),
      "B's client is told the instrument is stale",
    );
    // An order meanwhile: its funds cannot be checked across instances, so it is refused.
    const refused = await place(b, dealer.token, {
      clientOrderId: `no-redis-${randomBytes(4).toString('hex')}`,
      instrument: x,
      side: 'BUY',
      quantity: 1,
      orderType: 'LIMIT',
      price: 1,
      productType: 'INTRADAY',
      validity: 'DAY',
    });
    expect(refused.errors).toBeUndefined();
    const [stored] = (await ordersOf(b, dealer.token)).filter(
      (o) => o.clientOrderId === refused.data!.placeOrder.clientOrderId,
    );
    expect(stored.status).toBe('REJECTED');
    expect(stored.rejectionReason).toContain('FUNDS_CHECK_UNAVAILABLE');
    await redis.start();
    const back = probe.received.length;
    await eventually(
      async () => (await ready(a)).status === 200 && (await ready(b)).status === 200,
      'both instances are ready again',
    );
    const [, follower] = await oneLeader();
    await freshTick(probe, x.securityId, back);
    // The follower's client too, whichever instance follows now.
    const onFollower = follower === b ? probe : watch(follower, ticksQuery([x]));
    await freshTick(onFollower, x.securityId, follower === b ? back : 0);
    await until(() => occurrences(keyOf(x)) === 1, 'the subscription is on the feed once');
    expect(a.alive() && b.alive()).toBe(true);
    expect(feedConnections()).toHaveLength(FEED_CONNECTIONS);
  }, 120_000);

  it("kill -9 of the leader: the survivor leads, its clients get ticks again, the dead one's references lapse", async () => {
    const [x, , , , only] = instruments();
    const [leader, survivor] = await oneLeader();
    const probe = watch(survivor, ticksQuery([x]));
    await freshTick(probe, x.securityId);
    // Wanted by a client of the leader alone: after the kill only the leader's lease holds it.
    const doomed = watch(leader, ticksQuery([only]));
    await freshTick(doomed, only.securityId);
    leader.child.kill('SIGKILL');
    const cut = probe.received.length;
    await eventually(
      async () => (await ready(survivor)).body.info?.role === 'LEADER',
      'the survivor leads',
      FAILOVER_MS,
    );
    await freshTick(probe, x.securityId, cut);
    await until(() => occurrences(keyOf(x)) === 1, 'the survivor has the subscription once');
    expect(feedConnections()).toHaveLength(FEED_CONNECTIONS);
    // REF_LEASE_MS (10 s) after the dead instance's last renewal, and a sync round.
    await until(
      () => occurrences(keyOf(only)) === 0,
      "the dead instance's reference leaves the feed",
      [],
      30_000,
    );
    expect(occurrences(keyOf(x))).toBe(1);
  }, 90_000);
});
