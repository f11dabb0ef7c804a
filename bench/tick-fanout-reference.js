#!/usr/bin/env node
/*
 * Bare `ws` reference server for bench/tick-fanout.bench.js (reference B0): the same feed
 * connections and tick store as the app (from dist/), a minimal graphql-ws handshake, and one
 * pre-serialised frame per (client, batch) every interval with the same conflation. No Nest, no
 * Mercurius, no auth. Started by the bench as a child process; prints READY <port>.
 */
'use strict';

const path = require('node:path');
const { WebSocketServer } = require('ws');
const { startFeed, dist } = require('./tick-fanout-feed');

const { TickSerializer } = require(path.join(dist, 'src/market-data/ticks/tick-serializer.js'));
// Frames cut from shared slabs, as the app's fan-out does: a backing store per 16-64 KB frame
// (malloc, page faults, external-memory GC) made this reference's CPU swing from 35 % to 90 %
// of its core between runs at 1,000 clients.
const { BatchAllocator } = require(path.join(dist, 'src/market-data/ticks/tick-fanout.js'));

const env = process.env;
const interval = Number(env.TICKS_INTERVAL_MS || 100);
const feed = startFeed(env, 'ref');
const store = feed.store;
const serializer = new TickSerializer();
const SUFFIX = Buffer.from(']}}}');
const batches = new BatchAllocator();

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
      const records = feed.watch(msg.payload.variables.instruments);
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
      // The changed records' fragments (each valid until its record's next version), copied
      // into one frame: prefix, '[', fragments separated by ',', ']}}}'.
      const parts = [];
      let size = sub.prefix.length + 1 + SUFFIX.length;
      for (let i = 0; i < sub.records.length; i++) {
        const r = sub.records[i];
        if (r.version === sub.seen[i]) continue;
        sub.seen[i] = r.version;
        const fragment = serializer.fragment(r);
        parts.push(fragment);
        size += fragment.view.length + (parts.length > 1 ? 1 : 0);
      }
      if (parts.length === 0) continue;
      const frame = batches.take(size);
      let offset = sub.prefix.copy(frame, 0);
      frame[offset++] = 0x5b; // [
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) frame[offset++] = 0x2c; // ,
        frame.set(parts[i].view, offset);
        offset += parts[i].view.length;
      }
      SUFFIX.copy(frame, offset);
      client.ws.send(frame, { binary: false });
    }
  }
}, interval);

wss.on('listening', () => console.log(`READY ${wss.address().port}`));
process.on('SIGTERM', () => process.exit(0));
