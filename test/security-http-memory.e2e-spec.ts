import { rawRequest, startChildServer, type ChildServer } from './utils/child-server';
import { databaseEngine } from './utils/test-app';
import { errorCodes, gql, login, type GraphqlResponse } from './utils/graphql-client';

// The child runs the embedded default (SQLite): nothing to repeat in the PostgreSQL run.
const describeEmbedded = databaseEngine() === 'sqlite' ? describe : describe.skip;

/** Generous: RSS moves with the allocator and the collector; the attack grew it by GBs. */
const RSS_GROWTH_BOUND_MB = 150;
/** The server's heap at rest is well under half of this. */
const HEAP_LIMIT_MB = 320;

async function postRaw(url: string, body: string): Promise<GraphqlResponse> {
  const answer = await rawRequest(url, {
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: answer.status, ...(answer.json as Omit<GraphqlResponse, 'status'>) };
}

/** A unique query of `count` unknown directives: `query P7 { __typename @a@a@a... }`. */
function directiveFlood(id: string, count: number): string {
  return JSON.stringify({ query: `query P${id} { __typename ${'@a'.repeat(count)} }` });
}

/** Runs `send` for each item, `parallel` at a time. */
async function inBatches<T, R>(items: T[], parallel: number, send: (item: T) => Promise<R>) {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += parallel) {
    results.push(...(await Promise.all(items.slice(i, i + parallel).map(send))));
  }
  return results;
}

describeEmbedded('bounded memory per GraphQL request (server in a child process)', () => {
  let server: ChildServer;
  let token: string;

  beforeAll(async () => {
    // Rate limits high: this suite measures memory, the rate limit has its own tests. The heap
    // is capped as on a small box: what the attack kept (GBs) would end the process here.
    server = await startChildServer({ GRAPHQL_RATE_LIMIT: '100000' }, [
      `--max-old-space-size=${HEAP_LIMIT_MB}`,
    ]);
    token = (await login(server.graphqlUrl, server.admin.username, server.admin.password))
      .accessToken;
  });

  afterAll(async () => {
    await server?.stop();
  });

  async function expectHealthy(): Promise<void> {
    expect(server.alive()).toBe(true);
    const health = await fetch(`${server.baseUrl}/health`);
    expect(health.status).toBe(200);
    const me = await gql<{ me: { username: string } }>(
      server.graphqlUrl,
      '{ me { username } }',
      {},
      token,
    );
    expect(me.errors).toBeUndefined();
    expect(me.data?.me.username).toBe(server.admin.username);
  }

  /** One pass of every variant of the attack, with each answer checked. */
  async function attack(pass: number): Promise<void> {
    // The finding: 16 such POSTs to /admin/graphql and ~20 to /graphql killed the process.
    const targets = [
      ...Array.from({ length: 16 }, (_, i) => ({ url: server.adminUrl, id: `A${i}` })),
      ...Array.from({ length: 20 }, (_, i) => ({ url: server.graphqlUrl, id: `U${i}` })),
    ];
    const huge = await inBatches(targets, 4, ({ url, id }) =>
      postRaw(url, directiveFlood(`${pass}${id}`, 520_000)),
    );
    for (const answer of huge) {
      expect(answer.status).toBe(413);
      expect(errorCodes(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.errors?.[0].message).toBe('Request body is too large');
    }
    await expectHealthy();

    // The 100 KB variant (kept ~24 MB each before): within the body limit, past the
    // document's (32 K characters).
    const medium = await inBatches(
      Array.from({ length: 40 }, (_, i) => ({
        url: i % 2 === 0 ? server.adminUrl : server.graphqlUrl,
        id: `M${i}`,
      })),
      4,
      ({ url, id }) => postRaw(url, directiveFlood(`${pass}${id}`, 50_000)),
    );
    for (const answer of medium) {
      expect(answer.status).toBe(413);
      expect(errorCodes(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.errors?.[0].message).toMatch(/Query document too long/);
    }

    // 30 K characters: a short enough document, too many tokens; the parser stops early.
    const dense = await inBatches(
      Array.from({ length: 40 }, (_, i) => ({
        url: i % 2 === 0 ? server.adminUrl : server.graphqlUrl,
        id: `D${i}`,
      })),
      4,
      ({ url, id }) => postRaw(url, directiveFlood(`${pass}${id}`, 15_000)),
    );
    for (const answer of dense) {
      expect(answer.status).toBe(400);
      expect(errorCodes(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.errors?.[0].message).toMatch(/more th\w+ 2000 tokens/);
    }

    // Just under the token limit: parsed and refused by validation, so Mercurius keeps them,
    // but only as many as its cache holds, whatever their number.
    const kept = await inBatches(
      Array.from({ length: 300 }, (_, i) => ({
        url: i % 2 === 0 ? server.adminUrl : server.graphqlUrl,
        id: `K${i}`,
      })),
      4,
      ({ url, id }) => postRaw(url, directiveFlood(`${pass}${id}`, 990)),
    );
    for (const answer of kept) {
      expect(answer.status).toBe(400);
      expect(errorCodes(answer)).toContain('BAD_USER_INPUT');
      expect(errorCodes(answer).every((code) => code === 'BAD_USER_INPUT')).toBe(true);
      expect(answer.errors?.[0].message).toMatch(/Unknown directive "@a"/);
    }

    await expectHealthy();
  }

  it('refuses directive floods on both endpoints with typed 4xx answers, and its memory stays bounded', async () => {
    await expectHealthy();
    // A first pass lets the heap grow to its working size (transient buffers, caches filling);
    // before the fix each further pass kept its documents (GBs), now none of it stays.
    await attack(0);
    const before = server.rssMb();
    await attack(1);
    await attack(2);
    await attack(3);
    const after = server.rssMb();
    expect(after - before).toBeLessThan(RSS_GROWTH_BOUND_MB);
  }, 600_000);
});
