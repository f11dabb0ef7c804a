import * as fs from 'node:fs';
import { launchBrowser, type TestBrowser } from '../utils/browser';
import { createUser, login } from '../utils/graphql-client';
import { createTestApp, type TestApp } from '../utils/test-app';
import { logIn, pageProblems, screenshotPath } from './web-pages';

/** The operator view at `/admin` in headless Chromium: admins see the desk, users see nothing. */
describe('operator view at /admin (browser)', () => {
  let t: TestApp;
  let b: TestBrowser;
  const password = 'web-admin-Passw0rd!';

  beforeAll(async () => {
    t = await createTestApp();
    b = await launchBrowser();
    const admin = await login(t.graphqlUrl, t.admin.username, t.admin.password);
    await createUser(t, admin.accessToken, 'desk-user', password);
  });

  afterAll(async () => {
    await b?.close();
    await t?.close();
  });

  it('shows an admin the feed status per connection, subscriptions by tier, users, risk limits and the audit log', async () => {
    const { context, page, refused } = await b.context(t.baseUrl);
    const problems = pageProblems(page);
    const response = await page.goto(`${t.baseUrl}/admin`);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'self'");
    await logIn(page, t.admin.username, t.admin.password);

    const feed = page.getByTestId('feed-status');
    await feed.getByText('connected').waitFor();
    expect(await page.getByTestId('feed-connection').count()).toBeGreaterThan(0);
    await page.getByTestId('feed-connection').first().getByText(/^#0$/).waitFor();
    await page.getByRole('region', { name: 'Subscriptions by tier' }).getByText('TIER_B').waitFor();
    await page.getByTestId('user-row').filter({ hasText: 'desk-user' }).waitFor();
    await page
      .getByRole('region', { name: 'Risk limits and kill switch' })
      .getByText('Price collar')
      .waitFor();
    // The user created above is in the audit log.
    await page.getByRole('region', { name: 'Audit log' }).getByText('desk-user').first().waitFor();

    const file = screenshotPath('admin.png');
    await page.screenshot({ path: file, fullPage: false });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
    expect(refused).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a USER opening /admin "admins only" and no admin data', async () => {
    const { context, page, refused } = await b.context(t.baseUrl);
    await page.goto(`${t.baseUrl}/admin`);
    await logIn(page, 'desk-user', password);
    const refusal = page.getByTestId('admins-only');
    await refusal.getByRole('heading', { name: 'Admins only' }).waitFor();
    expect(await refusal.innerText()).toMatch(/FORBIDDEN|UNAUTHENTICATED/);
    expect(await page.getByTestId('feed-status').count()).toBe(0);
    expect(await page.getByTestId('user-row').count()).toBe(0);
    for (const panel of ['Feed status', 'Users', 'Risk limits and kill switch', 'Audit log']) {
      expect(await page.getByRole('region', { name: panel }).count()).toBe(0);
    }
    expect(refused).toEqual([]);
    await context.close();
  });
});
