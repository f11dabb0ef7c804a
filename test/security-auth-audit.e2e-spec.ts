import { createTestApp, type TestApp } from './utils/test-app';
import { errorCodes, gql, login, postGraphql, subscribe, createUser } from './utils/graphql-client';

interface AuditEntry {
  actorId: string | null;
  actorUsername: string;
  action: string;
  payload: string;
}

const AUDIT_LOG = `query Audit { auditLog(limit: 500) { actorId actorUsername action payload } }`;
const REFUSED = 'adminAccessRefused';

describe('security: refused admin attempts are audited, with a bound (e2e)', () => {
  let t: TestApp;
  let adminToken: string;
  let userToken: string;
  let userId: string;

  async function refusals(): Promise<(AuditEntry & { data: Record<string, unknown> })[]> {
    const audit = await gql<{ auditLog: AuditEntry[] }>(t.adminUrl, AUDIT_LOG, {}, adminToken);
    expect(audit.errors).toBeUndefined();
    return audit
      .data!.auditLog.filter((entry) => entry.action === REFUSED)
      .map((entry) => ({ ...entry, data: JSON.parse(entry.payload) as Record<string, unknown> }));
  }

  /** Polls the audit log (bounded) until a refusal matching `predicate` is there. */
  async function refusalWhere(
    predicate: (entry: AuditEntry & { data: Record<string, unknown> }) => boolean,
  ) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = (await refusals()).find(predicate);
      if (found || Date.now() > deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  beforeAll(async () => {
    // The per-address request rate is lifted: the flood below measures the audit's bound, not
    // the brake that would otherwise answer most of it RATE_LIMITED.
    t = await createTestApp({ GRAPHQL_RATE_LIMIT: '1000000' });
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    const password = 'correct horse battery staple';
    ({ id: userId, token: userToken } = await createUser(t, adminToken, 'curious-user', password));
  });

  afterAll(async () => {
    await t?.close();
  });

  it("a USER's admin query is FORBIDDEN and the audit log names the user, address, operation and reason", async () => {
    const response = await gql(t.adminUrl, 'query PeekAtUsers { users { id } }', {}, userToken);
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    const entry = await refusalWhere((e) => e.actorId === userId);
    expect(entry).toMatchObject({
      actorId: userId,
      actorUsername: 'curious-user',
      data: {
        reason: 'not an admin',
        address: '127.0.0.1',
        transport: 'http',
        operations: 'PeekAtUsers',
        count: 1,
      },
    });
  });

  it('an anonymous admin query and a bad token are audited without an actor', async () => {
    const anonymous = await gql(t.adminUrl, 'query NoToken { users { id } }');
    expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);
    const entry = await refusalWhere((e) => e.data.reason === 'missing token');
    expect(entry).toMatchObject({
      actorId: null,
      actorUsername: '(anonymous)',
      data: { address: '127.0.0.1', operations: 'NoToken' },
    });
  });

  it("a USER's admin WebSocket is closed 4403 and its connection_init is audited", async () => {
    const probe = subscribe(t.adminWebsocketUrl, 'subscription { serverTime }', {
      authorization: `Bearer ${userToken}`,
    });
    try {
      expect((await probe.closed).code).toBe(4403);
    } finally {
      await probe.dispose();
    }
    const entry = await refusalWhere(
      (e) => e.actorId === userId && e.data.transport === 'websocket',
    );
    expect(entry).toMatchObject({
      actorUsername: 'curious-user',
      data: { reason: 'not an admin', operations: 'connection_init' },
    });
  });

  it('a flood of 1,000 refused requests writes a bounded number of rows and the server stays healthy', async () => {
    const before = (await refusals()).length;
    const body = { query: 'query Flood { users { id } }' };
    const statuses: number[] = [];
    for (let batch = 0; batch < 40; batch += 1) {
      const answers = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          postGraphql(t.adminUrl, body, `not.a.valid-token-${batch}-${i}`),
        ),
      );
      for (const answer of answers) statuses.push(...errorCodes(answer).map(() => answer.status));
      expect(answers.every((answer) => errorCodes(answer)[0] === 'UNAUTHENTICATED')).toBe(true);
    }
    expect(statuses).toHaveLength(1000);

    const flood = await refusalWhere((e) => e.data.reason === 'invalid or expired token');
    expect(flood).toMatchObject({ actorId: null, data: { operations: 'Flood' } });
    const written = (await refusals()).length - before;
    // One row per source and reason a minute (two if the minute turned during the flood).
    expect(written).toBeGreaterThanOrEqual(1);
    expect(written).toBeLessThanOrEqual(3);

    const health = await fetch(`${t.baseUrl}/health`);
    expect(health.status).toBe(200);
    const users = await gql(t.adminUrl, 'query { users { id } }', {}, adminToken);
    expect(users.errors).toBeUndefined();
  });
});
