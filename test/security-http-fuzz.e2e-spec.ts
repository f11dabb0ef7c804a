import fc from 'fast-check';
import { rawRequest, startChildServer, type ChildServer } from './utils/child-server';
import { login } from './utils/graphql-client';
import { databaseEngine } from './utils/test-app';

// The child runs the embedded default (SQLite): nothing to repeat in the PostgreSQL run.
const describeEmbedded = databaseEngine() === 'sqlite' ? describe : describe.skip;

/** Replay a failure with FUZZ_SEED=<seed printed in the failure>. */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const RSS_GROWTH_BOUND_MB = 150;
const HEAP_LIMIT_MB = 320;
const PUBLIC_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CAPACITY_EXCEEDED',
  'RATE_LIMITED',
  'CONFLICT',
]);

interface Operation {
  query: string;
  variables?: Record<string, unknown>;
}

/** Valid operations of each endpoint, free of lasting effects on the session. */
const VALID_USER: Operation[] = [
  { query: '{ me { id username role } }' },
  {
    query:
      'query Q($s: String!, $n: Int) { instruments(search: $s, limit: $n) { symbol securityId segment lotSize } }',
    variables: { s: 'REL', n: 5 },
  },
  {
    query:
      'query ($seg: ExchangeSegment!, $id: String!) { quote(segment: $seg, securityId: $id) { close change depth { __typename } } instrument(segment: $seg, securityId: $id) { symbol expiry } }',
    variables: { seg: 'NSE_EQ', id: '2885' },
  },
  {
    query: '{ orders { id } positions { __typename } watchlists { id name items { __typename } } }',
  },
  {
    query:
      'query ($u: String!, $e: Date) { expiries(underlying: $u) optionChain(underlying: $u, expiry: $e) { strikes { __typename } } }',
    variables: { u: 'NIFTY', e: null },
  },
  {
    query: 'mutation ($n: String!) { createWatchlist(name: $n) { id name } }',
    variables: { n: 'fuzz' },
  },
  {
    query:
      'fragment I on Instrument { symbol ...on Instrument { lotSize } } query { instruments(search: "A") { ...I } }',
  },
  { query: '{ __schema { types { name fields { name } } } }' },
  { query: 'subscription S { serverTime }' },
];
const VALID_ADMIN: Operation[] = [
  { query: '{ users { id username role disabled } }' },
  { query: 'query ($l: Int!) { auditLog(limit: $l) { __typename } }', variables: { l: 5 } },
  { query: '{ feedStatus { capacity byTier { __typename } } }' },
  { query: '{ __type(name: "User") { fields { name } } }' },
];

const TOKENS = [
  '{', '}', '(', ')', '[', ']', '...', '@', '$', ':', '!', '=', '|', '&', ',', '#', '"',
  '"""', 'query', 'mutation', 'subscription', 'fragment', 'on', 'true', 'null', '0', '-1',
  '1e308', '100', '"E"', '__schema', '__type', '__typename', 'me', 'instruments', 'users',
  'login', 'orders', 'limit', 'search', 'id', '$x', '$__proto__', '__proto__', 'constructor',
  '@include(if: true)', '@skip(if: $x)', '@deprecated', 'serverTime', 'NSE_EQ', '\u0000',
  '\ud800', '\n', '\t', 'é', '💥',
]; // prettier-ignore

const weirdJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(1e308, -0, Number.MAX_SAFE_INTEGER + 2, '', '\u0000', 'x'.repeat(5000)),
  fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 's', 'n', 'x'), fc.jsonValue({ maxDepth: 3 })),
  fc.integer({ min: 1, max: 400 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown),
); // prettier-ignore

/** Small edits of a valid document: cut, insert, duplicate, replace a character. */
const mutated = (documents: Operation[]): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.constantFrom(...documents.map((d) => d.query)),
      fc.array(
        fc.tuple(
          fc.constantFrom('cut', 'insert', 'duplicate', 'replace'),
          fc.nat(),
          fc.nat({ max: 40 }),
          fc.constantFrom(...TOKENS),
        ),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .map(([query, edits]) =>
      edits.reduce((text, [edit, at, length, token]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        if (edit === 'cut') return text.slice(0, i) + text.slice(i + length);
        if (edit === 'insert') return `${text.slice(0, i)} ${token} ${text.slice(i)}`;
        if (edit === 'duplicate') return text.slice(0, i + length) + text.slice(i);
        return text.slice(0, i) + token + text.slice(i + 1);
      }, query),
    );

const deep: fc.Arbitrary<string> = fc.oneof(
  fc.nat({ max: 300 }).map((n) => `{ ${'me { '.repeat(n)}id${' }'.repeat(n)} }`),
  fc.nat({ max: 300 }).map((n) => `{ instruments(search: ${'['.repeat(n)}"E"${']'.repeat(n)}) { id } }`),
  fc.nat({ max: 300 }).map((n) => `query ($x: ${'['.repeat(n)}Int${']'.repeat(n)}) { __typename }`),
  fc.nat({ max: 500 }).map((n) => `{ ${'...on Query { '.repeat(n)}__typename${' }'.repeat(n)} }`),
  fc.nat({ max: 200 }).map((n) => `fragment A on Query { ...B } fragment B on Query { ${'...A '.repeat(n)} } { ...A }`),
); // prettier-ignore

const noise = (valid: Operation[]): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    // Mercurius reads a query that fails to parse as a JSON syntax tree.
    fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
    fc.array(fc.constantFrom(...TOKENS), { maxLength: 80 }).map((tokens) => tokens.join(' ')),
    mutated(valid),
    deep,
  );

/** A valid operation's variables, each kept or replaced by something odd, plus extra keys. */
const oddVariables = (variables: Record<string, unknown>): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.constant(variables),
    fc
      .tuple(
        fc.record(
          Object.fromEntries(
            Object.entries(variables).map(([key, value]) => [
              key,
              fc.oneof(fc.constant(value), weirdJson),
            ]),
          ),
        ),
        fc.dictionary(fc.constantFrom('x', '__proto__', 'constructor'), weirdJson, {
          maxKeys: 2,
        }),
      )
      .map(([kept, extra]) => ({ ...extra, ...kept })),
    weirdJson,
  );

/** A valid operation as is, with odd variables, or noise; with or without an operationName. */
const bodies = (valid: Operation[]): fc.Arbitrary<Record<string, unknown>> =>
  fc
    .oneof(
      fc.constantFrom(...valid).chain((operation) =>
        oddVariables(operation.variables ?? {}).map((variables) => ({
          query: operation.query,
          variables,
        })),
      ),
      fc.record({ query: noise(valid), variables: oddVariables({ s: 'E', n: 1 }) }),
      fc.record({ query: noise(valid) }),
    )
    .chain((body) =>
      fc
        .oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.constantFrom('Q', 'S', '') },
          { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
        )
        .map((operationName) => (operationName === undefined ? body : { ...body, operationName })),
    );

interface Case {
  admin: boolean;
  authenticated: boolean;
  method: 'POST' | 'GET';
  /** The whole JSON body (POST) or query string parameters (GET), as sent. */
  body: Record<string, unknown>;
}

const cases: fc.Arbitrary<Case> = fc
  .record({ admin: fc.boolean(), authenticated: fc.boolean(), get: fc.nat({ max: 9 }) })
  .chain(({ admin, authenticated, get }) =>
    bodies(admin ? VALID_ADMIN : VALID_USER).map((body): Case => ({
      admin,
      authenticated,
      method: get === 0 ? 'GET' : 'POST',
      body,
    })),
  );

describeEmbedded(
  'fuzzing GraphQL documents and variables over HTTP (server in a child process)',
  () => {
    let server: ChildServer;
    let userToken: string;
    let adminToken: string;

    beforeAll(async () => {
      server = await startChildServer({ GRAPHQL_RATE_LIMIT: '100000' }, [
        `--max-old-space-size=${HEAP_LIMIT_MB}`,
      ]);
      adminToken = (await login(server.graphqlUrl, server.admin.username, server.admin.password))
        .accessToken;
      await rawRequest(server.adminUrl, {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({
          query: 'mutation ($i: CreateUserInput!) { createUser(input: $i) { id } }',
          variables: {
            i: { username: 'fuzz-user', password: 'correct-horse-battery', role: 'USER' },
          },
        }),
      });
      userToken = (await login(server.graphqlUrl, 'fuzz-user', 'correct-horse-battery'))
        .accessToken;
    });

    afterAll(async () => {
      await server?.stop();
    });

    async function send(one: Case) {
      const url = one.admin ? server.adminUrl : server.graphqlUrl;
      const token = one.admin ? adminToken : userToken;
      const headers: Record<string, string> = one.authenticated
        ? { authorization: `Bearer ${token}` }
        : {};
      if (one.method === 'GET') {
        const target = new URL(url);
        for (const [key, value] of Object.entries(one.body)) {
          if (value === undefined) continue;
          target.searchParams.set(key, typeof value === 'string' ? value : JSON.stringify(value));
        }
        return rawRequest(target.toString(), { method: 'GET', headers });
      }
      return rawRequest(url, {
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(one.body),
      });
    }

    it(`answers any document with a result or a typed error, never INTERNAL or 5xx (${RUNS} cases)`, async () => {
      const before = server.rssMb();
      try {
        await fc.assert(
          fc.asyncProperty(cases, async (one) => {
            const answer = await send(one);
            expect(answer.status).toBeLessThan(500);
            expect(answer.json).toBeDefined();
            const errors = answer.json?.errors ?? [];
            if (errors.length === 0) expect(answer.json).toHaveProperty('data');
            for (const error of errors) {
              expect(typeof error.message).toBe('string');
              expect(PUBLIC_CODES.has(String(error.extensions?.code))).toBe(true);
            }
            expect(server.alive()).toBe(true);
          }),
          { seed: SEED, numRuns: RUNS, endOnFailure: true },
        );
      } catch (error) {
        process.stderr.write(`GraphQL HTTP fuzz failed; replay with FUZZ_SEED=${SEED}\n`);
        throw error;
      }

      expect(server.alive()).toBe(true);
      const health = await fetch(`${server.baseUrl}/health`);
      expect(health.status).toBe(200);
      const me = await rawRequest(server.adminUrl, {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ query: '{ users { username } }' }),
      });
      expect(me.status).toBe(200);
      expect(server.rssMb() - before).toBeLessThan(RSS_GROWTH_BOUND_MB);
    }, 600_000);
  },
);
