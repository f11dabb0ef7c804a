import { createTestApp, type TestApp } from './utils/test-app';
import { errorCodes, gql, login, type SessionPayload } from './utils/graphql-client';

const ME = 'query { me { id username role disabled } }';
const REFRESH = `mutation Refresh($token: String!) {
  refreshSession(refreshToken: $token) { accessToken refreshToken expiresAt user { id username role } }
}`;
const CREATE_USER = `mutation Create($input: CreateUserInput!) {
  createUser(input: $input) { id username role disabled }
}`;
const UPDATE_USER = `mutation Update($input: UpdateUserInput!) {
  updateUser(input: $input) { id role disabled }
}`;

describe('authentication (e2e)', () => {
  let t: TestApp;
  let adminToken: string;
  const password = 'correct horse battery staple';

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
    await t?.close();
  });

  it('logs in and answers me with the session user', async () => {
    await newUser('alice');
    const session = await login(t.graphqlUrl, 'alice', password);
    expect(session.user).toMatchObject({ username: 'alice', role: 'USER' });
    expect(new Date(session.expiresAt).getTime()).toBeGreaterThan(Date.now());

    const me = await gql<{ me: { username: string; role: string } }>(
      t.graphqlUrl,
      ME,
      {},
      session.accessToken,
    );
    expect(me.errors).toBeUndefined();
    expect(me.data?.me).toEqual({
      id: session.user.id,
      username: 'alice',
      role: 'USER',
      disabled: false,
    });
  });

  it('refuses me without a token, or with a garbage token', async () => {
    expect(errorCodes(await gql(t.graphqlUrl, ME))).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(await gql(t.graphqlUrl, ME, {}, 'not-a-jwt'))).toEqual(['UNAUTHENTICATED']);
  });

  it('gives the same error for a wrong password and an unknown user', async () => {
    await newUser('bob');
    const LOGIN =
      'mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }';
    const wrongPassword = await gql(t.graphqlUrl, LOGIN, { u: 'bob', p: 'wrong password!!' });
    const unknownUser = await gql(t.graphqlUrl, LOGIN, { u: 'nobody-here', p: 'wrong password!!' });
    expect(errorCodes(wrongPassword)).toEqual(['UNAUTHENTICATED']);
    expect(wrongPassword.errors).toEqual(unknownUser.errors);
    expect(wrongPassword.data).toBeNull();
  });

  it('refuses a disabled user at login, at refresh and on the next request', async () => {
    const id = await newUser('carol');
    const session = await login(t.graphqlUrl, 'carol', password);

    const disabled = await gql(
      t.adminUrl,
      UPDATE_USER,
      { input: { id, disabled: true } },
      adminToken,
    );
    expect(disabled.errors).toBeUndefined();

    expect(errorCodes(await gql(t.graphqlUrl, ME, {}, session.accessToken))).toEqual([
      'UNAUTHENTICATED',
    ]);
    expect(errorCodes(await gql(t.graphqlUrl, REFRESH, { token: session.refreshToken }))).toEqual([
      'UNAUTHENTICATED',
    ]);
    await expect(login(t.graphqlUrl, 'carol', password)).rejects.toThrow(/UNAUTHENTICATED/);
  });

  it('rotates refresh tokens, and reuse of a rotated one revokes the whole family', async () => {
    await newUser('dave');
    const first = await login(t.graphqlUrl, 'dave', password);

    const rotated = await gql<{ refreshSession: SessionPayload }>(t.graphqlUrl, REFRESH, {
      token: first.refreshToken,
    });
    expect(rotated.errors).toBeUndefined();
    const second = rotated.data!.refreshSession;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.user.username).toBe('dave');
    const meWithNew = await gql(t.graphqlUrl, ME, {}, second.accessToken);
    expect(meWithNew.errors).toBeUndefined();

    // Replaying the first token: refused, and the newer token of the family dies with it.
    const replay = await gql(t.graphqlUrl, REFRESH, { token: first.refreshToken });
    expect(errorCodes(replay)).toEqual(['UNAUTHENTICATED']);
    const newer = await gql(t.graphqlUrl, REFRESH, { token: second.refreshToken });
    expect(errorCodes(newer)).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(await gql(t.graphqlUrl, ME, {}, second.accessToken))).toEqual([
      'UNAUTHENTICATED',
    ]);

    // Another login (another family) is unaffected.
    const again = await login(t.graphqlUrl, 'dave', password);
    expect((await gql(t.graphqlUrl, ME, {}, again.accessToken)).errors).toBeUndefined();
  });

  it('logout revokes the refresh token and the access token of the session', async () => {
    await newUser('erin');
    const session = await login(t.graphqlUrl, 'erin', password);
    const out = await gql<{ logout: boolean }>(
      t.graphqlUrl,
      'mutation { logout }',
      {},
      session.accessToken,
    );
    expect(out.data?.logout).toBe(true);
    expect(errorCodes(await gql(t.graphqlUrl, REFRESH, { token: session.refreshToken }))).toEqual([
      'UNAUTHENTICATED',
    ]);
    expect(errorCodes(await gql(t.graphqlUrl, ME, {}, session.accessToken))).toEqual([
      'UNAUTHENTICATED',
    ]);
  });

  it('throttles repeated failed logins for one username with RATE_LIMITED', async () => {
    await newUser('frank');
    const LOGIN =
      'mutation ($p: String!) { login(username: "frank", password: $p) { accessToken } }';
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 11; i += 1) {
      codes.push(...errorCodes(await gql(t.graphqlUrl, LOGIN, { p: `wrong-${i}` })));
    }
    expect(codes.slice(0, 10)).toEqual(Array(10).fill('UNAUTHENTICATED'));
    expect(codes[10]).toBe('RATE_LIMITED');
    // Even the right password is refused while the limit holds.
    const right = await gql(t.graphqlUrl, LOGIN, { p: password });
    expect(errorCodes(right)).toEqual(['RATE_LIMITED']);
  });

  it('rejects invalid input with BAD_USER_INPUT', async () => {
    const tooLong = await gql(
      t.graphqlUrl,
      'mutation ($u: String!) { login(username: $u, password: "x") { accessToken } }',
      { u: 'u'.repeat(65) },
    );
    expect(errorCodes(tooLong)).toEqual(['BAD_USER_INPUT']);
  });
});
