import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';

/**
 * Where the browser suites write their screenshots: a temporary folder, or docs/ when
 * SCREENSHOT_DIR says so (`npm run screenshots` refreshes docs/terminal.png and docs/admin.png).
 */
export function screenshotPath(name: string): string {
  const dir = process.env.SCREENSHOT_DIR
    ? path.resolve(process.env.SCREENSHOT_DIR)
    : fs.mkdtempSync(path.join(os.tmpdir(), 'web-shots-'));
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

/** Logs in through the page's own form. */
export async function logIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Content-Security-Policy reports and script errors the page printed. */
export function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}

/** The page's document as functions run in the browser see it (the tests compile without the DOM lib). */
interface PageElement {
  textContent: string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
};

/** Waits until some element matching `selector` shows a number. */
export async function waitForPrice(page: Page, selector: string): Promise<void> {
  await page.waitForFunction(
    (sel) =>
      Array.from(document.querySelectorAll(sel)).some((el) => /\d/.test(el.textContent ?? '')),
    selector,
  );
}

/** The texts of every element matching `selector`, in document order. */
export function textsOf(page: Page, selector: string): Promise<string[]> {
  return page.evaluate(
    (sel) => Array.from(document.querySelectorAll(sel)).map((el) => el.textContent ?? ''),
    selector,
  );
}

/** Waits until one of the elements matching `selector` shows a number other than it showed in `before`. */
export async function waitForPriceChange(
  page: Page,
  selector: string,
  before: string[],
): Promise<void> {
  await page.waitForFunction(
    ([sel, old]) =>
      Array.from(document.querySelectorAll(sel)).some(
        (el, i) => /\d/.test(el.textContent ?? '') && el.textContent !== old[i],
      ),
    [selector, before] as const,
  );
}
