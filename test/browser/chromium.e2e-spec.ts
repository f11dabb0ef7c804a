import { launchBrowser, type TestBrowser } from '../utils/browser';
import { createTestApp, type TestApp } from '../utils/test-app';

/** The browser harness itself: headless Chromium reaches the server and nothing else. */
describe('headless Chromium against the server (browser harness)', () => {
  let t: TestApp;
  let b: TestBrowser;

  beforeAll(async () => {
    t = await createTestApp();
    b = await launchBrowser();
  });

  afterAll(async () => {
    await b?.close();
    await t?.close();
  });

  it('loads a page of the server and runs a GraphQL request from it; other origins are refused', async () => {
    const { page, refused, context } = await b.context(t.baseUrl);
    await page.goto(`${t.baseUrl}/health`);
    const answer = await page.evaluate(async (url) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      return (await res.json()) as { data?: { __typename?: string } };
    }, t.graphqlUrl);
    expect(answer.data?.__typename).toBe('Query');
    const outside = await page.evaluate(() =>
      fetch('http://example.invalid/').then(
        () => 'reached',
        () => 'refused',
      ),
    );
    expect(outside).toBe('refused');
    expect(refused).toEqual(['http://example.invalid/']);
    await context.close();
  });
});
