import { createTestApp, type TestApp } from './utils/test-app';
import { errorCodes, gql, login } from './utils/graphql-client';

const USERS = 'query { users { id username role disabled } }';
const CREATE_USER = `mutation Create($input: CreateUserInput!) {
  createUser(input: $input) { id username role disabled createdAt }
}`;
const UPDATE_USER = `mutation Update($input: UpdateUserInput!) {
  updateUser(input: $input) { id username role disabled }
}`;
const AUDIT_LOG = `query Audit($limit: Int!) {
  auditLog(limit: $limit) { actorId actorUsername action target payload createdAt }
}`;

interface AuditEntry {
  actorId: string;
  actorUsername: string;
  action: string;
  target: string;
  payload: string;
  createdAt: string;
}

describe('admin schema (e2e)', () => {
  let t: TestApp;
  let adminToken: string;
  let adminId: string;
  const password = 'a sufficiently long password';

  beforeAll(async () => {
    t = await createTestApp();
    const session = await login(t.graphqlUrl, t.admin.username, t.admin.password);
    adminToken = session.accessToken;
    adminId = session.user.id;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers UNAUTHENTICATED without a token', async () => {
    const response = await gql(t.adminUrl, USERS);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.data).toBeNull();
  });

  it('answers FORBIDDEN to a USER token', async () => {
    const created = await gql(
      t.adminUrl,
      CREATE_USER,
      { input: { username: 'plain-user', password } },
      adminToken,
    );
    expect(created.errors).toBeUndefined();
    const user = await login(t.graphqlUrl, 'plain-user', password);
    const response = await gql(t.adminUrl, USERS, {}, user.accessToken);
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(response.data).toBeNull();
  });

  it('does not expose admin operations on the user endpoint', async () => {
    const response = await gql(t.graphqlUrl, USERS, {}, adminToken);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].message).toMatch(/Cannot query field "users"/);
  });

  it('creates and updates users, and writes every mutation to the audit log', async () => {
    const created = await gql<{ createUser: { id: string; role: string; disabled: boolean } }>(
      t.adminUrl,
      CREATE_USER,
      { input: { username: 'dealer-1', password, role: 'USER' } },
      adminToken,
    );
    expect(created.errors).toBeUndefined();
    const id = created.data!.createUser.id;
    expect(created.data!.createUser).toMatchObject({ role: 'USER', disabled: false });

    const promoted = await gql<{ updateUser: { role: string } }>(
      t.adminUrl,
      UPDATE_USER,
      { input: { id, role: 'ADMIN' } },
      adminToken,
    );
    expect(promoted.data?.updateUser.role).toBe('ADMIN');

    const disabled = await gql<{ updateUser: { disabled: boolean } }>(
      t.adminUrl,
      UPDATE_USER,
      { input: { id, disabled: true } },
      adminToken,
    );
    expect(disabled.data?.updateUser.disabled).toBe(true);

    const users = await gql<{ users: { username: string; role: string; disabled: boolean }[] }>(
      t.adminUrl,
      USERS,
      {},
      adminToken,
    );
    expect(users.data?.users).toContainEqual(
      expect.objectContaining({ username: 'dealer-1', role: 'ADMIN', disabled: true }),
    );

    const audit = await gql<{ auditLog: AuditEntry[] }>(
      t.adminUrl,
      AUDIT_LOG,
      { limit: 10 },
      adminToken,
    );
    expect(audit.errors).toBeUndefined();
    const forUser = audit.data!.auditLog.filter((entry) => entry.target === id);
    expect(forUser.map((entry) => entry.action)).toEqual([
      'updateUser',
      'updateUser',
      'createUser',
    ]);
    for (const entry of forUser) {
      expect(entry.actorId).toBe(adminId);
      expect(entry.actorUsername).toBe(t.admin.username);
      expect(Math.abs(new Date(entry.createdAt).getTime() - Date.now())).toBeLessThan(60_000);
      expect(entry.payload).not.toContain(password);
    }
    expect(JSON.parse(forUser[2].payload)).toMatchObject({
      username: 'dealer-1',
      role: 'USER',
      password: '[REDACTED]',
    });
    expect(JSON.parse(forUser[0].payload)).toEqual({ disabled: true });
  });

  it('refuses a taken username with CONFLICT and a short password with BAD_USER_INPUT', async () => {
    const input = { username: 'dup-user', password };
    expect((await gql(t.adminUrl, CREATE_USER, { input }, adminToken)).errors).toBeUndefined();
    expect(errorCodes(await gql(t.adminUrl, CREATE_USER, { input }, adminToken))).toEqual([
      'CONFLICT',
    ]);
    const short = await gql(
      t.adminUrl,
      CREATE_USER,
      { input: { username: 'short-pass', password: 'short' } },
      adminToken,
    );
    expect(errorCodes(short)).toEqual(['BAD_USER_INPUT']);
    expect(short.errors?.[0].message).toMatch(/password/);
  });

  it('answers NOT_FOUND for an unknown user id', async () => {
    const response = await gql(
      t.adminUrl,
      UPDATE_USER,
      { input: { id: '00000000-0000-4000-8000-000000000000', disabled: true } },
      adminToken,
    );
    expect(errorCodes(response)).toEqual(['NOT_FOUND']);
  });

  it('does not let an admin lock themselves out', async () => {
    const response = await gql(
      t.adminUrl,
      UPDATE_USER,
      { input: { id: adminId, disabled: true } },
      adminToken,
    );
    expect(errorCodes(response)).toEqual(['CONFLICT']);
  });
});
