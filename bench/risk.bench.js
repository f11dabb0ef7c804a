#!/usr/bin/env node
/*
 * Risk-check latency (docs/BENCHMARKS.md, "Risk checks"): RiskEngine.check over 100,000
 * synthetic orders in process, p50/p99/p99.9/max per check, after a warm-up.
 *
 * Build first into dist (`npx nest build`), or, while another build is running, into a
 * temporary folder and point the bench at it:
 *   npx tsc -p tsconfig.build.json --outDir /tmp/risk-dist
 *   RISK_DIST=/tmp/risk-dist taskset -c 1 node bench/risk.bench.js [--orders 100000] [--users 1000]
 *
 * Orders: 1,000 users over NSE equity, index futures and options; 60% LIMIT, 25% MARKET,
 * 15% stop-loss; BUY and SELL; about 5% carry a fault (off-tick price, bad lot, stale price)
 * so denials are in the mix. Each check runs the full ordered list and, when it passes,
 * reserves margin on the user's FundsLedger; the reservation is released outside the timing
 * so the ledger stays in steady state. The engine's clock advances 1 ms per order.
 */
'use strict';

const os = require('node:os');
const { useBuild, arg, report, check, seededRandom } = require('./harness');

const build = useBuild('RISK_DIST');
const { RiskEngine } = build.load('src/risk/risk-engine.js');
const { FundsLedger } = build.load('src/risk/funds-ledger.js');
const { DEFAULT_RISK_LIMITS } = build.load('src/risk/risk-limits.js');

const ORDERS = arg('orders', 100_000);
const USERS = arg('users', 1_000);
const WARMUP = Math.min(20_000, ORDERS);

const rand = seededRandom(0x5eed);
const pick = (list) => list[Math.floor(rand() * list.length)];

const instruments = [
  {
    segment: 'NSE_EQ',
    securityId: '2885',
    exchange: 'NSE',
    instrumentType: 'EQUITY',
    symbol: 'RELIANCE',
    displayName: 'RELIANCE',
    lotSize: 1,
    tickSize: 0.05,
    ltp: 1250,
  },
  {
    segment: 'NSE_EQ',
    securityId: '1333',
    exchange: 'NSE',
    instrumentType: 'EQUITY',
    symbol: 'HDFCBANK',
    displayName: 'HDFCBANK',
    lotSize: 1,
    tickSize: 0.05,
    ltp: 1700,
  },
  {
    segment: 'NSE_FNO',
    securityId: '35001',
    exchange: 'NSE',
    instrumentType: 'FUTIDX',
    symbol: 'NIFTY-Dec2026-FUT',
    displayName: 'NIFTY FUT',
    underlying: 'NIFTY',
    expiry: '2026-12-29',
    lotSize: 75,
    tickSize: 0.1,
    ltp: 24100,
  },
  {
    segment: 'NSE_FNO',
    securityId: '40001',
    exchange: 'NSE',
    instrumentType: 'OPTIDX',
    symbol: 'NIFTY-Dec2026-24000-CE',
    displayName: 'NIFTY 24000 CE',
    underlying: 'NIFTY',
    expiry: '2026-12-29',
    strike: 24000,
    optionType: 'CE',
    lotSize: 75,
    tickSize: 0.05,
    ltp: 180,
  },
];

const START = Date.UTC(2026, 10, 25, 5, 0, 0);
let now = START;
const engine = new RiskEngine({ now: () => now });
const limits = {
  ...DEFAULT_RISK_LIMITS,
  maxGrossExposurePaise: 1e12,
  maxPositionValuePaise: 1e12,
  maxOrderValuePaise: 1e12,
};
const ledgers = Array.from({ length: USERS }, () => new FundsLedger(1e12));

function ticks(n) {
  return Math.round(n * 20) / 20;
}

function makeCase(i) {
  const inst = pick(instruments);
  const u = Math.floor(rand() * USERS);
  const r = rand();
  const orderType =
    r < 0.6 ? 'LIMIT' : r < 0.85 ? 'MARKET' : rand() < 0.5 ? 'STOP_LOSS' : 'STOP_LOSS_MARKET';
  const side = rand() < 0.5 ? 'BUY' : 'SELL';
  const lots = 1 + Math.floor(rand() * 10);
  const fault = rand();
  const tick = inst.tickSize;
  const near = Math.round((inst.ltp * (1 + (rand() - 0.5) * 0.04)) / tick) * tick;
  let price =
    orderType === 'LIMIT' || orderType === 'STOP_LOSS' ? Number(near.toFixed(4)) : undefined;
  let triggerPrice;
  if (orderType === 'STOP_LOSS' || orderType === 'STOP_LOSS_MARKET') {
    const offset = tick * (5 + Math.floor(rand() * 20));
    triggerPrice = Number((side === 'BUY' ? inst.ltp + offset : inst.ltp - offset).toFixed(4));
    if (price !== undefined)
      price = Number((side === 'BUY' ? triggerPrice + tick : triggerPrice - tick).toFixed(4));
  }
  let quantity = lots * inst.lotSize;
  let lastTickAt = START - 200;
  if (fault < 0.02 && price !== undefined) price = price + 0.013;
  else if (fault < 0.035 && inst.lotSize > 1) quantity += 1;
  else if (fault < 0.05) lastTickAt = START - 120_000;
  const productType =
    inst.segment === 'NSE_EQ' ? pick(['CNC', 'INTRADAY']) : pick(['INTRADAY', 'MARGIN']);
  const order = {
    orderId: `o-${i}`,
    userId: `u-${u}`,
    action: 'PLACE',
    side,
    quantity,
    orderType,
    productType,
    validity: 'DAY',
    price,
    triggerPrice,
  };
  const ctx = {
    now: 0,
    today: '2026-11-25',
    globalState: 'ACTIVE',
    userState: 'ACTIVE',
    instrument: inst,
    freezeQuantity: inst.segment === 'NSE_FNO' ? 1800 : undefined,
    limits,
    market: { ltp: inst.ltp, lastTickAt, stale: false },
    position: {
      netQuantity: Math.floor((rand() - 0.5) * 4) * inst.lotSize,
      openBuyQuantity: 0,
      openSellQuantity: 0,
    },
    account: {
      openOrderCount: Math.floor(rand() * 10),
      grossExposurePaise: Math.floor(rand() * 1e9),
      dayPnlPaise: -Math.floor(rand() * 1e6),
    },
    funds: ledgers[u],
  };
  return { order, ctx, lastTickAt };
}

const cases = Array.from({ length: ORDERS + WARMUP }, (_, i) => makeCase(i));
const samples = new Float64Array(ORDERS);
const denials = new Map();
let passed = 0;

function runOne(c) {
  now += 1;
  c.ctx.now = now;
  c.ctx.market.lastTickAt = c.lastTickAt + (now - START);
  const t0 = process.hrtime.bigint();
  const verdict = engine.check(c.order, c.ctx);
  const t1 = process.hrtime.bigint();
  if (verdict.pass) c.ctx.funds.release(c.order.orderId);
  return { ns: Number(t1 - t0), verdict };
}

for (let i = 0; i < WARMUP; i++) runOne(cases[i]);
const wall0 = process.hrtime.bigint();
for (let i = 0; i < ORDERS; i++) {
  const { ns, verdict } = runOne(cases[WARMUP + i]);
  samples[i] = ns;
  if (verdict.pass) passed++;
  else denials.set(verdict.code, (denials.get(verdict.code) || 0) + 1);
}
const wallMs = Number(process.hrtime.bigint() - wall0) / 1e6;

samples.sort();
const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] / 1000;
const fmt = (us) => `${us.toFixed(2)} µs`;
console.log(`risk checks: ${ORDERS} orders, ${USERS} users, warm-up ${WARMUP}`);
console.log(
  `node ${process.version}, ${os.cpus()[0].model}, ${os.cpus().length} cores, ${os.type()} ${os.release()}`,
);
console.log(
  `p50 ${fmt(q(0.5))}  p90 ${fmt(q(0.9))}  p99 ${fmt(q(0.99))}  p99.9 ${fmt(q(0.999))}  max ${fmt(samples[samples.length - 1] / 1000)}`,
);
console.log(
  `throughput ${Math.round(ORDERS / (wallMs / 1000)).toLocaleString('en-US')} checks/s (including timing overhead)`,
);
console.log(
  `passed ${passed}, denied ${ORDERS - passed}: ${[...denials].map(([k, v]) => `${k} ${v}`).join(', ')}`,
);
console.log(`target p99 < 1 ms: ${q(0.99) < 1000 ? 'met' : 'MISSED'}`);
report('risk', {
  figures: {
    orders: ORDERS,
    users: USERS,
    us: { p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999) },
    checksPerSecond: ORDERS / (wallMs / 1000),
  },
  checks: [check('risk check p99', q(0.99), '<=', 1000, 'µs')],
});
