import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { WsAuthGate } from '../src/auth/ws-auth.gate';
import { gql, login } from './utils/graphql-client';
import { openRaw, until, type RawSocket, type ServerMessage } from './utils/raw-ws';
import { createTestApp, type TestApp } from './utils/test-app';

const SERVER_TIME = 'subscription { serverTime }';
// Floods of thousands of frames on a machine that may be loaded: generous, never relied on.
jest.setTimeout(300_000);

type ErrorPayload = Array<{ message: string; extensions?: { code?: string; quota?: string } }>;

function errorsOf(message: ServerMessage): ErrorPayload {
  return message.payload as ErrorPayload;
}

async function createUser(t: TestApp, adminToken: string, username: string): Promise<string> {
  const password = `${username}-long-password`;
  const created = await gql(
    t.adminUrl,
    'mutation ($u: String!, $p: String!) { createUser(input: { username: $u, password: $p }) { id } }',
    { u: username, p: password },
    adminToken,
  );
  expect(created.errors).toBeUndefined();
  return (await login(t.graphqlUrl, username, password)).accessToken;
}

function userIdOf(token: string): string {
  return (
    JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as {
      sub: string;
    }
  ).sub;
}

describe('graphql-ws protocol at the WebSocket edge (e2e)', () => {
  let t: TestApp;
  let adminToken: string;
  let userToken: string;
  const sockets: RawSocket[] = [];

  async function open(url = t.websocketUrl, protocol?: string): Promise<RawSocket> {
    const raw = await openRaw(url, protocol);
    sockets.push(raw);
    return raw;
  }

  async function ready(token = userToken, url = t.websocketUrl): Promise<RawSocket> {
    const raw = await open(url);
    await raw.init(token);
    return raw;
  }

  beforeAll(async () => {
    t = await createTestApp();
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    userToken = await createUser(t, adminToken, 'ws-protocol-user');
  });

  afterEach(() => {
    for (const raw of sockets.splice(0)) raw.terminate();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('closes a second connection_init with 4429 and never acknowledges it as another user', async () => {
    const raw = await ready(userToken);
    raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${adminToken}` } });
    const closed = await raw.closed;
    expect(closed).toEqual({ code: 4429, reason: 'Too many initialisation requests' });
    expect(raw.messages.filter((m) => m.type === 'connection_ack')).toHaveLength(1);
  });

  it('closes a second connection_init with 4429 even before the first is acknowledged', async () => {
    const raw = await open();
    raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${userToken}` } });
    raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${adminToken}` } });
    expect((await raw.closed).code).toBe(4429);
  });

  it('closes a duplicate subscription id with 4409 while the first is active, leaving no stream', async () => {
    const gate = t.app.get(WsAuthGate);
    const userId = userIdOf(userToken);
    const raw = await ready();
    raw.send({ id: 'dup', type: 'subscribe', payload: { query: SERVER_TIME } });
    await raw.waitFor((m) => m.type === 'next' && m.id === 'dup');
    expect(gate.activeSubscriptions(userId)).toBe(1);
    raw.send({ id: 'dup', type: 'subscribe', payload: { query: SERVER_TIME } });
    expect(await raw.closed).toEqual({ code: 4409, reason: 'Subscriber for dup already exists' });
    await until(() => gate.activeSubscriptions(userId) === 0, 'the stream to end');
  });

  it('accepts an id again once its subscription completed', async () => {
    const raw = await ready();
    raw.send({ id: 'again', type: 'subscribe', payload: { query: SERVER_TIME } });
    await raw.waitFor((m) => m.type === 'next' && m.id === 'again');
    raw.send({ id: 'again', type: 'complete' });
    await raw.waitFor((m) => m.type === 'complete' && m.id === 'again');
    const seen = raw.messages.length;
    raw.send({ id: 'again', type: 'subscribe', payload: { query: SERVER_TIME } });
    await raw.waitFor(
      (m) => raw.messages.indexOf(m) >= seen && m.type === 'next' && m.id === 'again',
    );
    expect(raw.closeInfo).toBeUndefined();
  });

  it.each([
    ['not JSON', '{"type":"connection_init"'],
    ['JSON that is not an object', '[1,2,3]'],
    [
      'an unknown type',
      '{"type":"start","id":"1","payload":{"query":"subscription { serverTime }"}}',
    ],
    ['a server message (next)', '{"type":"next","id":"1","payload":{}}'],
    ['a server message (connection_ack)', '{"type":"connection_ack"}'],
    [
      'a subscribe with a numeric id',
      '{"type":"subscribe","id":1,"payload":{"query":"{ me { id } }"}}',
    ],
    ['a subscribe without a query', '{"type":"subscribe","id":"1","payload":{}}'],
    ['a complete without id', '{"type":"complete"}'],
    ['a __proto__ key', '{"type":"ping","payload":{"__proto__":{"polluted":true}}}'],
  ])('closes %s with 4400, after connection_init or before', async (_name, frame) => {
    const acked = await ready();
    acked.sendRaw(frame);
    expect(await acked.closed).toEqual({ code: 4400, reason: 'Invalid message received' });
    const fresh = await open();
    fresh.sendRaw(frame);
    expect((await fresh.closed).code).toBe(4400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('closes subscribe before the connection is acknowledged with 4401', async () => {
    const never = await open();
    never.send({ id: '1', type: 'subscribe', payload: { query: SERVER_TIME } });
    expect(await never.closed).toEqual({ code: 4401, reason: 'Unauthorized' });
    expect(never.messages).toEqual([]);

    // Sent right behind connection_init, before its acknowledgement: still unauthorised.
    const eager = await open();
    eager.send({ type: 'connection_init', payload: { authorization: `Bearer ${userToken}` } });
    eager.send({ id: '1', type: 'subscribe', payload: { query: SERVER_TIME } });
    expect((await eager.closed).code).toBe(4401);
    expect(eager.messages.filter((m) => m.type === 'next')).toEqual([]);
  });

  it('closes a socket of the deprecated subscriptions-transport-ws protocol with 4406', async () => {
    const legacy = await open(t.websocketUrl, 'graphql-ws');
    legacy.send({ type: 'connection_init', payload: { authorization: `Bearer ${userToken}` } });
    expect(await legacy.closed).toEqual({ code: 4406, reason: 'Subprotocol not acceptable' });
    expect(legacy.messages).toEqual([]);
  });

  it('answers ping with pong before and after connection_init', async () => {
    const raw = await open();
    raw.send({ type: 'ping' });
    await raw.waitFor((m) => m.type === 'pong');
    await raw.init(userToken);
    raw.send({ type: 'ping', payload: { at: 1 } });
    await until(() => raw.messages.filter((m) => m.type === 'pong').length === 2, 'a second pong');
  });

  it('answers invalid documents, queries and unknown operations with BAD_USER_INPUT, socket open', async () => {
    const raw = await ready();
    const cases: Array<[string, Record<string, unknown>]> = [
      ['syntax', { query: 'subscription {' }],
      ['unknown field', { query: 'subscription { nope }' }],
      ['two root fields', { query: 'subscription { serverTime feedHealth { connected } }' }],
      // graphql-js' own validation throws on this one (found by the fuzz).
      ['skip on a variable', { query: 'subscription ($x: Boolean!) { serverTime @skip(if: $x) }' }],
      ['a query', { query: '{ me { id } }' }],
      ['a mutation', { query: 'mutation { logout }' }],
      ['operationName', { query: SERVER_TIME, operationName: 'Missing' }],
      [
        'variables',
        {
          query: 'subscription ($i: [InstrumentInput!]!) { ticks(instruments: $i) { ltp } }',
          variables: { i: 'x' },
        },
      ],
      ['too many tokens', { query: `subscription { serverTime ${'@a '.repeat(3000)} }` }],
      ['too long', { query: `subscription ${'A'.repeat(20_000)} { serverTime }` }],
    ];
    for (const [id, payload] of cases) raw.send({ id, type: 'subscribe', payload });
    for (const [id] of cases) {
      const error = await raw.waitFor((m) => m.type === 'error' && m.id === id);
      for (const e of errorsOf(error)) expect(e.extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect(raw.closeInfo).toBeUndefined();
    // And the socket still serves a valid subscription.
    raw.send({ id: 'ok', type: 'subscribe', payload: { query: SERVER_TIME } });
    await raw.waitFor((m) => m.type === 'next' && m.id === 'ok');
  });

  it('answers every subscribe on the admin endpoint (no subscriptions there) with BAD_USER_INPUT', async () => {
    const raw = await ready(adminToken, t.adminWebsocketUrl);
    raw.send({ id: 'a', type: 'subscribe', payload: { query: SERVER_TIME } });
    const error = await raw.waitFor((m) => m.type === 'error' && m.id === 'a');
    expect(errorsOf(error)[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('subscription caps per socket and per user (e2e)', () => {
  let t: TestApp;
  let gate: WsAuthGate;
  let adminToken: string;
  const sockets: RawSocket[] = [];

  beforeAll(async () => {
    // Keep-alive far beyond the suite: the floods below keep this process busy for long stretches
    // on a loaded machine, and a pong answered late would drop a flooder's socket (and its 25
    // slots) by the ping rule, which the keep-alive suite below tests on its own.
    t = await createTestApp({ WS_PING_INTERVAL_MS: '600000' });
    gate = t.app.get(WsAuthGate);
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
  });

  afterEach(async () => {
    for (const raw of sockets.splice(0)) raw.terminate();
    await until(() => gate.activeSubscriptions() === 0, 'every slot to be released');
  });

  afterAll(async () => {
    await t?.close();
  });

  async function ready(token: string): Promise<RawSocket> {
    const raw = await openRaw(t.websocketUrl);
    sockets.push(raw);
    await raw.init(token);
    return raw;
  }

  /** Sends `count` subscribes and resolves with the refusals once every one was answered. */
  async function flood(
    raw: RawSocket,
    prefix: string,
    query: string,
    count: number,
    expectAccepted: number,
  ): Promise<ServerMessage[]> {
    for (let i = 0; i < count; i += 1) {
      raw.send({ id: `${prefix}-${i}`, type: 'subscribe', payload: { query } });
    }
    const mine = (m: ServerMessage) => typeof m.id === 'string' && m.id.startsWith(`${prefix}-`);
    const errorsBefore = raw.count('error');
    await raw.waitUntil(
      () => raw.count('error') - errorsBefore >= count - expectAccepted,
      `${count - expectAccepted} refusals`,
      120_000,
    );
    return raw.messages.filter((m) => m.type === 'error' && mine(m));
  }

  function quotas(refusals: ServerMessage[]): Set<string | undefined> {
    return new Set(
      refusals.flatMap((m) =>
        errorsOf(m).map((e) => `${e.extensions?.code}:${e.extensions?.quota}`),
      ),
    );
  }

  it('refuses thousands of serverTime subscriptions on several sockets past the caps; another user is served', async () => {
    const token = await createUser(t, adminToken, 'ws-flooder');
    const userId = userIdOf(token);
    const flooders = [];
    for (let s = 0; s < 4; s += 1) {
      const raw = await ready(token);
      flooders.push(raw);
      // 25 per field per socket (WS_SUBSCRIPTIONS_PER_SOCKET_FIELD).
      const refused = await flood(raw, `s${s}`, SERVER_TIME, 2_000, 25);
      expect(refused).toHaveLength(1_975);
      expect(quotas(refused)).toEqual(
        new Set(['CAPACITY_EXCEEDED:WS_SUBSCRIPTIONS_PER_SOCKET_FIELD']),
      );
    }
    expect(gate.activeSubscriptions(userId)).toBe(100);
    // A fifth socket of the same user: the per-user cap of the field (100) is reached.
    const fifth = await ready(token);
    const refused = await flood(fifth, 's4', SERVER_TIME, 2_000, 0);
    expect(refused).toHaveLength(2_000);
    expect(quotas(refused)).toEqual(new Set(['CAPACITY_EXCEEDED:WS_SUBSCRIPTIONS_PER_USER_FIELD']));
    expect(errorsOf(refused[0])[0].message).toMatch(/at most 100.*WS_SUBSCRIPTIONS_PER_USER_FIELD/);
    expect(gate.activeSubscriptions(userId)).toBe(100);

    // The admitted ones stream; another user is answered.
    await flooders[3].waitFor((m) => m.type === 'next' && m.id === 's3-0');
    const me = await gql<{ me: { username: string } }>(
      t.graphqlUrl,
      '{ me { username } }',
      {},
      adminToken,
    );
    expect(me.data?.me.username).toBe(t.admin.username);
    const other = await ready(adminToken);
    other.send({ id: 'mine', type: 'subscribe', payload: { query: SERVER_TIME } });
    await other.waitFor((m) => m.type === 'next' && m.id === 'mine');
  });

  it('caps orderUpdates, positionUpdates and feedHealth per field, and all fields per socket', async () => {
    const token = await createUser(t, adminToken, 'ws-streams');
    const raw = await ready(token);
    const fields = [
      ['o', 'subscription { orderUpdates { id status } }'],
      ['p', 'subscription { positionUpdates { netQuantity } }'],
      ['f', 'subscription { feedHealth { connected } }'],
    ];
    for (const [prefix, query] of fields) {
      const refused = await flood(raw, prefix, query, 999, 25);
      expect(refused).toHaveLength(974);
      expect(quotas(refused)).toEqual(
        new Set(['CAPACITY_EXCEEDED:WS_SUBSCRIPTIONS_PER_SOCKET_FIELD']),
      );
    }
    // A fourth field reaches 100 on the socket (WS_SUBSCRIPTIONS_PER_SOCKET), reported
    // first when both caps are reached.
    const refused = await flood(raw, 't', SERVER_TIME, 999, 25);
    expect(quotas(refused)).toEqual(new Set(['CAPACITY_EXCEEDED:WS_SUBSCRIPTIONS_PER_SOCKET']));
    expect(gate.activeSubscriptions(userIdOf(token))).toBe(100);
    // A field not yet used on the socket is refused too.
    raw.send({
      id: 'ticks',
      type: 'subscribe',
      payload: {
        query:
          'subscription { ticks(instruments: [{ segment: IDX_I, securityId: "13" }]) { ltp } }',
      },
    });
    const refusal = await raw.waitFor((m) => m.type === 'error' && m.id === 'ticks');
    expect(errorsOf(refusal)[0].extensions).toEqual({
      code: 'CAPACITY_EXCEEDED',
      quota: 'WS_SUBSCRIPTIONS_PER_SOCKET',
      limit: 100,
    });
    // Closing the socket gives every slot back.
    raw.terminate();
    await until(() => gate.activeSubscriptions(userIdOf(token)) === 0, 'the slots to be released');
  });

  it('releases the slot of a completed subscription: 10,000 subscribe/complete pairs stay within the cap', async () => {
    const token = await createUser(t, adminToken, 'ws-churn');
    const userId = userIdOf(token);
    const raw = await ready(token);
    const completes = () => raw.count('complete');
    // Batches of 20 (under the 25 per field): half completed at once, before their stream is
    // even established, half after the batch.
    for (let batch = 0; batch < 500; batch += 1) {
      for (let i = 0; i < 20; i += 1) {
        const id = `c-${batch}-${i}`;
        raw.send({ id, type: 'subscribe', payload: { query: SERVER_TIME } });
        if (i % 2 === 0) raw.send({ id, type: 'complete' });
      }
      for (let i = 1; i < 20; i += 2) raw.send({ id: `c-${batch}-${i}`, type: 'complete' });
      await raw.waitUntil(() => completes() >= (batch + 1) * 20, `batch ${batch} to complete`);
    }
    expect(completes()).toBe(10_000);
    expect(raw.count('error')).toBe(0);
    expect(gate.activeSubscriptions(userId)).toBe(0);
    // Nothing leaked: the full cap is still available, and streams run.
    const refused = await flood(raw, 'after', SERVER_TIME, 25, 25);
    expect(refused).toEqual([]);
    await raw.waitFor((m) => m.type === 'next' && m.id === 'after-24');
    expect(gate.activeSubscriptions(userId)).toBe(25);
  });
});

describe('WebSocket keep-alive (e2e)', () => {
  let t: TestApp;
  const INTERVAL_MS = 1_500;

  beforeAll(async () => {
    t = await createTestApp({ WS_PING_INTERVAL_MS: String(INTERVAL_MS) });
  });

  afterAll(async () => {
    await t?.close();
  });

  function serverSockets(): number {
    return (t.app.getHttpAdapter().getInstance() as unknown as FastifyInstance).websocketServer
      .clients.size;
  }

  async function subscribed(autoPong: boolean): Promise<{ raw: RawSocket; pings: () => number }> {
    const token = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    const raw = await openRaw(t.websocketUrl, 'graphql-transport-ws', { autoPong });
    await raw.init(token);
    raw.send({
      id: 'o',
      type: 'subscribe',
      payload: { query: 'subscription { orderUpdates { id } }' },
    });
    return { raw, pings: () => raw.pings };
  }

  it('terminates a peer that stops answering pings after at most two pings', async () => {
    const { raw, pings } = await subscribed(false);
    const closed = await raw.closed;
    expect(closed.code).toBe(1006);
    // Pinged once (or twice if connected just before a beat), unanswered: dropped at the next.
    expect(pings()).toBeGreaterThanOrEqual(1);
    expect(pings()).toBeLessThanOrEqual(2);
  });

  it('drops a peer whose reads are paused, holding an idle orderUpdates', async () => {
    await until(() => serverSockets() === 0, 'earlier sockets to be gone');
    const { raw } = await subscribed(true);
    await until(() => serverSockets() === 1, 'the server to see the socket');
    (raw.socket as unknown as { _socket: Socket })._socket.pause();
    await until(() => serverSockets() === 0, 'the server to drop the paused peer');
    raw.terminate();
  });

  it('keeps a healthy idle client across several intervals', async () => {
    const { raw, pings } = await subscribed(true);
    await until(() => pings() >= 4, 'four pings', 60_000);
    expect(raw.closeInfo).toBeUndefined();
    raw.send({ type: 'ping' });
    await raw.waitFor((m) => m.type === 'pong');
    raw.terminate();
  });
});
