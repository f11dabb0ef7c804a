import type { DhanSimulator } from '@app/dhan-simulator';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DHAN_ENDPOINTS, type DhanEndpoints } from '../src/dhan/dhan-endpoints';
import {
  EXECUTION_RECONCILED,
  type ExecutionReconciledPayload,
} from '../src/execution/execution.contract';
import { ExecutionService } from '../src/execution/execution.service';
import { InstrumentsService } from '../src/instruments/instruments.service';
import { TierBService } from '../src/market-data/chains/tier-b.service';
import { FeedPool } from '../src/market-data/feed/feed-pool.service';
import { errorCodes, gql, login } from './utils/graphql-client';
import { ready } from './utils/readiness';
import { createTestApp, type TestApp } from './utils/test-app';

/** Polls a condition (socket and timer state has no event to await from outside). */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Each simulator feed connection's subscription set, as sorted text (order of sockets ignored). */
function feedSets(sim: DhanSimulator, clientId: string): string[] {
  return sim.feed
    .connectionInfo(clientId)
    .map((c) => Object.values(sim.feed.subscriptions(c.id)).flat().sort().join(','))
    .sort();
}

const FEED_STATUS = `{ feedStatus { paused pausedReason pausedSince connected
  connections { index state } } }`;
const SET_TOKEN = `mutation Set($token: String!) {
  setBrokerToken(token: $token) { state source expiresAt refusedReason changes } }`;

describe('broker token lifecycle (e2e): refusal pauses, a new token resumes', () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let endpoints: DhanEndpoints;
  let pool: FeedPool;
  let adminToken: string;

  beforeAll(async () => {
    t = await createTestApp(
      {},
      {
        configure: (config) => ({
          ...config,
          // Fast feed retries: a paused feed that retried would show many attempts at once.
          marketData: { feedBackoff: { baseMs: 20, capMs: 100 } },
        }),
      },
    );
    await t.app.get(InstrumentsService).ready();
    await t.app.get(TierBService).whenPinned();
    await t.app.get(ExecutionService).whenReady();
    endpoints = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS);
    sim = endpoints.simulator!;
    pool = t.app.get(FeedPool);
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('807 pauses all 5 feed connections and the order-update socket without retrying; setBrokerToken brings them back with the same subscriptions and reconciles', async () => {
    const clientId = endpoints.clientId;
    await until('5 feed connections and the order-update login', () => {
      return (
        pool.connected() &&
        sim.feed.connectionInfo(clientId).length === 5 &&
        sim.orderUpdates.sessionCount(clientId) === 1
      );
    });
    // Each connection's own set (what it replays) has reached the simulator.
    const placed = () =>
      pool.connections
        .map((c) =>
          c
            .subscriptions()
            .map((s) => `${s.instrument.segment}:${s.instrument.securityId}`)
            .sort()
            .join(','),
        )
        .sort();
    await until(
      'the subscriptions at the simulator',
      () => feedSets(sim, clientId).join('|') === placed().join('|'),
    );
    const before = feedSets(sim, clientId);
    expect(before).toHaveLength(5);
    expect(before.join(',').split(',').filter(Boolean).length).toBeGreaterThan(0);

    sim.expireToken();
    await until(
      'the pause',
      () => pool.pauseState().paused && sim.orderUpdates.sessionCount(clientId) === 0,
    );
    await until('every connection paused', () => pool.status().every((c) => c.state === 'paused'));

    const status = await gql<{
      feedStatus: {
        paused: boolean;
        pausedReason: string;
        pausedSince: string;
        connected: boolean;
        connections: Array<{ state: string }>;
      };
    }>(t.adminUrl, FEED_STATUS, {}, adminToken);
    expect(status.data?.feedStatus).toMatchObject({ paused: true, connected: false });
    expect(status.data?.feedStatus.pausedReason).toContain('807');
    expect(Number.isNaN(Date.parse(status.data!.feedStatus.pausedSince))).toBe(false);
    expect(status.data?.feedStatus.connections.map((c) => c.state)).toEqual(
      Array(5).fill('paused'),
    );

    const notReady = await ready(t);
    expect(notReady.status).toBe(503);
    expect(notReady.body.checks['broker-token']).toBe('down');
    expect(notReady.body.details['broker-token'].reason).toContain('807');
    expect(notReady.body.details['broker-token'].since).not.toBeNull();
    expect(notReady.body.checks['order-updates']).toBe('down');

    // No reconnect storm: nothing reaches the simulator while paused, over many backoff periods.
    const attempts = () => ({
      feed: sim.feed.stats.accepted + sim.feed.stats.authFailures,
      orderUpdates: sim.orderUpdates.stats.logins + sim.orderUpdates.stats.loginFailures,
    });
    const whilePaused = attempts();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(attempts()).toEqual(whilePaused);
    expect(sim.feed.connectionInfo(clientId)).toHaveLength(0);

    // The expired token is refused by DhanHQ's check: nothing changes.
    const refused = await gql(
      t.adminUrl,
      SET_TOKEN,
      { token: sim.credentials.accessToken },
      adminToken,
    );
    expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(pool.pauseState().paused).toBe(true);
    expect(attempts()).toEqual(whilePaused);

    const reconciled = new Promise<ExecutionReconciledPayload>((resolve) => {
      const events = t.app.get(EventEmitter2);
      const listener = (payload: ExecutionReconciledPayload) => {
        if (payload.reason !== 'reconnect') return;
        events.off(EXECUTION_RECONCILED, listener);
        resolve(payload);
      };
      events.on(EXECUTION_RECONCILED, listener);
    });
    const fresh = sim.issueToken();
    const set = await gql<{
      setBrokerToken: { state: string; source: string; expiresAt: string };
    }>(t.adminUrl, SET_TOKEN, { token: fresh }, adminToken);
    expect(set.errors).toBeUndefined();
    expect(set.data?.setBrokerToken).toMatchObject({ state: 'VALID', source: 'admin' });
    expect(Date.parse(set.data!.setBrokerToken.expiresAt)).toBeGreaterThan(Date.now());
    expect(JSON.stringify(set)).not.toContain(fresh);

    await until(
      'all 5 feed connections and the order-update socket back',
      () =>
        pool.connected() &&
        sim.feed.connectionInfo(clientId).length === 5 &&
        sim.orderUpdates.sessionCount(clientId) === 1,
    );
    // Every connection replayed its set: the simulator holds what each connection holds, and
    // nothing subscribed before the pause is missing.
    await until(
      'every subscription replayed',
      () => feedSets(sim, clientId).join('|') === placed().join('|'),
    );
    const after = new Set(feedSets(sim, clientId).join(',').split(','));
    expect(
      before
        .join(',')
        .split(',')
        .filter((k) => !after.has(k)),
    ).toEqual([]);
    await expect(reconciled).resolves.toMatchObject({ reason: 'reconnect' });
    await until('/ready 200', async () => (await ready(t)).status === 200);

    const audit = await gql<{ auditLog: Array<{ action: string; payload: string }> }>(
      t.adminUrl,
      `{ auditLog(limit: 20) { action payload } }`,
      {},
      adminToken,
    );
    const entry = audit.data?.auditLog.find((e) => e.action === 'setBrokerToken');
    expect(entry).toBeDefined();
    expect(entry!.payload).not.toContain(fresh);
    expect(JSON.parse(entry!.payload)).toMatchObject({ resumed: true, verified: true });
  });
});

describe('broker token renewal (e2e): RenewToken ahead of expiry, TOTP when refused', () => {
  let t: TestApp;
  let sim: DhanSimulator;
  let endpoints: DhanEndpoints;
  let pool: FeedPool;
  let refusals = 0;
  const totpSecret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

  beforeAll(async () => {
    t = await createTestApp(
      {},
      {
        // Tokens live 120 s and are renewed 115 s ahead: a renewal about every 5 s, with a wide
        // margin before expiry (a loaded machine can stall the boot for many seconds).
        simulatorOptions: { tokenTtlMs: 120_000, pin: '123456', totpSecret },
        configure: (config) => ({
          ...config,
          dhan: { ...config.dhan, tokenRenewBeforeMs: 115_000, pin: '123456', totpSecret },
          marketData: { feedBackoff: { baseMs: 20, capMs: 100 } },
        }),
      },
    );
    await t.app.get(InstrumentsService).ready();
    endpoints = t.app.get<DhanEndpoints>(DHAN_ENDPOINTS);
    sim = endpoints.simulator!;
    pool = t.app.get(FeedPool);
    endpoints.token.on('refused', () => refusals++);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('renews the token through RenewToken before it expires; the feed never pauses', async () => {
    const first = endpoints.accessToken();
    const renewed = new Promise<void>((resolve) => {
      const listener = (change: { source: string }) => {
        if (change.source !== 'renewal') return;
        endpoints.token.off('changed', listener);
        resolve();
      };
      endpoints.token.on('changed', listener);
    });
    await renewed;
    expect(endpoints.token.status()).toMatchObject({ state: 'VALID', source: 'renewal' });
    expect(endpoints.accessToken()).not.toBe(first);
    expect(sim.rest.stats.tokensRenewed).toBeGreaterThanOrEqual(1);
    // DhanHQ ends the old token at renewal; the new one is the account's.
    expect(sim.accounts.get(endpoints.clientId)?.accessToken).toBe(endpoints.accessToken());
    expect(sim.accounts.authenticate(endpoints.clientId, first, false).ok).toBe(false);
    await until('the feed connected', () => pool.connected());
    // Never paused: a connect racing a renewal (809 on the old token) retries with the new one.
    expect(pool.pauseState().paused).toBe(false);
    expect(refusals).toBe(0);
  });

  it('a refused token is replaced through generateAccessToken (PIN + TOTP) and the feed resumes', async () => {
    await until('the feed connected', () => pool.connected());
    const generatedBefore = sim.rest.stats.tokensGenerated;
    const resumed = new Promise<{ source: string; wasRefused: boolean }>((resolve) => {
      const listener = (change: { source: string; wasRefused: boolean }) => {
        if (!change.wasRefused) return;
        endpoints.token.off('changed', listener);
        resolve(change);
      };
      endpoints.token.on('changed', listener);
    });
    sim.expireToken();
    await expect(resumed).resolves.toMatchObject({ source: 'totp', wasRefused: true });
    expect(sim.rest.stats.tokensGenerated).toBe(generatedBefore + 1);
    await until('the feed back', () => pool.connected() && !pool.pauseState().paused);
    expect(sim.feed.connectionInfo(endpoints.clientId)).toHaveLength(5);
  });
});
