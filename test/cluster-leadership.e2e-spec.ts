import { randomBytes } from 'node:crypto';
import { DhanSimulator } from '@app/dhan-simulator';
import type { Redis } from 'ioredis';
import { connectTestRedis } from '../src/cluster/__tests__/test-redis';
import { BROKER_TOKEN_KEY } from '../src/cluster/broker-token.relay';
import { LEADER_LOCK_KEY } from '../src/cluster/leadership.service';
import {
  REF_INSTANCES_KEY,
  REFS_KEY_PREFIX,
} from '../src/market-data/relay/reference-relay.service';
import { EMBEDDED_SIMULATOR_SEED } from '../src/dhan/dhan-endpoints';
import { liquidEquities, until } from './dhan/helpers';
import { eventually } from './utils/eventually';
import { startChildServer, type ChildServer } from './utils/child-server';
import { createUser, errorCodes, gql, login, LOGIN, subscribe } from './utils/graphql-client';
import { databaseEngine, persistentDatabase } from './utils/test-app';

/**
 * Two real server processes on one PostgreSQL schema and one Redis, pointed at one external
 * DhanHQ stand-in: one leads (the 5 feed sockets, the order-update socket), the other follows;
 * SIGSTOP of the leader past its lock's TTL hands the lead over and the woken process steps
 * down without reconnecting (fencing); SIGKILL of the new leader hands it back within 10 s with
 * the same subscriptions. Login throttling, refresh-token reuse and a disabled user's sockets
 * act across instances. PostgreSQL only (two processes on one SQLite file is no deployment),
 * and only with TEST_REDIS_URL: set but unreachable, the suite fails.
 */
const describeCluster =
  databaseEngine() === 'postgres' && process.env.TEST_REDIS_URL ? describe : describe.skip;

const LOCK_TTL_MS = 3_000;
const FAILOVER_MS = 10_000;
const FEED_CONNECTIONS = 5;
const TOO_MANY_CONNECTIONS = 805;

const FEED_STATUS = `query { feedStatus { role connected connections { state } } }`;
const CREATE_WATCHLIST = `mutation C($name: String!) { createWatchlist(name: $name) { id } }`;
const ADD_ITEM = `mutation A($id: ID!, $instrument: InstrumentInput!) {
  addWatchlistItem(watchlistId: $id, instrument: $instrument) { id } }`;
const REFRESH = `mutation R($token: String!) { refreshSession(refreshToken: $token) { refreshToken } }`;
const SET_TOKEN = `mutation S($token: String!) { setBrokerToken(token: $token) { state source } }`;
const BROKER_TOKEN = `query { brokerToken { state source expiresAt } }`;
const UPDATE_USER = `mutation U($input: UpdateUserInput!) { updateUser(input: $input) { id disabled } }`;

interface FeedStatusView {
  role: 'LEADER' | 'FOLLOWER';
  connected: boolean;
  connections: { state: string }[];
}

describeCluster('two instances on one Redis: leadership, failover, fencing, shared state', () => {
  let redis: Redis;
  let broker: DhanSimulator;
  let database: Awaited<ReturnType<typeof persistentDatabase>>;
  let env: Record<string, string>;
  const servers: ChildServer[] = [];
  let a: ChildServer;
  let b: ChildServer;
  const watched = () => liquidEquities(broker, 3);
  /** The most feed sockets the stand-in ever held for the account at once. */
  let mostConnections = 0;

  const clientId = () => broker.credentials.clientId;
  const feedConnections = () => broker.feed.connectionInfo(clientId());
  const dropped805 = () => broker.feed.stats.disconnectsSent[TOO_MANY_CONNECTIONS] ?? 0;
  /** Every instrument on the account's feed sockets, sorted (placement aside). */
  const brokerSubscriptions = () =>
    feedConnections()
      .flatMap((c) => Object.values(broker.feed.subscriptions(c.id)).flat())
      .sort();

  async function adminToken(server: ChildServer): Promise<string> {
    // The admin of ADMIN_USERNAME / ADMIN_PASSWORD below (the first boot created it).
    return (await login(server.graphqlUrl, env.ADMIN_USERNAME, env.ADMIN_PASSWORD)).accessToken;
  }

  async function feedStatus(server: ChildServer): Promise<FeedStatusView> {
    const answer = await gql<{ feedStatus: FeedStatusView }>(
      server.adminUrl,
      FEED_STATUS,
      {},
      await adminToken(server),
    );
    if (!answer.data?.feedStatus) throw new Error(JSON.stringify(answer.errors));
    return answer.data.feedStatus;
  }

  async function readyRole(server: ChildServer): Promise<string | undefined> {
    const response = await fetch(`${server.baseUrl}/ready`);
    const body = (await response.json()) as { info?: { role?: string } };
    return body.info?.role;
  }

  async function boot(): Promise<ChildServer> {
    const server = await startChildServer(env);
    servers.push(server);
    return server;
  }

  beforeAll(async () => {
    redis = await connectTestRedis();
    // A lock left by an earlier run (a killed process) would make the first boot a follower;
    // that run's broker token means nothing to this run's stand-in.
    await redis.del(LEADER_LOCK_KEY, BROKER_TOKEN_KEY, REF_INSTANCES_KEY);
    // An earlier run's instances' references (leased 10 s) must not reach this run's feed.
    const staleRefs = await redis.keys(`${REFS_KEY_PREFIX}*`);
    if (staleRefs.length > 0) await redis.del(...staleRefs);
    database = await persistentDatabase();
    broker = new DhanSimulator({ seed: EMBEDDED_SIMULATOR_SEED, host: '127.0.0.1' });
    const urls = await broker.start();
    broker.feed.on('connection', () => {
      mostConnections = Math.max(mostConnections, feedConnections().length);
    });
    env = {
      ...database.env,
      REDIS_URL: process.env.TEST_REDIS_URL!,
      LEADER_LOCK_TTL_MS: String(LOCK_TTL_MS),
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_USERNAME: 'cluster-admin',
      ADMIN_PASSWORD: randomBytes(12).toString('hex'),
      // The stand-in as "live" DhanHQ: the operator's client id and token of the day.
      DHAN_CLIENT_ID: clientId(),
      DHAN_ACCESS_TOKEN: broker.credentials.accessToken,
      DHAN_API_URL: urls.apiUrl,
      DHAN_AUTH_URL: urls.apiUrl.replace(/\/v2$/, ''),
      DHAN_FEED_URL: urls.feedUrl,
      DHAN_ORDER_UPDATE_URL: urls.orderUpdateUrl,
      DHAN_INSTRUMENTS_URL: urls.instrumentsUrl,
      EXECUTION_MODE: 'live',
      // Only the watchlist below on the feed: the same set whichever instance leads.
      TIER_B_ENABLED: 'false',
    };
    // One after the other: the second boot finds the schema migrated.
    a = await boot();
    await eventually(async () => feedConnections().length === FEED_CONNECTIONS, 'A opens 5');
    const admin = await adminToken(a);
    const trader = await createUser(
      a,
      admin,
      `dealer-${randomBytes(3).toString('hex')}`,
      'pw-1234567890',
    );
    let watchlistId: string | undefined;
    await eventually(async () => {
      const made = await gql<{ createWatchlist: { id: string } }>(
        a.graphqlUrl,
        CREATE_WATCHLIST,
        { name: 'cluster' },
        trader.token,
      );
      watchlistId = made.data?.createWatchlist.id;
      return watchlistId !== undefined;
    }, 'a watchlist is created');
    for (const instrument of watched()) {
      await eventually(async () => {
        const added = await gql(
          a.graphqlUrl,
          ADD_ITEM,
          { id: watchlistId, instrument },
          trader.token,
        );
        return added.data !== undefined && added.data !== null && !added.errors;
      }, 'a watchlist item is added');
    }
    const keys = watched().map((i) => `${i.segment}:${i.securityId}`);
    await eventually(
      async () => keys.every((k) => brokerSubscriptions().includes(k)),
      'the watchlist is on the feed',
    );
    b = await boot();
  }, 240_000);

  afterAll(async () => {
    for (const server of servers) {
      if (server.alive()) server.child.kill('SIGCONT');
    }
    await Promise.all(servers.map((s) => s.stop()));
    await broker?.stop();
    // The throttle's counters of this run (127.0.0.1) must not block later runs.
    const keys = [...(await redis.keys('terminal:login*')), BROKER_TOKEN_KEY];
    if (keys.length > 0) await redis.del(...keys);
    await redis?.quit();
    await database?.cleanup();
  }, 120_000);

  it('one instance leads with 5 feed sockets and the order-update socket; the other opens none', async () => {
    await eventually(async () => (await readyRole(b)) === 'FOLLOWER', 'B reports FOLLOWER');
    expect(await readyRole(a)).toBe('LEADER');
    const [statusA, statusB] = [await feedStatus(a), await feedStatus(b)];
    expect(statusA.role).toBe('LEADER');
    expect(statusA.connected).toBe(true);
    expect(statusB.role).toBe('FOLLOWER');
    expect(statusB.connections.every((c) => c.state === 'idle')).toBe(true);
    expect(feedConnections()).toHaveLength(FEED_CONNECTIONS);
    expect(broker.orderUpdates.sessionCount(clientId())).toBe(1);
    expect(dropped805()).toBe(0);
    expect(mostConnections).toBe(FEED_CONNECTIONS);
  });

  it('shares login throttling: failures on both instances add up, and both refuse', async () => {
    const username = `nobody-${randomBytes(4).toString('hex')}`;
    // LOGIN_LIMITS.failuresPerPair: 10 failures in a row for one username from one address.
    for (let i = 0; i < 10; i++) {
      const server = i % 2 === 0 ? a : b;
      const answer = await gql(server.graphqlUrl, LOGIN, { username, password: 'wrong' });
      expect(errorCodes(answer)).toEqual(['UNAUTHENTICATED']);
    }
    for (const server of [a, b]) {
      const answer = await gql(server.graphqlUrl, LOGIN, { username, password: 'wrong' });
      expect(errorCodes(answer)).toEqual(['RATE_LIMITED']);
    }
  });

  it('detects refresh-token reuse across instances and closes a disabled user on every instance', async () => {
    const admin = await adminToken(a);
    const name = `dealer-${randomBytes(3).toString('hex')}`;
    const user = await createUser(a, admin, name, 'pw-1234567890');
    // Rotated on B, the old token presented again on A revokes the whole family.
    const session = await login(a.graphqlUrl, name, 'pw-1234567890');
    const rotated = await gql<{ refreshSession: { refreshToken: string } }>(b.graphqlUrl, REFRESH, {
      token: session.refreshToken,
    });
    const next = rotated.data!.refreshSession.refreshToken;
    expect(errorCodes(await gql(a.graphqlUrl, REFRESH, { token: session.refreshToken }))).toEqual([
      'UNAUTHENTICATED',
    ]);
    expect(errorCodes(await gql(b.graphqlUrl, REFRESH, { token: next }))).toEqual([
      'UNAUTHENTICATED',
    ]);

    // A socket on B, the user disabled on A: B closes it.
    const fresh = await login(b.graphqlUrl, name, 'pw-1234567890');
    const probe = subscribe(b.websocketUrl, 'subscription { feedHealth { connected } }', {
      authorization: `Bearer ${fresh.accessToken}`,
    });
    await probe.connected;
    await probe.firstValue;
    const disabled = await gql(
      a.adminUrl,
      UPDATE_USER,
      { input: { id: user.id, disabled: true } },
      admin,
    );
    expect(disabled.errors).toBeUndefined();
    expect(await probe.closed).toEqual({ code: 4403, reason: 'Access revoked' });
    await probe.dispose();
  });

  it("shares the DhanHQ token: an admin's new token on the follower is the leader's at once", async () => {
    // DhanHQ (and the stand-in) refuse the previous token from the moment a new one is issued.
    const fresh = broker.accounts.issueToken(clientId());
    const set = await gql<{ setBrokerToken: { state: string } }>(
      b.adminUrl,
      SET_TOKEN,
      { token: fresh },
      await adminToken(b),
    );
    expect(set.data?.setBrokerToken.state).toBe('VALID');
    type TokenView = { brokerToken: { state: string; source: string; expiresAt: string } };
    const onB = (await gql<TokenView>(b.adminUrl, BROKER_TOKEN, {}, await adminToken(b))).data!;
    await eventually(async () => {
      const onA = await gql<TokenView>(a.adminUrl, BROKER_TOKEN, {}, await adminToken(a));
      return JSON.stringify(onA.data) === JSON.stringify(onB);
    }, 'A uses the token set on B');
    expect(onB.brokerToken).toMatchObject({ state: 'VALID', source: 'admin' });
    // Stored for an instance that boots later.
    expect(JSON.parse((await redis.get(BROKER_TOKEN_KEY))!)).toMatchObject({ token: fresh });
  });

  it('SIGSTOP of the leader past its TTL: B leads; A, woken, steps down and opens nothing', async () => {
    const subscriptionsBefore = brokerSubscriptions();
    const acceptedBefore = broker.feed.stats.accepted;
    a.child.kill('SIGSTOP');
    await eventually(
      async () => (await readyRole(b)) === 'LEADER',
      'B leads',
      FAILOVER_MS + LOCK_TTL_MS,
    );
    // B's 5 push the paused leader's 5 out (the oldest go first, as at DhanHQ): never 6 at once.
    await until(
      () => broker.feed.stats.accepted === acceptedBefore + FEED_CONNECTIONS,
      'B opens its 5 feed sockets',
    );
    await until(() => brokerSubscriptions().join() === subscriptionsBefore.join(), 'B replays');
    const dropsWhilePaused = dropped805();
    const socketsOfB = feedConnections().map((c) => c.id);

    a.child.kill('SIGCONT');
    await eventually(async () => (await readyRole(a)) === 'FOLLOWER', 'A reports FOLLOWER');
    // Every feed socket of A is down for good (stopped, not backing off to retry).
    await eventually(
      async () => (await feedStatus(a)).connections.every((c) => c.state === 'stopped'),
      "A's sockets are all stopped",
    );
    expect((await feedStatus(a)).role).toBe('FOLLOWER');
    expect((await feedStatus(b)).role).toBe('LEADER');
    expect(feedConnections().map((c) => c.id)).toEqual(socketsOfB);
    expect(broker.feed.stats.accepted).toBe(acceptedBefore + FEED_CONNECTIONS);
    expect(dropped805()).toBe(dropsWhilePaused);
    // A's order-update socket, still open at the broker while A was paused, closes too.
    await until(
      () => broker.orderUpdates.sessionCount(clientId()) === 1,
      'one order-update socket',
    );
    expect(mostConnections).toBe(FEED_CONNECTIONS);
  }, 120_000);

  it('SIGKILL of the leader: A leads again within 10 s with the same subscriptions, never a sixth socket', async () => {
    const subscriptionsBefore = brokerSubscriptions();
    const acceptedBefore = broker.feed.stats.accepted;
    const dropsBefore = dropped805();
    // A connects with the token B's admin set (the one A booted with is refused since).
    b.child.kill('SIGKILL');
    const killedAt = Date.now();
    await eventually(async () => (await readyRole(a)) === 'LEADER', 'A leads', FAILOVER_MS);
    await until(
      () =>
        broker.feed.stats.accepted === acceptedBefore + FEED_CONNECTIONS &&
        feedConnections().length === FEED_CONNECTIONS &&
        brokerSubscriptions().join() === subscriptionsBefore.join(),
      'A holds 5 feed sockets with the same subscriptions',
      [],
      Math.max(1, FAILOVER_MS - (Date.now() - killedAt)),
    );
    expect(dropped805()).toBe(dropsBefore);
    expect(mostConnections).toBe(FEED_CONNECTIONS);
    await until(
      () => broker.orderUpdates.sessionCount(clientId()) === 1,
      'A logs in to order updates',
    );
    expect((await feedStatus(a)).role).toBe('LEADER');
  }, 120_000);
});
