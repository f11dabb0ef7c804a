#!/usr/bin/env node
/*
 * Bare `ws` reference server for bench/tick-fanout.bench.js (BENCHMARK.md B0): the same feed
 * connections and tick store as the app (from dist/), a minimal graphql-ws handshake, and one
 * pre-serialised frame per (client, batch) every interval with the same conflation. No Nest, no
 * Mercurius, no auth. Started by the bench as a child process; prints READY <port>.
 */
'use strict';

const path = require('node:path');
const Module = require('node:module');
const { WebSocketServer } = require('ws');

const dist = path.resolve(__dirname, '..', 'dist');
const aliases = [['@app/dhan', path.join(dist, 'libs/dhan/src')]];
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  for (const [alias, target] of aliases) {
    if (request === alias || request.startsWith(alias + '/')) {
      return resolve.call(this, target + request.slice(alias.length), ...rest);
    }
  }
  return resolve.call(this, request, ...rest);
};

const { FeedConnection, FeedResponseCode, SEGMENT_CODE, instrumentKey } = require('@app/dhan');
const { TickStore } = require(path.join(dist, 'src/market-data/tick-store.js'));
const { TickSerializer } = require(path.join(dist, 'src/market-data/tick-serializer.js'));

const env = process.env;
const interval = Number(env.TICKS_INTERVAL_MS || 100);
const store = new TickStore();
const serializer = new TickSerializer();
const feeds = Array.from({ length: 5 }, (_, i) => {
  const c = new FeedConnection({
    url: env.DHAN_FEED_URL,
    clientId: env.DHAN_CLIENT_ID,
    token: () => env.DHAN_ACCESS_TOKEN,
    name: `ref-${i}`,
    reuseObjects: true,
  });
  c.on('packet', (p) => {
    switch (p.type) {
      case FeedResponseCode.TICKER:
        store.applyTicker(p);
        break;
      case FeedResponseCode.QUOTE:
        store.applyQuote(p);
        break;
      case FeedResponseCode.FULL:
        store.applyFull(p);
        break;
      case FeedResponseCode.OI:
        store.applyOi(p);
        break;
      case FeedResponseCode.PREV_CLOSE:
        store.applyPrevClose(p);
        break;
    }
  });
  c.on('error', () => undefined);
  c.start();
  return c;
});
const onFeed = new Set();
let next = 0;

const clients = new Set();
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  const client = { ws, subs: [] };
  clients.add(client);
  ws.on('close', () => clients.delete(client));
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.type === 'connection_init') ws.send('{"type":"connection_ack"}');
    else if (msg.type === 'subscribe') {
      const list = msg.payload.variables.instruments;
      const fresh = [];
      const records = list.map((i) => {
        const key = instrumentKey(SEGMENT_CODE[i.segment], Number(i.securityId));
        if (!onFeed.has(key)) {
          onFeed.add(key);
          fresh.push(i);
        }
        return store.ensure(key);
      });
      for (const i of fresh) feeds[next++ % feeds.length].subscribe([i], 'FULL');
      client.subs.push({
        prefix: Buffer.from(
          `{"id":${JSON.stringify(msg.id)},"type":"next","payload":{"data":{"ticks":`,
        ),
        records,
        seen: new Float64Array(records.length).fill(-1),
      });
    }
  });
});

setInterval(() => {
  store.drainDirty();
  for (const client of clients) {
    if (client.ws.bufferedAmount > 256 * 1024) continue;
    for (const sub of client.subs) {
      const parts = [];
      for (let i = 0; i < sub.records.length; i++) {
        const r = sub.records[i];
        if (r.version === sub.seen[i]) continue;
        sub.seen[i] = r.version;
        parts.push(serializer.fragment(r));
      }
      if (parts.length === 0) continue;
      const chunks = [sub.prefix, Buffer.from('[')];
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) chunks.push(Buffer.from(','));
        chunks.push(parts[i]);
      }
      chunks.push(Buffer.from(']}}}'));
      client.ws.send(Buffer.concat(chunks), { binary: false });
    }
  }
}, interval);

wss.on('listening', () => console.log(`READY ${wss.address().port}`));
process.on('SIGTERM', () => process.exit(0));
