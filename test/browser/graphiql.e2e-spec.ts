import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../utils/browser';
import { login } from '../utils/graphql-client';
import { createTestApp, type TestApp } from '../utils/test-app';

// The page's globals, as the callbacks passed to page.evaluate use them (they run in Chromium).
declare const document: { querySelector(selector: string): { textContent: string | null } | null };
declare const window: object;

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

  /** Replaces the query editor's text (CodeMirror 5 under GraphiQL 3). */
  async function setQuery(page: Page, query: string): Promise<void> {
    await page.evaluate((text) => {
      const editor = document.querySelector('.graphiql-query-editor .CodeMirror') as unknown as {
        CodeMirror: { setValue(value: string): void };
      };
      editor.CodeMirror.setValue(text);
    }, query);
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

  it('loads with nothing beyond the server, shows the schema docs, runs a query and a streaming subscription', async () => {
    const w = await open('/graphiql');
    const { page } = w;

    // The schema came through introspection (allowed outside production): the docs list Query.
    const fields = await openDocsOfQuery(page);
    expect(fields).toEqual(expect.arrayContaining(['me', 'instruments', 'optionChain', 'orders']));

    await setToken(page, adminToken);
    await setQuery(page, 'query Me { me { username role } }');
    const answered = page.waitForResponse((r) =>
      (r.request().postData() ?? '').includes('query Me'),
    );
    await page.locator('.graphiql-query-editor .CodeMirror').click();
    await page.keyboard.press('Control+Enter');
    const answer = (await (await answered).json()) as { data?: { me?: { username: string } } };
    expect(answer.data?.me?.username).toBe(t.admin.username);

    // A subscription streams into the result pane: three distinct serverTime values at least.
    await setQuery(page, 'subscription Clock { serverTime }');
    await page.locator('.graphiql-query-editor .CodeMirror').click();
    await page.keyboard.press('Control+Enter');
    const seen = await page.waitForFunction(
      () => {
        const text = document.querySelector('.graphiql-response')?.textContent ?? '';
        const value = /"serverTime":\s*"([^"]+)"/.exec(text.replace(/\u00a0/g, ' '))?.[1];
        const w = window as unknown as { seenTimes?: string[] };
        w.seenTimes ??= [];
        if (value && !w.seenTimes.includes(value)) w.seenTimes.push(value);
        return w.seenTimes.length >= 3 ? w.seenTimes : false;
      },
      undefined,
      { timeout: 90_000 },
    );
    const times = (await seen.jsonValue()) as string[];
    expect(new Set(times).size).toBeGreaterThanOrEqual(3);
    for (const time of times) expect(Number.isNaN(Date.parse(time))).toBe(false);
    // Stop it (the same shortcut) before leaving.
    await page.keyboard.press('Control+Enter');

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
