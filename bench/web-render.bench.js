#!/usr/bin/env node
/*
 * Web terminal render rate (docs/BENCHMARKS.md, "Web terminal: 200 live rows"): the app
 * in-process with its embedded simulator, the built web terminal in headless Chromium (Debian's
 * chromium through playwright-core), logged in as the admin with one watchlist of 200 NSE
 * equities that all stream. For `--seconds` (default 10) the page counts its animation frames
 * and the gaps between them, and the terminal's own footer counts the ticks it applied.
 * Figures: frames per second, p50/p99/max frame gap, long frames (> 1.5 x 16.7 ms), ticks
 * applied per second.
 *
 * Build first (`npm run build`, which builds web/ too), then:
 *   node bench/web-render.bench.js [--rows 200] [--seconds 10]
 */
'use strict';

const os = require('node:os');
const { chromium } = require('playwright-core');
const {
  useBuild,
  arg,
  quick,
  percentile: pct,
  gql,
  bootApp,
  loginAdmin,
  report,
  check,
} = require('./harness');

const build = useBuild('WEB_DIST');
const { InstrumentsService } = build.load('src/instruments/instruments.service.js');

const ROWS = arg('rows', 200);
const SECONDS = arg('seconds', quick ? 4 : 10);

async function main() {
  const booted = await bootApp(build, { tmpPrefix: 'bench-web-' });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  try {
    const { token } = await loginAdmin(booted);
    const instruments = booted.app.get(InstrumentsService);
    await instruments.ready();
    const equities = instruments
      .all()
      .filter((i) => i.segment === 'NSE_EQ' && i.instrumentType === 'EQUITY')
      .slice(0, ROWS);
    if (equities.length < ROWS) throw new Error(`only ${equities.length} equities`);
    const list = await gql(
      booted.graphqlUrl,
      'mutation { createWatchlist(name: "bench") { id } }',
      {},
      token,
    );
    for (const i of equities) {
      await gql(
        booted.graphqlUrl,
        'mutation A($w: ID!, $i: InstrumentInput!) { addWatchlistItem(watchlistId: $w, instrument: $i) { id } }',
        { w: list.createWatchlist.id, i: { segment: i.segment, securityId: i.securityId } },
        token,
      );
    }
    const base = booted.graphqlUrl.replace(/\/graphql$/, '');
    const page = await (
      await browser.newContext({ viewport: { width: 1440, height: 900 } })
    ).newPage();
    await page.goto(`${base}/`);
    await page.getByLabel('Username').fill(booted.admin.username);
    await page.getByLabel('Password').fill(booted.admin.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'bench' }).click();
    await page.waitForFunction(
      (rows) => document.querySelectorAll('[data-testid="watch-row"]').length >= rows,
      ROWS,
      { timeout: 60_000 },
    );
    // Every row has had its first price before measuring.
    await page.waitForTimeout(2_000);
    const ticksApplied = async () => {
      const text = ((await page.locator('footer').textContent()) ?? '').replace(/,/g, '');
      const m = /(\d+) ticks in (\d+) frames/.exec(text);
      return m ? Number(m[1]) : 0;
    };
    const ticksBefore = await ticksApplied();
    const gaps = await page.evaluate(
      (seconds) =>
        new Promise((resolve) => {
          const out = [];
          let last = performance.now();
          const end = last + seconds * 1000;
          const step = (now) => {
            out.push(now - last);
            last = now;
            if (now < end) requestAnimationFrame(step);
            else resolve(out);
          };
          requestAnimationFrame(step);
        }),
      SECONDS,
    );
    const ticksAfter = await ticksApplied();
    const sorted = [...gaps].sort((a, b) => a - b);
    const total = gaps.reduce((a, b) => a + b, 0) / 1000;
    const rows = await page.locator('[data-testid="watch-row"]').count();
    const figures = {
      bench: 'web-render',
      rows,
      seconds: Number(total.toFixed(2)),
      fps: Number((gaps.length / total).toFixed(1)),
      frameGapMs: {
        p50: Number(pct(sorted, 50).toFixed(1)),
        p99: Number(pct(sorted, 99).toFixed(1)),
        max: Number(sorted[sorted.length - 1].toFixed(1)),
      },
      longFrames: gaps.filter((g) => g > 25).length,
      ticksPerSecond: Math.round((ticksAfter - ticksBefore) / total),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load: os.loadavg() },
    };
    console.log(JSON.stringify(figures, null, 2));
    report('web-render', {
      figures,
      checks: [
        check(`terminal frames per second, ${rows} live rows`, figures.fps, '>=', 55, 'fps'),
      ],
    });
  } finally {
    await browser.close();
    await booted.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
