import { createTestApp, type TestApp } from './utils/test-app';
import { errorCodes, gql, login, postGraphql } from './utils/graphql-client';

describe('GraphQL hardening, health and metrics (e2e)', () => {
  let t: TestApp;
  let token: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({}, { logLines });
    token = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('refuses a query deeper than the limit', async () => {
    // Inline fragments add levels as fields do: 10 levels over real types.
    const tooDeep =
      '{ me { ... on User { ... on User { ... on User { ... on User { ... on User { ... on User { ... on User { ... on User { id } } } } } } } } } }';
    const refused = await gql(t.graphqlUrl, tooDeep, {}, token);
    expect(refused.status).toBe(400);
    expect(errorCodes(refused)).toContain('BAD_USER_INPUT');
    expect(refused.errors?.[0].message).toMatch(/query depth/i);
    expect(refused.data ?? null).toBeNull();

    const shallow = await gql(t.graphqlUrl, '{ __schema { queryType { name } } }', {}, token);
    expect(shallow.errors).toBeUndefined();
  });

  it('refuses a batched array of operations', async () => {
    const batch = Array.from({ length: 50 }, () => ({ query: '{ __typename }' }));
    const response = await fetch(t.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(batch),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { data: unknown; errors: { extensions: unknown }[] };
    expect(Array.isArray(body)).toBe(false);
    expect(body.data).toBeNull();
    expect(body.errors).toEqual([
      { message: 'body must be object', extensions: { code: 'BAD_USER_INPUT' } },
    ]);
  });

  it('refuses alias amplification with a clear message', async () => {
    // 400 fields in 1,200 tokens: within the parser's token limit, over the field limit.
    const aliases = Array.from({ length: 200 }, (_, i) => `a${i}: me { id }`).join(' ');
    const response = await postGraphql(t.graphqlUrl, { query: `{ ${aliases} }` }, token);
    expect(response.status).toBe(400);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0].message).toMatch(/too complex/);

    // Longer still, the parser stops first.
    const more = Array.from({ length: 500 }, (_, i) => `a${i}: me { id }`).join(' ');
    const tooLong = await postGraphql(t.graphqlUrl, { query: `{ ${more} }` }, token);
    expect(tooLong.status).toBe(400);
    expect(errorCodes(tooLong)).toEqual(['BAD_USER_INPUT']);
    expect(tooLong.errors?.[0].message).toMatch(/more th\w+ 2000 tokens/);
  });

  it('answers a variable with an unknown enum value or a bad date with BAD_USER_INPUT', async () => {
    const badEnum = await gql(
      t.graphqlUrl,
      'query ($s: ExchangeSegment!) { instrument(segment: $s, securityId: "13") { symbol } }',
      { s: 'NOT_A_SEGMENT' },
      token,
    );
    expect(errorCodes(badEnum)).toEqual(['BAD_USER_INPUT']);
    expect(badEnum.errors?.[0].message).toMatch(/Variable "\$s" got invalid value/);

    const badDate = await gql(
      t.graphqlUrl,
      'query ($e: Date) { optionChain(underlying: "NIFTY", expiry: $e) { expiry } }',
      { e: '2026-13-45' },
      token,
    );
    expect(errorCodes(badDate)).toEqual(['BAD_USER_INPUT']);
  });

  it('accepts a reasonable query with a few aliases', async () => {
    const response = await gql<{ a: { id: string }; b: { id: string } }>(
      t.graphqlUrl,
      '{ a: me { id } b: me { id } }',
      {},
      token,
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?.a.id).toBe(response.data?.b.id);
  });

  it('serves liveness, readiness and metrics', async () => {
    const health = await fetch(`${t.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });

    // 503 while warming up (instrument master, feed, order updates), then 200.
    const deadline = Date.now() + 30_000;
    let ready = await fetch(`${t.baseUrl}/ready`);
    while (ready.status !== 200 && Date.now() < deadline) {
      await ready.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await fetch(`${t.baseUrl}/ready`);
    }
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { database: 'up' } });

    const metrics = await fetch(`${t.baseUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await metrics.text();
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(
      /^http_requests_total\{method="GET",route="\/health",status_code="200"\} 1$/m,
    );
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{.*route="\/ready".*\} \d+$/m);
    expect(text).toMatch(
      /^graphql_operations_total\{endpoint="user",operation_type="query",result="success"\} \d+$/m,
    );
    expect(text).toMatch(
      /^graphql_operations_total\{endpoint="user",operation_type="mutation",result="success"\} \d+$/m,
    );
    expect(text).toMatch(/^graphql_operations_total\{endpoint="user",.*result="rejected"\} \d+$/m);
  });

  it('logs every request as JSON with its request id, and never a token', async () => {
    const given = await fetch(`${t.baseUrl}/health`, { headers: { 'x-request-id': 'trace-123' } });
    expect(given.status).toBe(200);
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const leaked = await fetch(`${t.graphqlUrl}?token=${token}`);
    expect(leaked.status).toBeGreaterThanOrEqual(400);
    const hostile = await fetch(`${t.baseUrl}/ready`, {
      headers: { 'x-request-id': 'x'.repeat(500) },
    });
    expect(hostile.status).toBe(200);
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await gql(t.graphqlUrl, '{ me { id } }', {}, token);

    const entries = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const health = entries.filter(
      (e) => (e.req as { url?: string } | undefined)?.url === '/health',
    );
    expect(health.map((e) => e.reqId)).toContain('trace-123');
    const ready = entries.find((e) => (e.req as { url?: string } | undefined)?.url === '/ready');
    expect(ready?.reqId).toMatch(/^[0-9a-f-]{36}$/);
    const requestLines = entries.filter((e) => e.req !== undefined || e.res !== undefined);
    expect(requestLines.every((e) => typeof e.reqId === 'string')).toBe(true);
    expect(logLines.join('\n')).not.toContain(token);
    expect(logLines.join('\n')).not.toContain(t.admin.password);
  });
});

function remoteAddressOf(lines: string[], url: string): unknown {
  const entry = lines
    .map((line) => JSON.parse(line) as { req?: { url?: string; remoteAddress?: string } })
    .find((e) => e.req?.url === url);
  return entry?.req?.remoteAddress;
}

describe('client address behind a proxy (e2e)', () => {
  let direct: TestApp;
  let proxied: TestApp;
  const directLines: string[] = [];
  const proxiedLines: string[] = [];

  beforeAll(async () => {
    direct = await createTestApp({}, { logLines: directLines });
    proxied = await createTestApp({ TRUST_PROXY: 'true' }, { logLines: proxiedLines });
  });

  afterAll(async () => {
    await direct?.close();
    await proxied?.close();
  });

  it('ignores X-Forwarded-For by default and believes it with TRUST_PROXY', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.9' };
    expect((await fetch(`${direct.baseUrl}/health?probe=1`, { headers })).status).toBe(200);
    expect((await fetch(`${proxied.baseUrl}/health?probe=1`, { headers })).status).toBe(200);
    expect(remoteAddressOf(directLines, '/health?probe=1')).toBe('127.0.0.1');
    expect(remoteAddressOf(proxiedLines, '/health?probe=1')).toBe('203.0.113.9');
  });
});

describe('production error shape (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ NODE_ENV: 'production' });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('disables introspection and field suggestions, and serves no GraphiQL', async () => {
    const introspection = await gql(t.graphqlUrl, '{ __schema { types { name } } }');
    expect(errorCodes(introspection).length).toBeGreaterThan(0);
    expect(new Set(errorCodes(introspection))).toEqual(new Set(['BAD_USER_INPUT']));
    expect(introspection.errors?.[0].message).toMatch(/introspection/i);

    const typo = await gql(t.graphqlUrl, '{ mee { id } }');
    expect(errorCodes(typo)).toEqual(['BAD_USER_INPUT']);
    expect(typo.errors?.[0].message).not.toMatch(/Did you mean/);

    const graphiql = await fetch(`${t.baseUrl}/graphiql`);
    expect(graphiql.status).toBe(404);
  });

  it('answers UNAUTHENTICATED with no stack or internals', async () => {
    const response = await postGraphql(t.graphqlUrl, { query: '{ me { id } }' });
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    expect(Object.keys(response.errors![0].extensions!)).toEqual(['code']);
    expect(JSON.stringify(response)).not.toMatch(/stack|\.ts:|node_modules/);
  });
});
