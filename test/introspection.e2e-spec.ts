import { getIntrospectionQuery } from 'graphql';
import { errorCodes, gql, login, createUser } from './utils/graphql-client';
import { createTestApp, type TestApp } from './utils/test-app';

const FULL = getIntrospectionQuery({
  descriptions: true,
  inputValueDeprecation: true,
  schemaDescription: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
});

/** GraphiQL, code generators and API tools introspect with the standard query (15 levels). */
describe('introspection outside production (e2e)', () => {
  let t: TestApp;
  let adminToken: string;
  let userToken: string;

  beforeAll(async () => {
    t = await createTestApp();
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
    userToken = (await createUser(t, adminToken, 'introspecting', 'introspecting-password')).token;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers the standard IntrospectionQuery on the user schema, token or not', async () => {
    for (const token of [undefined, userToken]) {
      const answer = await gql<{ __schema: { queryType: { name: string } } }>(
        t.graphqlUrl,
        FULL,
        {},
        token,
      );
      expect(answer.errors).toBeUndefined();
      expect(answer.data?.__schema.queryType.name).toBe('Query');
    }
  });

  it('keeps the admin schema to admins', async () => {
    expect(errorCodes(await gql(t.adminUrl, FULL))).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(await gql(t.adminUrl, FULL, {}, userToken))).toEqual(['FORBIDDEN']);
    const admin = await gql<{ __schema: { queryType: { name: string } } }>(
      t.adminUrl,
      FULL,
      {},
      adminToken,
    );
    expect(admin.errors).toBeUndefined();
    expect(admin.data?.__schema.queryType.name).toBe('Query');
  });

  it('still bounds introspection and everything else', async () => {
    const ofTypes = 'ofType { '.repeat(20) + 'name' + ' }'.repeat(20);
    const deep = await gql(t.graphqlUrl, `{ __type(name: "Query") { ${ofTypes} } }`);
    expect(errorCodes(deep)).toContain('BAD_USER_INPUT');
    expect(deep.errors?.[0].message).toMatch(/Introspection depth \(22\)/);
    // The introspection part counts one level; the rest of the operation keeps the limit.
    const mixed = await gql(
      t.graphqlUrl,
      '{ __schema { queryType { name } } me { ... on User { ... on User { ... on User { ... on User { ... on User { ... on User { ... on User { ... on User { id } } } } } } } } } }',
      {},
      userToken,
    );
    expect(errorCodes(mixed)).toEqual(['BAD_USER_INPUT']);
    expect(mixed.errors?.[0].message).toMatch(/query depth limit of 8/);
  });
});

describe('production (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ NODE_ENV: 'production' });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('refuses introspection and serves no GraphiQL page or asset', async () => {
    expect(errorCodes(await gql(t.graphqlUrl, FULL))).toContain('BAD_USER_INPUT');
    for (const path of ['/graphiql', '/admin/graphiql', '/graphiql/assets/graphiql.min.js']) {
      expect({ path, status: (await fetch(`${t.baseUrl}${path}`)).status }).toEqual({
        path,
        status: 404,
      });
    }
  });
});
