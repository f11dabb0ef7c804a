import * as fs from 'node:fs';
import { launchBrowser, type TestBrowser } from '../utils/browser';
import { createUser, login } from '../utils/graphql-client';
import { createTestApp, type TestApp } from '../utils/test-app';
import {
  logIn,
  pageProblems,
  screenshotPath,
  textsOf,
  waitForPrice,
  waitForPriceChange,
} from './web-pages';
import type { BrowserContext, Page } from 'playwright-core';

/**
 * The web terminal at `/`, driven in headless Chromium as a trader uses it: against the whole
 * app and its embedded DhanHQ simulator, reaching nothing beyond the server.
 */
describe('web terminal at / (browser)', () => {
  let t: TestApp;
  let b: TestBrowser;
  let context: BrowserContext;
  let page: Page;
  let refused: string[];
  let problems: string[];
  const password = 'web-terminal-Passw0rd!';

  beforeAll(async () => {
    t = await createTestApp();
    b = await launchBrowser();
    const admin = await login(t.graphqlUrl, t.admin.username, t.admin.password);
    await createUser(t, admin.accessToken, 'trader1', password);
    ({ context, page, refused } = await b.context(t.baseUrl));
    problems = pageProblems(page);
  });

  afterAll(async () => {
    await context?.close();
    await b?.close();
    await t?.close();
  });

  afterEach(() => {
    // Nothing outside the server was asked for, and no script or CSP error was printed.
    expect(refused).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('serves the page with a self-only Content-Security-Policy, logs in, adds NIFTY to a watchlist and its price changes', async () => {
    const response = await page.goto(`${t.baseUrl}/`);
    expect(response?.status()).toBe(200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:\/\/(?!127\.0\.0\.1)/);

    await logIn(page, 'trader1', password);
    await page.getByTestId('user').getByText('trader1').waitFor();

    await page.getByLabel('Search instruments').fill('NIFTY');
    const result = page.locator(
      '[data-testid="search-result"][data-symbol="NIFTY"][data-segment="IDX_I"]',
    );
    await result.getByRole('button', { name: '+ Watch' }).click();

    const ltp = '[data-testid="watch-row"][data-symbol="NIFTY"] [data-testid="ltp"]';
    await waitForPrice(page, ltp);
    const first = await textsOf(page, ltp);
    await waitForPriceChange(page, ltp, first);
    const now = await textsOf(page, ltp);
    expect(now).toHaveLength(1);
    expect(now[0]).toMatch(/\d/);
    expect(now[0]).not.toBe(first[0]);
    // Feed health is shown live.
    await page.getByTestId('feed-health').getByText('Feed live').waitFor();
    // Market status per exchange, from the calendar: open until the close, or the next open.
    for (const exchange of ['NSE', 'BSE', 'MCX']) {
      const badge = page.getByTestId(`market-${exchange}`);
      await badge.waitFor();
      expect(await badge.textContent()).toMatch(
        new RegExp(`^${exchange} (open · until|pre-open · until|closed · opens) \\S`),
      );
    }
  });

  it('opens the NIFTY option chain around ATM and its quotes move', async () => {
    // The chain opens on NIFTY; "Chain" from the watchlist opens it as well.
    await page
      .locator('[data-testid="watch-row"][data-symbol="NIFTY"]')
      .getByRole('button', { name: 'Chain' })
      .click();
    await page
      .getByTestId('chain-meta')
      .getByText(/^NIFTY · expiry/)
      .waitFor();
    const atm = page.getByTestId('chain-atm');
    await atm.waitFor();
    const strikes = await page.locator('[data-testid="option-chain"] tbody tr').count();
    expect(strikes).toBeGreaterThan(8); // a window of strikes around the ATM one
    const prices = '[data-testid="option-chain"] [data-testid="ltp"]';
    await waitForPrice(page, prices);
    const before = await textsOf(page, prices);
    await waitForPriceChange(page, prices, before);
    const after = await textsOf(page, prices);
    expect(after.some((text, i) => /\d/.test(text) && text !== before[i])).toBe(true);
    // Live analytics on the chain: the ATM strike's call and put have an IV (in %) and a delta
    // with the right sign, and the header shows the ATM IV.
    for (const cell of await atm.getByTestId('iv').all())
      await cell.getByText(/^\d+\.\d$/).waitFor();
    const ivs = await atm.getByTestId('iv').allTextContents();
    const deltas = (await atm.getByTestId('delta').allTextContents()).map(Number);
    expect(ivs.every((iv) => Number(iv) > 1 && Number(iv) < 200)).toBe(true);
    expect(deltas[0]).toBeGreaterThan(0);
    expect(deltas[1]).toBeLessThan(0);
    expect(await page.getByTestId('chain-meta').textContent()).toMatch(/ATM IV \d+\.\d/);
  });

  async function openTicket(symbol: string): Promise<{ ltp: number; tick: number }> {
    await page.getByLabel('Search instruments').fill(symbol);
    await page
      .locator(`[data-testid="search-result"][data-symbol="${symbol}"][data-segment="NSE_EQ"]`)
      .getByRole('button', { name: 'Trade' })
      .click();
    const ticket = page.locator(`[data-testid="ticket-instrument"][data-symbol="${symbol}"]`);
    await ticket.waitFor();
    await waitForPrice(page, '[data-testid="ticket-instrument"] [data-testid="ltp"]');
    const ltp = Number((await ticket.getByTestId('ltp').innerText()).replace(/,/g, ''));
    const tick = Number(await ticket.getAttribute('data-tick-size'));
    return { ltp, tick };
  }

  const onTick = (price: number, tick: number) =>
    Number((Math.round(price / tick) * tick).toFixed(2));

  it('places a LIMIT order from the ticket, sees it in the orders table and cancels it', async () => {
    const { ltp, tick } = await openTicket('RELIANCE');
    // The ticket's instrument is charted: 5-minute candles from history, the last one near the LTP.
    const chart = page.getByTestId('chart');
    await chart.waitFor();
    expect(await chart.locator('[data-testid="candle"]').count()).toBeGreaterThan(10);
    const lastClose = Number(await chart.getAttribute('data-last-close'));
    expect(Math.abs(lastClose - ltp) / ltp).toBeLessThan(0.05);
    await page.getByLabel('Lots').fill('2');
    await page.getByTestId('ticket-quantity').getByText('2 units').waitFor();
    // A resting buy: 3% under the market, inside the price collar.
    await page.locator('input[name="price"]').fill(String(onTick(ltp * 0.97, tick)));
    await page.getByRole('button', { name: 'BUY 2' }).click();
    await page
      .getByTestId('ticket-message')
      .getByText(/^BUY 2 RELIANCE LIMIT @/)
      .waitFor();

    const row = page.locator('[data-testid="order-row"]').filter({ hasText: 'RELIANCE' }).first();
    await page
      .locator('[data-testid="order-row"][data-status="PENDING"]')
      .filter({ hasText: 'RELIANCE' })
      .waitFor();
    expect(await row.innerText()).toContain('0/2');
    await row.getByRole('button', { name: 'Cancel order RELIANCE' }).click();
    await page
      .locator('[data-testid="order-row"][data-status="CANCELLED"]')
      .filter({ hasText: 'RELIANCE' })
      .waitFor();
    expect(await row.getByRole('button', { name: /Cancel/ }).count()).toBe(0);
  });

  it('shows a risk denial with its reason as a trader reads it', async () => {
    const { ltp, tick } = await openTicket('RELIANCE');
    // 50% over the market: outside the price collar.
    await page.locator('input[name="price"]').fill(String(onTick(ltp * 1.5, tick)));
    await page.getByLabel('Lots').fill('1');
    await page.getByRole('button', { name: 'BUY 1' }).click();
    const message = page.getByTestId('ticket-message');
    await message.getByText(/^Rejected:/).waitFor();
    expect(await message.innerText()).toBe(
      'Rejected: Price is too far from the market (outside the allowed price band) (PRICE_OUTSIDE_COLLAR)',
    );
    await page
      .locator('[data-testid="order-row"][data-status="REJECTED"]')
      .filter({ hasText: 'PRICE_OUTSIDE_COLLAR' })
      .waitFor();
  });

  it('takes a screenshot of the terminal', async () => {
    const file = screenshotPath('terminal.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
  });
});
