import WebSocket from 'ws';
import { createTestApp, type TestApp } from './utils/test-app';
import { gql, login, subscribe, type SubscriptionProbe } from './utils/graphql-client';
import { claimsOf, forgeToken, unsignedToken } from './utils/tokens';

const SERVER_TIME = 'subscription { serverTime }';
const FORBIDDEN_CLOSE = 4403;

describe('subscriptions over graphql-ws (e2e)', () => {
  let t: TestApp;
  let userToken: string;
  const probes: SubscriptionProbe[] = [];

  function open(url: string, params: Record<string, unknown> | undefined) {
    const probe = subscribe(url, SERVER_TIME, params);
    probes.push(probe);
    return probe;
  }

  /** Refused: the socket closes as forbidden and no data is ever delivered. */
  async function expectRefused(probe: SubscriptionProbe) {
    const closed = await probe.closed;
    expect(closed.code).toBe(FORBIDDEN_CLOSE);
    await probe.failed;
    expect(probe.received).toEqual([]);
  }

  beforeAll(async () => {
    t = await createTestApp();
    userToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
  });

  afterEach(async () => {
    await Promise.all(probes.splice(0).map((probe) => probe.dispose()));
  });

  afterAll(async () => {
    await t?.close();
  });

  it('delivers serverTime to a socket authenticated in connection_init', async () => {
    const probe = open(t.websocketUrl, { authorization: `Bearer ${userToken}` });
    const first = (await probe.firstValue) as { data: { serverTime: string } };
    const time = new Date(first.data.serverTime).getTime();
    expect(Number.isFinite(time)).toBe(true);
    expect(Math.abs(time - Date.now())).toBeLessThan(60_000);
  });

  it('closes a socket that never sends connection_init with 4408, having sent nothing', async () => {
    const socket = new WebSocket(t.websocketUrl, 'graphql-transport-ws');
    const received: string[] = [];
    socket.on('message', (data) => received.push(String(data)));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    const { code, reason } = await closed;
    expect(code).toBe(4408);
    expect(reason).toMatch(/initialisation timeout/i);
    expect(received).toEqual([]);
  });

  it('refuses a socket without a token', async () => {
    await expectRefused(open(t.websocketUrl, {}));
  });

  it('refuses a socket with no connection_init payload at all', async () => {
    await expectRefused(open(t.websocketUrl, undefined));
  });

  it('refuses an expired token', async () => {
    const { sub, sid } = claimsOf(userToken);
    const expired = forgeToken({
      secret: t.config.auth.jwtSecret,
      config: t.config,
      userId: sub,
      sessionId: sid,
      role: 'ADMIN',
      expiresInSeconds: -30,
    });
    await expectRefused(open(t.websocketUrl, { authorization: `Bearer ${expired}` }));
  });

  it('refuses a token signed by another key', async () => {
    const { sub, sid } = claimsOf(userToken);
    const foreign = forgeToken({
      secret: 'another-key-another-key-another-key-0123',
      config: t.config,
      userId: sub,
      sessionId: sid,
      role: 'ADMIN',
    });
    await expectRefused(open(t.websocketUrl, { authorization: `Bearer ${foreign}` }));
  });

  it('refuses an unsigned token (alg: none)', async () => {
    const { sub, sid } = claimsOf(userToken);
    const unsigned = unsignedToken({
      config: t.config,
      userId: sub,
      sessionId: sid,
      role: 'ADMIN',
    });
    await expectRefused(open(t.websocketUrl, { authorization: `Bearer ${unsigned}` }));
  });

  it('refuses a well-signed token whose session was logged out', async () => {
    const session = await login(t.graphqlUrl, t.admin.username, t.admin.password);
    const out = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${session.accessToken}`,
      },
      body: JSON.stringify({ query: 'mutation { logout }' }),
    });
    expect(((await out.json()) as { data: { logout: boolean } }).data.logout).toBe(true);
    await expectRefused(open(t.websocketUrl, { authorization: `Bearer ${session.accessToken}` }));
  });

  it('closes the open sockets of a user as soon as an admin disables them', async () => {
    const password = 'another long password';
    const created = await gql<{ createUser: { id: string } }>(
      t.adminUrl,
      'mutation ($p: String!) { createUser(input: { username: "to-disable", password: $p }) { id } }',
      { p: password },
      userToken,
    );
    const session = await login(t.graphqlUrl, 'to-disable', password);
    const probe = open(t.websocketUrl, { authorization: `Bearer ${session.accessToken}` });
    await probe.firstValue;
    const disabled = await gql(
      t.adminUrl,
      'mutation ($id: ID!) { updateUser(input: { id: $id, disabled: true }) { disabled } }',
      { id: created.data!.createUser.id },
      userToken,
    );
    expect(disabled.errors).toBeUndefined();
    expect((await probe.closed).code).toBe(FORBIDDEN_CLOSE);
  });

  it('closes the open sockets of a session at logout', async () => {
    const session = await login(t.graphqlUrl, t.admin.username, t.admin.password);
    const probe = open(t.websocketUrl, { authorization: `Bearer ${session.accessToken}` });
    await probe.firstValue;
    await gql(t.graphqlUrl, 'mutation { logout }', {}, session.accessToken);
    expect((await probe.closed).code).toBe(FORBIDDEN_CLOSE);
  });

  it('refuses a USER token on the admin endpoint socket', async () => {
    const password = 'a long enough password';
    const created = await fetch(t.adminUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${userToken}` },
      body: JSON.stringify({
        query: `mutation { createUser(input: { username: "ws-user", password: "${password}" }) { id } }`,
      }),
    });
    expect(created.status).toBe(200);
    const plain = await login(t.graphqlUrl, 'ws-user', password);
    await expectRefused(
      open(t.adminWebsocketUrl, { authorization: `Bearer ${plain.accessToken}` }),
    );
  });
});

describe('subscription socket whose access token expires (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ ACCESS_TOKEN_TTL: '3' });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('is closed as forbidden when the token expires', async () => {
    const session = await login(t.graphqlUrl, t.admin.username, t.admin.password);
    const probe = subscribe(t.websocketUrl, SERVER_TIME, {
      authorization: `Bearer ${session.accessToken}`,
    });
    try {
      // Acknowledged first: the close comes from the expiry, not from a refusal.
      await probe.connected;
      const closed = await probe.closed;
      expect(closed.code).toBe(FORBIDDEN_CLOSE);
      // Closed at (not long before) the token's expiry.
      expect(Date.now()).toBeGreaterThanOrEqual(claimsOf(session.accessToken).exp * 1000 - 50);
    } finally {
      await probe.dispose();
    }
  });
});

describe('WebSocket origin allowlist (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ ALLOWED_ORIGINS: 'https://terminal.example.com' });
  });

  afterAll(async () => {
    await t?.close();
  });

  /** Resolves with the HTTP status of a refused upgrade, or 101 when the socket opens. */
  function upgradeStatus(origin: string | undefined): Promise<number> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(t.websocketUrl, 'graphql-transport-ws', {
        headers: origin ? { origin } : {},
      });
      socket.once('open', () => {
        socket.once('close', () => resolve(101));
        socket.close();
      });
      socket.once('unexpected-response', (request, response) => {
        response.resume();
        request.destroy();
        resolve(response.statusCode ?? 0);
      });
      socket.once('error', (error) => {
        if (!/Unexpected server response|closed before the connection/.test(error.message)) {
          reject(error);
        }
      });
    });
  }

  it('refuses the upgrade from a foreign browser origin', async () => {
    expect(await upgradeStatus('https://evil.example')).toBe(403);
  });

  it('accepts the allowed origin and clients that send no Origin', async () => {
    expect(await upgradeStatus('https://terminal.example.com')).toBe(101);
    expect(await upgradeStatus(undefined)).toBe(101);
  });
});
