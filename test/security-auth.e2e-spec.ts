import { createTestApp, type TestApp } from './utils/test-app';
import {
  errorCodes,
  gql,
  login,
  subscribe,
  type GraphqlResponse,
  type SessionPayload,
  type SubscriptionProbe,
} from './utils/graphql-client';

const FORBIDDEN_CLOSE = 4403;
const ME = 'query { me { id username } }';
const REFRESH = `mutation Refresh($token: String!) {
  refreshSession(refreshToken: $token) { accessToken refreshToken expiresAt user { id } }
}`;
const CREATE_USER = `mutation Create($input: CreateUserInput!) { createUser(input: $input) { id } }`;
const UPDATE_USER = `mutation Update($input: UpdateUserInput!) { updateUser(input: $input) { id } }`;
const CHANGE_PASSWORD = `mutation Change($old: String!, $new: String!) {
  changePassword(oldPassword: $old, newPassword: $new)
}`;
const LOGIN_CODE = `mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }`;

const password = 'correct horse battery staple';

/** A socket of `session` with a running serverTime stream, once the first value arrived. */
async function openStream(t: TestApp, session: SessionPayload): Promise<SubscriptionProbe> {
  const probe = subscribe(t.websocketUrl, 'subscription { serverTime }', {
    authorization: `Bearer ${session.accessToken}`,
  });
  await probe.firstValue;
  return probe;
}

/** Resolves with the close if the socket closes within `ms`, else with 'open'. */
function closedWithin(probe: SubscriptionProbe, ms: number): Promise<number | 'open'> {
  return Promise.race([
    probe.closed.then((info) => info.code),
    new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), ms)),
  ]);
}

async function refreshCodes(t: TestApp, refreshToken: string) {
  return errorCodes(await gql(t.graphqlUrl, REFRESH, { token: refreshToken }));
}

async function meCodes(t: TestApp, accessToken: string) {
  return errorCodes(await gql(t.graphqlUrl, ME, {}, accessToken));
}

describe('security: sessions end with a password change or reset (e2e)', () => {
  let t: TestApp;
  let adminToken: string;
  const probes: SubscriptionProbe[] = [];

  async function newUser(username: string): Promise<string> {
    const created = await gql<{ createUser: { id: string } }>(
      t.adminUrl,
      CREATE_USER,
      { input: { username, password, role: 'USER' } },
      adminToken,
    );
    expect(created.errors).toBeUndefined();
    return created.data!.createUser.id;
  }

  beforeAll(async () => {
    t = await createTestApp();
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
  });

  afterAll(async () => {
    await Promise.allSettled(probes.map((probe) => probe.dispose()));
    await t?.close();
  });

  it('an admin password reset ends every session: sockets close 4403, old tokens are refused', async () => {
    const id = await newUser('reset-victim');
    const phone = await login(t.graphqlUrl, 'reset-victim', password);
    const desk = await login(t.graphqlUrl, 'reset-victim', password);
    // Both access tokens verified (and cached) just before the reset.
    expect(await meCodes(t, phone.accessToken)).toEqual([]);
    expect(await meCodes(t, desk.accessToken)).toEqual([]);
    const phoneStream = await openStream(t, phone);
    const deskStream = await openStream(t, desk);
    probes.push(phoneStream, deskStream);

    const reset = await gql(
      t.adminUrl,
      UPDATE_USER,
      { input: { id, password: 'a brand new password' } },
      adminToken,
    );
    expect(reset.errors).toBeUndefined();

    expect((await phoneStream.closed).code).toBe(FORBIDDEN_CLOSE);
    expect((await deskStream.closed).code).toBe(FORBIDDEN_CLOSE);
    for (const session of [phone, desk]) {
      expect(await meCodes(t, session.accessToken)).toEqual(['UNAUTHENTICATED']);
      expect(await refreshCodes(t, session.refreshToken)).toEqual(['UNAUTHENTICATED']);
    }
    // A socket opened with an old access token is refused too.
    const late = subscribe(t.websocketUrl, 'subscription { serverTime }', {
      authorization: `Bearer ${phone.accessToken}`,
    });
    probes.push(late);
    expect((await late.closed).code).toBe(FORBIDDEN_CLOSE);
    // The new password works, the old one does not.
    await expect(login(t.graphqlUrl, 'reset-victim', password)).rejects.toThrow(/UNAUTHENTICATED/);
    const fresh = await login(t.graphqlUrl, 'reset-victim', 'a brand new password');
    expect(await meCodes(t, fresh.accessToken)).toEqual([]);
  });

  it('an admin change that sets no password leaves sessions alone', async () => {
    const id = await newUser('promoted');
    const session = await login(t.graphqlUrl, 'promoted', password);
    const stream = await openStream(t, session);
    probes.push(stream);
    const promoted = await gql(
      t.adminUrl,
      UPDATE_USER,
      { input: { id, role: 'ADMIN' } },
      adminToken,
    );
    expect(promoted.errors).toBeUndefined();
    expect(await meCodes(t, session.accessToken)).toEqual([]);
    expect(await closedWithin(stream, 1_500)).toBe('open');
  });

  it('changePassword needs the current password and ends every other session, keeping the caller', async () => {
    await newUser('changer');
    const caller = await login(t.graphqlUrl, 'changer', password);
    const other = await login(t.graphqlUrl, 'changer', password);
    const callerStream = await openStream(t, caller);
    const otherStream = await openStream(t, other);
    probes.push(callerStream, otherStream);

    const wrong = await gql(
      t.graphqlUrl,
      CHANGE_PASSWORD,
      { old: 'not the password', new: 'another good password' },
      caller.accessToken,
    );
    expect(errorCodes(wrong)).toEqual(['BAD_USER_INPUT']);
    expect(wrong.errors?.[0].message).toBe('The current password is not correct');
    expect(await meCodes(t, other.accessToken)).toEqual([]);

    const changed = await gql<{ changePassword: boolean }>(
      t.graphqlUrl,
      CHANGE_PASSWORD,
      { old: password, new: 'another good password' },
      caller.accessToken,
    );
    expect(changed.errors).toBeUndefined();
    expect(changed.data?.changePassword).toBe(true);

    expect((await otherStream.closed).code).toBe(FORBIDDEN_CLOSE);
    expect(await meCodes(t, other.accessToken)).toEqual(['UNAUTHENTICATED']);
    expect(await refreshCodes(t, other.refreshToken)).toEqual(['UNAUTHENTICATED']);

    // The caller's session goes on: its socket, its access token, its refresh token.
    expect(await closedWithin(callerStream, 1_500)).toBe('open');
    expect(await meCodes(t, caller.accessToken)).toEqual([]);
    const rotated = await gql<{ refreshSession: SessionPayload }>(t.graphqlUrl, REFRESH, {
      token: caller.refreshToken,
    });
    expect(rotated.errors).toBeUndefined();

    await expect(login(t.graphqlUrl, 'changer', password)).rejects.toThrow(/UNAUTHENTICATED/);
    await login(t.graphqlUrl, 'changer', 'another good password');
  });

  it('changePassword refuses a short new password and an anonymous caller', async () => {
    await newUser('short-pw');
    const session = await login(t.graphqlUrl, 'short-pw', password);
    const short = await gql(
      t.graphqlUrl,
      CHANGE_PASSWORD,
      { old: password, new: 'short' },
      session.accessToken,
    );
    expect(errorCodes(short)).toEqual(['BAD_USER_INPUT']);
    const anonymous = await gql(t.graphqlUrl, CHANGE_PASSWORD, {
      old: password,
      new: 'another good password',
    });
    expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);
    await login(t.graphqlUrl, 'short-pw', password);
  });

  it('guessing the current password through changePassword is throttled like login', async () => {
    await newUser('guessed');
    const session = await login(t.graphqlUrl, 'guessed', password);
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 11; i += 1) {
      const guess = await gql(
        t.graphqlUrl,
        CHANGE_PASSWORD,
        { old: `guess number ${i}`, new: 'another good password' },
        session.accessToken,
      );
      codes.push(...errorCodes(guess));
    }
    expect(codes.slice(0, 10)).toEqual(Array(10).fill('BAD_USER_INPUT'));
    expect(codes[10]).toBe('RATE_LIMITED');
  });
});

describe('security: a session has an absolute lifetime (e2e)', () => {
  const LIFETIME_SECONDS = 10;
  let t: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    t = await createTestApp(
      {},
      {
        configure: (config) => ({
          ...config,
          auth: { ...config.auth, sessionMaxLifetimeSeconds: LIFETIME_SECONDS },
        }),
      },
    );
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('refresh never extends a login past its lifetime; then refresh is refused and the socket closes', async () => {
    const created = await gql(
      t.adminUrl,
      CREATE_USER,
      { input: { username: 'short-lived', password, role: 'USER' } },
      adminToken,
    );
    expect(created.errors).toBeUndefined();
    const loggedInAt = Date.now();
    const first = await login(t.graphqlUrl, 'short-lived', password);
    // The lifetime starts when the server accepted the password: before the answer arrived.
    const sessionEnd = Date.now() + LIFETIME_SECONDS * 1000;
    expect(new Date(first.expiresAt).getTime()).toBeLessThanOrEqual(sessionEnd);

    // Within the lifetime a refresh works.
    const rotated = await gql<{ refreshSession: SessionPayload }>(t.graphqlUrl, REFRESH, {
      token: first.refreshToken,
    });
    expect(rotated.errors).toBeUndefined();
    const stream = subscribe(t.websocketUrl, 'subscription { serverTime }', {
      authorization: `Bearer ${first.accessToken}`,
    });
    try {
      await stream.firstValue;
      // Keep rotating until refused (bounded): every token issued stays inside the lifetime.
      let current = rotated.data!.refreshSession.refreshToken;
      let refreshes = 1;
      let refusal: GraphqlResponse<unknown> | undefined;
      const deadline = Date.now() + 60_000;
      while (refusal === undefined && Date.now() < deadline) {
        const next = await gql<{ refreshSession: SessionPayload }>(t.graphqlUrl, REFRESH, {
          token: current,
        });
        if (next.data?.refreshSession) {
          refreshes += 1;
          current = next.data.refreshSession.refreshToken;
          expect(new Date(next.data.refreshSession.expiresAt).getTime()).toBeLessThanOrEqual(
            sessionEnd,
          );
          await new Promise((resolve) => setTimeout(resolve, 250));
        } else {
          refusal = next;
        }
      }
      expect(refreshes).toBeGreaterThan(0);
      expect(refusal && errorCodes(refusal)).toEqual(['UNAUTHENTICATED']);
      expect(Date.now()).toBeGreaterThanOrEqual(loggedInAt + LIFETIME_SECONDS * 1000 - 1000);
      // The socket of the first token closes at its expiry, within the lifetime.
      expect((await stream.closed).code).toBe(FORBIDDEN_CLOSE);
      // A new login starts a new lifetime.
      const again = await login(t.graphqlUrl, 'short-lived', password);
      expect(await meCodes(t, again.accessToken)).toEqual([]);
    } finally {
      await stream.dispose();
    }
  });
});

describe('security: nobody elsewhere can lock a user out (e2e)', () => {
  let t: TestApp;

  /** A request as if from `address`, through a trusted proxy (TRUST_PROXY). */
  async function loginFrom(address: string, username: string, pass: string) {
    const response = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({ query: LOGIN_CODE, variables: { u: username, p: pass } }),
    });
    const body = (await response.json()) as GraphqlResponse<{ login: { accessToken: string } }>;
    return { codes: errorCodes(body), token: body.data?.login?.accessToken };
  }

  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: 'true' });
    const adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    const created = await gql(
      t.adminUrl,
      CREATE_USER,
      { input: { username: 'dealer', password, role: 'USER' } },
      adminToken,
    );
    expect(created.errors).toBeUndefined();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('wrong passwords for a user from address A block A only: the user logs in from B', async () => {
    const fromA: (string | undefined)[] = [];
    for (let i = 0; i < 12; i += 1) {
      fromA.push(...(await loginFrom('203.0.113.66', 'dealer', `guess ${i}`)).codes);
    }
    expect(fromA.slice(0, 10)).toEqual(Array(10).fill('UNAUTHENTICATED'));
    expect(fromA.slice(10)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    // A is blocked even with the right password...
    expect((await loginFrom('203.0.113.66', 'dealer', password)).codes).toEqual(['RATE_LIMITED']);
    // ...while the dealer, from their own address, gets in.
    const fromB = await loginFrom('192.0.2.10', 'dealer', password);
    expect(fromB.codes).toEqual([]);
    expect(await meCodes(t, fromB.token!)).toEqual([]);
  });
});
