import { AuthService } from '../src/auth/auth.service';
import { createUser, errorCodes, gql, login, type GraphqlResponse } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

interface LogLine {
  level: number;
  msg?: string;
  code?: string;
  reason?: string;
  err?: { stack?: string };
  stack?: string;
}

/**
 * A client's mistake is logged below error level with its code and no stack, so a day of typos
 * raises no alert; a server fault (INTERNAL) stays at error level with its stack.
 */
describe('logging of GraphQL errors (e2e)', () => {
  let t: TestApp;
  let adminToken: string;
  let userToken: string;
  const lines: string[] = [];
  const parsed = (): LogLine[] => lines.map((line) => JSON.parse(line) as LogLine);

  beforeAll(async () => {
    t = await createTestApp({}, { logLines: lines });
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    userToken = (await createUser(t, adminToken, 'logged-user', 'logged-user-password')).token;
  });

  afterAll(async () => {
    await t?.close();
  });

  /** Runs one request and returns the log lines it produced. */
  async function logged(
    request: () => Promise<GraphqlResponse<unknown>>,
  ): Promise<{ response: GraphqlResponse<unknown>; logged: LogLine[] }> {
    const from = lines.length;
    const response = await request();
    // Each line of the request is written before its answer is sent (pino is synchronous here).
    return { response, logged: parsed().slice(from) };
  }

  const cases: [string, string, () => Promise<GraphqlResponse<unknown>>][] = [
    [
      'UNAUTHENTICATED',
      'a wrong password',
      () =>
        gql(
          t.graphqlUrl,
          'mutation { login(username: "nobody", password: "wrong-password") { accessToken } }',
        ),
    ],
    ['UNAUTHENTICATED', 'no token', () => gql(t.graphqlUrl, '{ me { id } }')],
    [
      'NOT_FOUND',
      'an unknown order',
      () =>
        gql(
          t.graphqlUrl,
          'mutation { cancelOrder(id: "00000000-0000-4000-8000-000000000000") { id } }',
          {},
          userToken,
        ),
    ],
    ['BAD_USER_INPUT', 'an unknown field', () => gql(t.graphqlUrl, '{ nope }', {}, userToken)],
    [
      'BAD_USER_INPUT',
      'invalid input',
      () =>
        gql(
          t.graphqlUrl,
          'mutation { placeOrder(input: { clientOrderId: "bad-qty", instrument: { segment: NSE_EQ, securityId: "2885" }, side: BUY, quantity: -1, orderType: LIMIT, productType: INTRADAY, validity: DAY, price: 1262 }) { id } }',
          {},
          userToken,
        ),
    ],
    [
      'FORBIDDEN',
      'a USER on the admin endpoint',
      () => gql(t.adminUrl, '{ users { id } }', {}, userToken),
    ],
  ];

  it.each(cases)(
    'logs %s (%s) at info with its code and no stack',
    async (code, _what, request) => {
      const { response, logged: mine } = await logged(request);
      expect(errorCodes(response)).toContain(code);
      expect(mine.filter((line) => line.level >= 50)).toEqual([]);
      expect(mine.filter((line) => line.code === code)).toEqual([
        expect.objectContaining({ level: 30, code, msg: 'GraphQL operation refused' }),
      ]);
      expect(JSON.stringify(mine)).not.toMatch(/"stack"|\n\s+at /);
    },
  );

  it('answers a subscription sent over HTTP POST with a typed client error, logged without a stack', async () => {
    const { response, logged: mine } = await logged(() =>
      gql(t.graphqlUrl, 'subscription { serverTime }', {}, userToken),
    );
    expect(response.status).toBe(400);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].message).toMatch(/WebSocket/);
    expect(mine.filter((line) => line.level >= 50)).toEqual([]);
    expect(mine.filter((line) => line.code === 'BAD_USER_INPUT')).toHaveLength(1);
    expect(JSON.stringify(mine)).not.toMatch(/"stack"/);
  });

  it('keeps a server fault (INTERNAL) at error level with its stack', async () => {
    const auth = t.app.get(AuthService);
    const spy = jest
      .spyOn(auth, 'login')
      .mockRejectedValueOnce(new Error('disk on fire (injected fault)'));
    try {
      const { response, logged: mine } = await logged(() =>
        gql(t.graphqlUrl, 'mutation { login(username: "a", password: "b") { accessToken } }'),
      );
      expect(errorCodes(response)).toEqual(['INTERNAL']);
      const errors = mine.filter((line) => line.level >= 50);
      expect(errors.length).toBeGreaterThan(0);
      for (const line of errors) {
        expect(line.err?.stack ?? line.stack).toMatch(/disk on fire/);
      }
    } finally {
      spy.mockRestore();
    }
  });
});
