import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import { DataSource } from 'typeorm';
import { WatchlistEntity } from '../src/watchlist/entities/watchlist.entity';
import { rawRequest, type RawAnswer } from './utils/child-server';
import { errorCodes, gql, login, type GraphqlResponse, createUser } from './utils/graphql-client';
import { RequestLimiter } from '../src/common/graphql/request-limiter';
import { createTestApp, type TestApp } from './utils/test-app';

function codesOf(answer: RawAnswer): (string | undefined)[] {
  return (answer.json?.errors ?? []).map((error) => error.extensions?.code);
}

function postJson(url: string, body: string, token?: string, contentType = 'application/json') {
  return rawRequest(url, {
    headers: {
      'content-type': contentType,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body,
  });
}

async function newUserToken(t: TestApp, adminToken: string, username: string, password: string) {
  return (await createUser(t, adminToken, username, password)).token;
}

async function watchlistNames(url: string, token: string): Promise<string[]> {
  const answer = await gql<{ watchlists: { name: string }[] }>(
    url,
    '{ watchlists { name } }',
    {},
    token,
  );
  expect(answer.errors).toBeUndefined();
  return answer.data!.watchlists.map((w) => w.name);
}

const PASSWORD = 'correct-horse-battery';

describe('GraphQL over HTTP: client mistakes, introspection, suggestions, cost (e2e)', () => {
  let t: TestApp;
  let adminToken: string;
  let userToken: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({}, { logLines });
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    userToken = await newUserToken(t, adminToken, 'edge-user', PASSWORD);
  });

  afterAll(async () => {
    await t?.close();
  });

  function errorLogLines(): string[] {
    return logLines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
  }

  describe('every client mistake is a typed 4xx, and changes nothing', () => {
    it('413 for a body over the limit; the mutation in it did not run', async () => {
      const body = JSON.stringify({
        query: 'mutation ($n: String!) { createWatchlist(name: $n) { id } }',
        variables: { n: 'too-large', padding: 'x'.repeat(300 * 1024) },
      });
      const answer = await postJson(t.graphqlUrl, body, userToken);
      expect(answer.status).toBe(413);
      expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.json?.errors?.[0].message).toBe('Request body is too large');
      expect(await watchlistNames(t.graphqlUrl, userToken)).not.toContain('too-large');
    });

    it('413 for a declared body over the limit reaches a client still sending it; the connection then serves the next request', async () => {
      const url = new URL(t.graphqlUrl);
      const socket = net.connect(Number(url.port), url.hostname);
      await once(socket, 'connect');
      const failures: Error[] = [];
      socket.on('error', (e) => failures.push(e));
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      const answered = (count: number) =>
        new Promise<void>((resolve, reject) => {
          const check = () => {
            if ((received.match(/HTTP\/1\.1 /g) ?? []).length >= count && /\}\s*$/.test(received)) {
              resolve();
            } else if (socket.destroyed) reject(new Error(`closed after: ${received}`));
            else setTimeout(check, 5);
          };
          check();
        });
      const declared = 1024 * 1024;
      const head =
        `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`;
      socket.write(head + 'x'.repeat(64 * 1024));
      // The answer comes before the body is all sent ...
      await answered(1);
      expect(received).toMatch(/^HTTP\/1\.1 413 /);
      expect(received).not.toMatch(/connection: close/i);
      // ... and the rest of it is taken, not refused with a reset.
      for (let sent = 64 * 1024; sent < declared; sent += 64 * 1024) {
        if (!socket.write('x'.repeat(64 * 1024))) await once(socket, 'drain');
      }
      const query = JSON.stringify({ query: '{ __typename }' });
      socket.write(
        `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${query.length}\r\n\r\n${query}`,
      );
      await answered(2);
      expect(received).toMatch(/HTTP\/1\.1 200 [\s\S]*"__typename":"Query"/);
      expect(failures).toEqual([]);
      socket.destroy();
    });

    it('a body declared far over the limit is answered 413 and its connection closed', async () => {
      const url = new URL(t.graphqlUrl);
      const socket = net.connect(Number(url.port), url.hostname);
      await once(socket, 'connect');
      socket.on('error', () => undefined);
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.write(
        `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n{`,
      );
      await once(socket, 'close');
      expect(received).toMatch(/^HTTP\/1\.1 413 /);
      expect(received).toMatch(/connection: close/i);
    });

    it('413 for a query document over its limit', async () => {
      const query = `{ me { id } } # ${'x'.repeat(40_000)}`;
      const answer = await postJson(t.graphqlUrl, JSON.stringify({ query }), userToken);
      expect(answer.status).toBe(413);
      expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.json?.errors?.[0].message).toMatch(/Query document too long/);
    });

    it('400 for malformed JSON; the mutation in it did not run', async () => {
      const truncated = '{"query": "mutation { createWatchlist(name: \\"malformed\\") { id } }"';
      const answer = await postJson(t.graphqlUrl, truncated, userToken);
      expect(answer.status).toBe(400);
      expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
      expect(await watchlistNames(t.graphqlUrl, userToken)).not.toContain('malformed');
    });

    it('400 for a subscription sent over HTTP POST, with nothing logged as a failure', async () => {
      const before = errorLogLines().length;
      const answer = await postJson(
        t.graphqlUrl,
        JSON.stringify({ query: 'subscription { serverTime }' }),
        userToken,
      );
      expect(answer.status).toBe(400);
      expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.json?.errors?.[0].message).toMatch(/WebSocket/);
      expect(answer.json?.data).toBeNull();
      // Also when the subscription is one of several operations.
      const named = await postJson(
        t.graphqlUrl,
        JSON.stringify({
          query: 'query Q { __typename } subscription S { serverTime }',
          operationName: 'S',
        }),
        userToken,
      );
      expect(named.status).toBe(400);
      expect(codesOf(named)).toEqual(['BAD_USER_INPUT']);
      expect(errorLogLines().length).toBe(before);
    });

    it('405 for a mutation over GET; it did not run', async () => {
      const url = new URL(t.graphqlUrl);
      url.searchParams.set('query', 'mutation { createWatchlist(name: "over-get") { id } }');
      const answer = await rawRequest(url.toString(), {
        method: 'GET',
        headers: { authorization: `Bearer ${userToken}` },
      });
      expect(answer.status).toBe(405);
      expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.json?.errors?.[0].message).toMatch(/GET/);
      expect(await watchlistNames(t.graphqlUrl, userToken)).not.toContain('over-get');
    });

    it('400 for `__proto__` as a variable name, in a JSON body or a GET, and no pollution', async () => {
      const query = 'query ($__proto__: String) { me { id } }';
      const posted = await postJson(
        t.graphqlUrl,
        `{"query": ${JSON.stringify(query)}, "variables": {"__proto__": {"polluted": "yes"}}}`,
        userToken,
      );
      expect(posted.status).toBe(400);
      expect(codesOf(posted)).toEqual(['BAD_USER_INPUT']);

      const url = new URL(t.graphqlUrl);
      url.searchParams.set('query', query);
      url.searchParams.set('variables', '{"__proto__": {"polluted": "yes"}}');
      const got = await rawRequest(url.toString(), {
        method: 'GET',
        headers: { authorization: `Bearer ${userToken}` },
      });
      expect(got.status).toBe(400);
      expect(codesOf(got)).toEqual(['BAD_USER_INPUT']);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('415 for a form-urlencoded POST (a cross-site form): the mutation did not run', async () => {
      const form = new URLSearchParams({
        query: 'mutation { createWatchlist(name: "csrf") { id } }',
      }).toString();
      const answer = await postJson(
        t.graphqlUrl,
        form,
        userToken,
        'application/x-www-form-urlencoded',
      );
      expect(answer.status).toBe(415);
      expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);

      // The other content type a form may send without a preflight: refused as not an object.
      const plain = await postJson(
        t.graphqlUrl,
        JSON.stringify({ query: 'mutation { createWatchlist(name: "csrf") { id } }' }),
        userToken,
        'text/plain',
      );
      expect(plain.status).toBe(400);
      expect(codesOf(plain)).toEqual(['BAD_USER_INPUT']);
      expect(await watchlistNames(t.graphqlUrl, userToken)).not.toContain('csrf');
    });

    it('400 for a GET naming no operation of its document, or with variables not an object', async () => {
      const url = (params: Record<string, string>) => {
        const target = new URL(t.graphqlUrl);
        for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
        return target.toString();
      };
      const get = (params: Record<string, string>) =>
        rawRequest(url(params), {
          method: 'GET',
          headers: { authorization: `Bearer ${userToken}` },
        });
      const mistakes: Record<string, string>[] = [
        { query: '{ me { id } }', operationName: 'Q' },
        { query: 'query A { me { id } } query B { me { id } }' },
        { query: '{ me { id } }', variables: 'true' },
        { query: '{ me { id } }', variables: '"text"' },
        { query: '{ me { id } }', variables: '[1]' },
        // Empty: Mercurius passes it on unparsed and graphql-js threw (INTERNAL), found by the fuzz.
        { query: '{ me { id } }', variables: '' },
        { query: '{ __schema { types { name fields { name } } } }', variables: '' },
      ];
      for (const params of mistakes) {
        const answer = await get(params);
        expect(answer.status).toBe(400);
        expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
      }
      const fine = await get({
        query: 'query A { me { id } } query B { __typename }',
        operationName: 'B',
      });
      expect(fine.status).toBe(200);
    });

    it('431 for headers or a URL over the limit, shaped as any GraphQL error', async () => {
      const target = new URL(t.graphqlUrl);
      target.searchParams.set('query', `{ me { id } } # ${'x'.repeat(20_000)}`);
      const answer = await rawRequest(target.toString(), { method: 'GET' });
      expect(answer.status).toBe(431);
      expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.json?.data).toBeNull();
    });

    it('415 for an unsupported content type', async () => {
      const answer = await postJson(t.graphqlUrl, '<query/>', userToken, 'application/xml');
      expect(answer.status).toBe(415);
      expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
    });

    it('400 for a query that is a JSON syntax tree instead of GraphQL (it crashed validation)', async () => {
      for (const query of ['{"kind":"Document","definitions":[{"kind":"Bogus"}]}', '1', '[]']) {
        const answer = await postJson(t.graphqlUrl, JSON.stringify({ query }), userToken);
        expect(answer.status).toBe(400);
        expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
        expect(answer.json?.errors?.[0].message).toBe('The query must be a GraphQL document');
      }
    });

    it('the same mistakes on the admin endpoint are typed too', async () => {
      const tooLarge = await postJson(t.adminUrl, `{"query": "${'x'.repeat(300 * 1024)}"}`);
      expect(tooLarge.status).toBe(413);
      expect(codesOf(tooLarge)).toEqual(['BAD_USER_INPUT']);
      const malformed = await postJson(t.adminUrl, '{"query": ', adminToken);
      expect(malformed.status).toBe(400);
      expect(codesOf(malformed)).toEqual(['BAD_USER_INPUT']);
      const form = await postJson(
        t.adminUrl,
        'query=%7B%7D',
        adminToken,
        'application/x-www-form-urlencoded',
      );
      expect(form.status).toBe(415);
      expect(codesOf(form)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('admin schema introspection and field suggestions', () => {
    const INTROSPECTIONS = [
      '{ __schema { queryType { fields { name } } } }',
      '{ __type(name: "User") { fields { name } } }',
      'fragment F on Query { __schema { types { name } } } { ...F }',
      '{ ... on Query { __type(name: "Query") { name } } }',
    ];

    it('refuses introspection of the admin schema without a token (401) or as a user (403)', async () => {
      for (const query of INTROSPECTIONS) {
        const anonymous = await gql(t.adminUrl, query);
        expect(anonymous.status).toBe(401);
        expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);
        expect(anonymous.data ?? null).toBeNull();

        const user = await gql(t.adminUrl, query, {}, userToken);
        expect(user.status).toBe(403);
        expect(errorCodes(user)).toEqual(['FORBIDDEN']);
        expect(user.data ?? null).toBeNull();
      }
    });

    it('lets an admin introspect the admin schema', async () => {
      const answer = await gql<{ __schema: { queryType: { fields: { name: string }[] } } }>(
        t.adminUrl,
        INTROSPECTIONS[0],
        {},
        adminToken,
      );
      expect(answer.errors).toBeUndefined();
      expect(answer.data?.__schema.queryType.fields.map((f) => f.name)).toContain('users');
    });

    it('gives no "Did you mean" to anonymous callers, on either endpoint', async () => {
      const user = await gql(t.graphqlUrl, '{ mee { id } }');
      expect(errorCodes(user)).toEqual(['BAD_USER_INPUT']);
      expect(user.errors?.[0].message).toBe('Cannot query field "mee" on type "Query".');

      const admin = await gql(t.adminUrl, '{ user { id } }');
      expect(errorCodes(admin)).toEqual(['BAD_USER_INPUT']);
      expect(admin.errors?.[0].message).toBe('Cannot query field "user" on type "Query".');

      const enumValue = await gql(
        t.graphqlUrl,
        'query ($s: ExchangeSegment!) { instrument(segment: $s, securityId: "1") { symbol } }',
        { s: 'NSE_EQQ' },
      );
      expect(errorCodes(enumValue)).toEqual(['BAD_USER_INPUT']);
      expect(enumValue.errors?.[0].message).not.toMatch(/Did you mean/);

      // An invalid token is no better than none.
      const forged = await gql(t.adminUrl, '{ user { id } }', {}, `${adminToken}x`);
      expect(forged.errors?.[0].message).not.toMatch(/Did you mean/);
    });

    it('gives no "Did you mean" on the admin endpoint to a user who is not an admin', async () => {
      const answer = await gql(t.adminUrl, '{ user { id } }', {}, userToken);
      expect(errorCodes(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.errors?.[0].message).not.toMatch(/Did you mean/);
    });

    it('still helps signed-in callers outside production (user endpoint; admins on admin)', async () => {
      const user = await gql(t.graphqlUrl, '{ mee { id } }', {}, userToken);
      expect(user.errors?.[0].message).toMatch(/Did you mean "me"\?/);
      const admin = await gql(t.adminUrl, '{ user { id } }', {}, adminToken);
      expect(admin.errors?.[0].message).toMatch(/Did you mean "users"\?/);
    });
  });

  describe('query cost charges list fields by their limit', () => {
    const search = (i: number) => `a${i}: instruments(search: "E", limit: 100) { symbol }`;

    it('refuses the finding (149 aliased searches of 100) as BAD_USER_INPUT', async () => {
      const query = `{ ${Array.from({ length: 149 }, (_, i) => search(i)).join(' ')} }`;
      const answer = await gql(t.graphqlUrl, query, {}, userToken);
      expect(answer.status).toBe(400);
      expect(errorCodes(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.data ?? null).toBeNull();
    });

    it('refuses 30 such searches as too complex, though they select only 60 fields', async () => {
      const query = `{ ${Array.from({ length: 30 }, (_, i) => search(i)).join(' ')} }`;
      const answer = await gql(t.graphqlUrl, query, {}, userToken);
      expect(answer.status).toBe(400);
      expect(errorCodes(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.errors?.[0].message).toMatch(/too complex: its estimated cost is more than/);
    });

    it('refuses a limit given as a variable at the largest size it may take', async () => {
      const aliases = Array.from(
        { length: 30 },
        (_, i) => `a${i}: instruments(search: "E", limit: $n) { symbol }`,
      ).join(' ');
      const answer = await gql(t.graphqlUrl, `query ($n: Int) { ${aliases} }`, { n: 1 }, userToken);
      expect(errorCodes(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.errors?.[0].message).toMatch(/too complex/);
    });

    it('serves a full-size search', async () => {
      const answer = await gql<{ instruments: { symbol: string }[] }>(
        t.graphqlUrl,
        '{ instruments(search: "E", limit: 100) { symbol displayName securityId segment } }',
        {},
        userToken,
      );
      expect(answer.errors).toBeUndefined();
      expect(answer.data?.instruments.length).toBeGreaterThan(0);
    });
  });

  describe('operations in flight per caller', () => {
    const DEFAULT_MAX_IN_FLIGHT = 16;

    /** Starts a POST whose body is never finished: admitted, it stays in flight. */
    function holdOpen(token: string) {
      const body = JSON.stringify({ query: '{ me { id } }' });
      const request = http.request(t.graphqlUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(body.length),
          authorization: `Bearer ${token}`,
        },
      });
      const answered = new Promise<number>((resolve, reject) => {
        request.on('response', (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        });
        request.on('error', reject);
      });
      request.write(body.slice(0, 5));
      return { finish: () => request.end(body.slice(5)), answered };
    }

    it('refuses a caller more operations at once than the cap, and serves the others', async () => {
      const holder = await newUserToken(t, adminToken, 'edge-holder', PASSWORD);
      const me = await gql<{ me: { id: string } }>(t.graphqlUrl, '{ me { id } }', {}, holder);
      const caller = `user:${me.data!.me.id}`;
      const limiter = t.app.get(RequestLimiter);
      const held = Array.from({ length: DEFAULT_MAX_IN_FLIGHT }, () => holdOpen(holder));
      try {
        // The held requests are admitted as their headers arrive (no request is spent waiting).
        const deadline = Date.now() + 30_000;
        while (limiter.running(caller) < DEFAULT_MAX_IN_FLIGHT && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(limiter.running(caller)).toBe(DEFAULT_MAX_IN_FLIGHT);
        const refused = await gql(t.graphqlUrl, '{ me { id } }', {}, holder);
        expect(refused.status).toBe(429);
        expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
        expect(refused.errors?.[0].message).toMatch(/at once/);

        // Another user is not affected.
        const other = await gql<{ me: { username: string } }>(
          t.graphqlUrl,
          '{ me { username } }',
          {},
          userToken,
        );
        expect(other.data?.me.username).toBe('edge-user');
      } finally {
        for (const request of held) request.finish();
      }
      expect(await Promise.all(held.map((request) => request.answered))).toEqual(
        held.map(() => 200),
      );
      const after = await gql(t.graphqlUrl, '{ me { id } }', {}, holder);
      expect(after.status).toBe(200);
      expect(after.errors).toBeUndefined();
    });
  });
});

describe('GraphQL over HTTP: request rate per caller (e2e)', () => {
  let t: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    t = await createTestApp({ GRAPHQL_RATE_LIMIT: '5', GRAPHQL_RATE_WINDOW: '600' });
    // Anonymous requests of this address: 1 (admin login).
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('refuses a user over the rate with RATE_LIMITED and changes nothing; others go on', async () => {
    // Admin: 2 of 5. Address: 3 of 5 after the two logins.
    const alice = await newUserToken(t, adminToken, 'rate-alice', PASSWORD);
    const bob = await newUserToken(t, adminToken, 'rate-bob', PASSWORD);

    for (let i = 0; i < 5; i++) {
      const served = await gql(t.graphqlUrl, '{ me { id } }', {}, alice);
      expect(served.status).toBe(200);
      expect(errorCodes(served)).toEqual([]);
    }
    const response = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
      body: JSON.stringify({ query: 'mutation { createWatchlist(name: "over-rate") { id } }' }),
    });
    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    const body = (await response.json()) as GraphqlResponse;
    expect(body.data).toBeNull();
    expect(body.errors).toEqual([
      {
        message: expect.stringMatching(/^Too many requests: try again in \d+ s$/),
        extensions: { code: 'RATE_LIMITED', retryAfterSeconds: retryAfter },
      },
    ]);
    const watchlists = t.app.get(DataSource).getRepository(WatchlistEntity);
    expect(await watchlists.countBy({ name: 'over-rate' })).toBe(0);

    // Bob has his own allowance; the admin endpoint shares the user's.
    const other = await gql<{ me: { username: string } }>(
      t.graphqlUrl,
      '{ me { username } }',
      {},
      bob,
    );
    expect(other.data?.me.username).toBe('rate-bob');
    const admin = await gql(t.adminUrl, '{ users { id } }', {}, alice);
    expect(admin.status).toBe(429);
  });

  it('limits anonymous callers per address, apart from signed-in users', async () => {
    // Address: 3 of 5 used by the logins above.
    for (let i = 0; i < 2; i++) {
      expect((await gql(t.graphqlUrl, '{ __typename }')).status).toBe(200);
    }
    const refused = await gql(t.graphqlUrl, '{ __typename }');
    expect(refused.status).toBe(429);
    expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
    // An invalid token counts as anonymous.
    const forged = await gql(t.graphqlUrl, '{ __typename }', {}, `${adminToken}x`);
    expect(forged.status).toBe(429);
    // The admin (a user: 3 of 5 used) is served from the same address.
    const admin = await gql(t.adminUrl, '{ users { id } }', {}, adminToken);
    expect(admin.status).toBe(200);
    expect(admin.errors).toBeUndefined();
  });
});

describe('GraphQL over HTTP: execution time budget (e2e)', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    // 1 ms: any real query runs out; a mutation (login) is not cut short.
    t = await createTestApp({ GRAPHQL_EXECUTION_BUDGET_MS: '1' });
    token = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('stops resolving a query past its budget and says so once, with CAPACITY_EXCEEDED', async () => {
    const answer = await gql(
      t.graphqlUrl,
      `{
        a: instruments(search: "E", limit: 100) { symbol displayName securityId segment }
        b: instruments(search: "A", limit: 100) { symbol displayName securityId segment }
      }`,
      {},
      token,
    );
    expect(answer.status).toBe(200);
    expect(errorCodes(answer)).toEqual(['CAPACITY_EXCEEDED']);
    expect(answer.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/time budget \(1 ms\)/),
      extensions: { code: 'CAPACITY_EXCEEDED', limit: 'executionTimeMs', budgetMs: 1 },
    });
  });
});
