import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../utils/browser';
import { login } from '../utils/graphql-client';
import { createTestApp, type TestApp } from '../utils/test-app';

interface Watched {
  page: Page;
  refused: string[];
  /** Content-Security-Policy violations and uncaught page errors. */
  problems: string[];
  close(): Promise<void>;
}

/** GraphiQL served by the server itself: offline, whole, with a token field. */
describe('GraphiQL in headless Chromium (browser)', () => {
  let t: TestApp;
  let b: TestBrowser;
  let adminToken: string;

  beforeAll(async () => {
    t = await createTestApp();
    b = await launchBrowser();
    adminToken = (await login(t.graphqlUrl, t.admin.username, t.admin.password)).accessToken;
  });

  afterAll(async () => {
    await b?.close();
    await t?.close();
  });

  async function open(path: string): Promise<Watched> {
    const { context, page, refused } = await b.context(t.baseUrl);
    // A hang detector, not a speed claim: GraphiQL is 3.5 MB of script on a shared machine.
    page.setDefaultTimeout(90_000);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
        problems.push(`CSP: ${message.text()}`);
      }
    });
    const response = await page.goto(`${t.baseUrl}${path}`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/default-src 'self'/);
    await page.locator('.graphiql-container').waitFor();
    return { page, refused, problems, close: () => context.close() };
  }

  /** Sets the token and waits for GraphiQL to load the schema again with it. */
  async function setToken(page: Page, token: string): Promise<void> {
    const reloaded = page.waitForResponse(
      (r) =>
        r.request().headers().authorization === `Bearer ${token}` &&
        (r.request().postData() ?? '').includes('IntrospectionQuery'),
    );
    await page.fill('#token', token);
    await page.locator('#token').dispatchEvent('change');
    await page.getByText('token set').waitFor();
    await reloaded;
  }

  async function openDocsOfQuery(page: Page): Promise<string[]> {
    await page.locator('button[aria-label="Show Documentation Explorer"]').click();
    await page
      .locator('.graphiql-doc-explorer-section-content a.graphiql-doc-explorer-type-name', {
        hasText: /^Query$/,
      })
      .first()
      .click();
    await page.locator('.graphiql-doc-explorer-field-name').first().waitFor();
    return page.locator('.graphiql-doc-explorer-field-name').allTextContents();
  }

  it('runs a query, then a subscription that keeps streaming, with the token in the page', async () => {
    const { context, page, refused } = await b.context(t.baseUrl);
    page.setDefaultTimeout(90_000);
    // The token as a returning user has it (the page keeps it per tab), so the page renders once.
    await context.addInitScript(
      // Runs in the page: its sessionStorage (this project compiles without the DOM types).
      ([key, value]) =>
        (
          globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }
        ).sessionStorage.setItem(key, value),
      ['graphiql:token:/graphql', adminToken],
    );
    const nexts: string[] = [];
    let threeNexts: () => void = () => undefined;
    const streamed = new Promise<void>((resolve) => (threeNexts = resolve));
    page.on('websocket', (ws) =>
      ws.on('framereceived', (frame) => {
        const text = String(frame.payload);
        if (!text.includes('"type":"next"')) return;
        nexts.push(text);
        if (nexts.length >= 3) threeNexts();
      }),
    );
    const run = async (query: string, shows: string) => {
      await page.goto(`${t.baseUrl}/graphiql?query=${encodeURIComponent(query)}`);
      await page.locator('.graphiql-query-editor').getByText(shows).first().waitFor();
      await page.getByText('token set').waitFor();
      await page.locator('.graphiql-execute-button').click();
    };

    await run('query { me { username role } }', 'username');
    await page.locator('.graphiql-response').getByText(t.admin.username).first().waitFor();
    expect(await page.locator('.graphiql-response').textContent()).toContain('"role": "ADMIN"');

    await run('subscription { serverTime }', 'serverTime');
    await streamed;
    const times = nexts.map(
      (text) =>
        (JSON.parse(text) as { payload: { data: { serverTime: string } } }).payload.data.serverTime,
    );
    expect(new Set(times).size).toBeGreaterThanOrEqual(3);
    await page.locator('.graphiql-response').getByText('serverTime').waitFor();
    expect(refused).toEqual([]);
    await context.close();
  });

  it('loads with nothing beyond the server and shows the schema docs', async () => {
    const w = await open('/graphiql');
    const { page } = w;

    // The schema came through introspection (allowed outside production): the docs list Query.
    const fields = await openDocsOfQuery(page);
    expect(fields).toEqual(expect.arrayContaining(['me', 'instruments', 'optionChain', 'orders']));
    await setToken(page, adminToken);

    expect(w.refused).toEqual([]);
    expect(w.problems).toEqual([]);
    await w.close();
  });

  it('serves the admin schema at /admin/graphiql once an admin token is set', async () => {
    const w = await open('/admin/graphiql');
    await setToken(w.page, adminToken);
    const fields = await openDocsOfQuery(w.page);
    expect(fields).toEqual(expect.arrayContaining(['users', 'auditLog']));
    expect(w.refused).toEqual([]);
    expect(w.problems).toEqual([]);
    await w.close();
  });
});
