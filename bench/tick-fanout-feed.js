/*
 * Feed side shared by the bench reference servers (tick-fanout-reference.js, B0, and
 * tick-fanout-graphql-ws.js, B1): the app's FeedConnections (5, round-robin), packet decoder and
 * TickStore from dist/, wired the same way. `watch(instruments)` puts instruments on the feed
 * (once each) and returns their store records; `onApplied(fn)` sees every record a packet changed.
 * FEED_INSTRUMENTS_FILE (a JSON list of { segment, securityId }) is put on the feed at start.
 * The server's event-loop delay: on SIGUSR2 it prints `LOOP <p99 ms> <max ms>` (since the
 * previous SIGUSR2) and starts over, so the bench reads it over its measured window.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');

const { dist } = require('./harness').useBuild();

const { FeedConnection, FeedResponseCode, SEGMENT_CODE, instrumentKey } = require('@app/dhan');
const { TickStore } = require(path.join(dist, 'src/market-data/ticks/tick-store.js'));

function startFeed(env = process.env, name = 'ref') {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  process.on('SIGUSR2', () => {
    console.log(`LOOP ${loop.percentile(99) / 1e6} ${loop.max / 1e6}`);
    loop.reset();
  });
  const store = new TickStore();
  const listeners = [];
  const feeds = Array.from({ length: 5 }, (_, i) => {
    const c = new FeedConnection({
      url: env.DHAN_FEED_URL,
      clientId: env.DHAN_CLIENT_ID,
      token: () => env.DHAN_ACCESS_TOKEN,
      name: `${name}-${i}`,
      reuseObjects: true,
    });
    c.on('packet', (p) => {
      let r = null;
      switch (p.type) {
        case FeedResponseCode.TICKER:
          r = store.applyTicker(p);
          break;
        case FeedResponseCode.QUOTE:
          r = store.applyQuote(p);
          break;
        case FeedResponseCode.FULL:
          r = store.applyFull(p);
          break;
        case FeedResponseCode.OI:
          r = store.applyOi(p);
          break;
        case FeedResponseCode.PREV_CLOSE:
          r = store.applyPrevClose(p);
          break;
      }
      if (r !== null) for (const fn of listeners) fn(r);
    });
    c.on('error', () => undefined);
    c.start();
    return c;
  });
  const onFeed = new Set();
  let next = 0;
  const api = {
    dist,
    store,
    onApplied: (fn) => listeners.push(fn),
    /** [{ segment, securityId }] -> TickRecord[]; subscribes the new ones (FULL). */
    watch(list) {
      const fresh = [];
      const records = list.map((i) => {
        const key = instrumentKey(SEGMENT_CODE[i.segment], Number(i.securityId));
        if (!onFeed.has(key)) {
          onFeed.add(key);
          fresh.push(i);
        }
        return store.ensure(key);
      });
      const perFeed = feeds.map(() => []);
      for (const i of fresh) perFeed[next++ % feeds.length].push(i);
      perFeed.forEach((list, k) => list.length > 0 && feeds[k].subscribe(list, 'FULL'));
      return records;
    },
  };
  // The bench's whole feed set (25,000 instruments on the feed), not only the
  // instruments clients watch.
  if (env.FEED_INSTRUMENTS_FILE) {
    api.watch(JSON.parse(fs.readFileSync(env.FEED_INSTRUMENTS_FILE, 'utf8')));
  }
  return api;
}

module.exports = { startFeed, dist };
