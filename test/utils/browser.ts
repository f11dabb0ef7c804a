import * as fs from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Headless Chromium for the browser tests: the system's Chromium (Debian's `chromium`, which
 * `.ci/run` installs), driven by Playwright's library. `CHROMIUM_PATH` points elsewhere. A missing
 * browser fails the suite (never a skip): CI is expected to have it.
 */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((p): p is string => !!p && fs.existsSync(p));
  if (!found) {
    throw new Error(
      'No Chromium found: install Debian\'s "chromium" package or set CHROMIUM_PATH (browser tests never skip)',
    );
  }
  return found;
}

export interface TestBrowser {
  browser: Browser;
  /**
   * A fresh context whose pages may reach only `allowedOrigin` (the server under test): any other
   * request is aborted and recorded, so a page that needs the network beyond the server fails.
   */
  context(
    allowedOrigin: string,
  ): Promise<{ context: BrowserContext; page: Page; refused: string[] }>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Root in CI: Chromium's sandbox needs an unprivileged user.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  return {
    browser,
    async context(allowedOrigin) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const refused: string[] = [];
      const origin = new URL(allowedOrigin).origin;
      const wsOrigin = origin.replace(/^http/, 'ws');
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith(origin) || url.startsWith(wsOrigin) || url.startsWith('data:')) {
          return route.continue();
        }
        refused.push(url);
        return route.abort('blockedbyclient');
      });
      const page = await context.newPage();
      return { context, page, refused };
    },
    close: () => browser.close(),
  };
}
