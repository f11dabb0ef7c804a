#!/usr/bin/env node
/*
 * Plain graphql-ws peer for bench/tick-fanout.bench.js (reference B1): `useServer` from
 * graphql-ws on a `ws` WebSocketServer, graphql-js with a small schema carrying the same
 * `ticks(instruments: [InstrumentInput!]!): [Tick!]!` subscription and Tick fields, an
 * async-iterator pubsub (one unbounded queue per subscription, as graphql-subscriptions' PubSub)
 * and a trivial resolver. No conflation: every packet that changes a subscribed instrument is
 * published once (a plain object snapshot) and graphql-js executes it per subscriber. Fed by the
 * same FeedConnections / decoder / TickStore as the bare reference (tick-fanout-feed.js). No auth.
 * Started by the bench as a child process; prints READY <port>.
 */
'use strict';

const { WebSocketServer } = require('ws');
const { useServer } = require('graphql-ws/use/ws');
const { buildSchema } = require('graphql');
const { startFeed } = require('./tick-fanout-feed');

const schema = buildSchema(`
  scalar DateTime
  enum ExchangeSegment { BSE_CURRENCY BSE_EQ BSE_FNO IDX_I MCX_COMM NSE_CURRENCY NSE_EQ NSE_FNO }
  input InstrumentInput { securityId: String! segment: ExchangeSegment! }
  type DepthLevel {
    askOrders: Int!
    askPrice: Float!
    askQty: Float!
    bidOrders: Int!
    bidPrice: Float!
    bidQty: Float!
  }
  type Tick {
    avgPrice: Float
    change: Float
    changePercent: Float
    close: Float
    depth: [DepthLevel!]
    high: Float
    lastTradeQty: Float
    lastTradeTime: DateTime
    low: Float
    ltp: Float
    oi: Float
    open: Float
    prevClose: Float
    securityId: String!
    segment: ExchangeSegment!
    stale: Boolean!
    totalBuyQty: Float
    totalSellQty: Float
    volume: Float
  }
  type Query { ok: Boolean }
  type Subscription { ticks(instruments: [InstrumentInput!]!): [Tick!]! }
`);

const feed = startFeed(process.env, 'b1');

// ---- async-iterator pubsub keyed by instrument ----
const topics = new Map(); // TickRecord -> Set<push>
const n = (x) => (x === x ? x : null);
function snapshot(r) {
  let depth = null;
  if (r.hasDepth) {
    depth = [];
    const d = r.depth;
    for (let o = 0; o < d.length; o += 6) {
      depth.push({
        bidQty: d[o],
        bidOrders: d[o + 1],
        bidPrice: d[o + 2],
        askQty: d[o + 3],
        askOrders: d[o + 4],
        askPrice: d[o + 5],
      });
    }
  }
  return {
    segment: r.segment,
    securityId: r.securityId,
    ltp: n(r.ltp),
    lastTradeTime: r.ltt > 0 ? new Date(r.ltt * 1000).toISOString() : null,
    lastTradeQty: n(r.ltq),
    avgPrice: n(r.atp),
    volume: n(r.volume),
    totalBuyQty: n(r.totalBuyQty),
    totalSellQty: n(r.totalSellQty),
    open: n(r.open),
    high: n(r.high),
    low: n(r.low),
    close: n(r.close),
    prevClose: n(r.prevClose),
    change: n(r.change),
    changePercent: n(r.changePercent),
    oi: n(r.oi),
    depth,
    stale: r.stale,
  };
}
feed.onApplied((r) => {
  const subs = topics.get(r);
  if (subs === undefined) return;
  const tick = snapshot(r);
  for (const push of subs) push(tick);
});

function asyncIterator(records) {
  let queue = [];
  let head = 0;
  let waiting = null;
  let done = false;
  const push = (value) => {
    if (waiting !== null) {
      const w = waiting;
      waiting = null;
      w({ value, done: false });
    } else queue.push(value);
  };
  for (const r of records) {
    let subs = topics.get(r);
    if (subs === undefined) topics.set(r, (subs = new Set()));
    subs.add(push);
  }
  const finish = () => {
    done = true;
    queue = [];
    head = 0;
    for (const r of records) topics.get(r)?.delete(push);
    if (waiting !== null) waiting({ value: undefined, done: true });
    waiting = null;
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    next() {
      if (head < queue.length) {
        const value = queue[head++];
        if (head > 1024 && head * 2 > queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
        return Promise.resolve({ value, done: false });
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return: finish,
    throw: finish,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

const ticks = schema.getSubscriptionType().getFields().ticks;
ticks.subscribe = (_root, args) => asyncIterator(feed.watch(args.instruments));
ticks.resolve = (tick) => [tick];

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
useServer({ schema }, wss);
wss.on('listening', () => console.log(`READY ${wss.address().port}`));
process.on('SIGTERM', () => process.exit(0));
