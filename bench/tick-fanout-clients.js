/*
 * Client fleet of bench/tick-fanout.bench.js, run as a worker thread (pinned with the simulator
 * to core 1, but on its own event loop, so the simulator's bursts do not delay client reads).
 * Raw `ws` graphql-transport-ws clients; a `next` frame is never JSON-parsed: one scan for
 * `securityId` finds each tick (its count is the update count) and the LTP right after it,
 * which is looked up in the shared side table for the latency sample. Counters are plain
 * numbers and latencies go to a preallocated Float64Array; nothing is allocated per tick.
 *
 * Optional background connections first (`background`: instrument lists, one `ticks`
 * subscription each selecting only securityId, `perSocket` per connection): they hold the rest
 * of the feed's instruments through the app's ordinary CLIENT references; their frames are
 * counted, not scanned.
 */
'use strict';

const { parentPort, workerData } = require('node:worker_threads');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const WebSocket = require('ws');
const { openTable, nowMs } = require('./tick-fanout-stamps');

const { url, token, watchlists, background, perSocket, fields, sampleEvery } = workerData;
const table = openTable(workerData.table);
const QUERY = `subscription T($instruments: [InstrumentInput!]!) { ticks(instruments: $instruments) { ${fields} } }`;
const BG_QUERY =
  'subscription B($instruments: [InstrumentInput!]!) { ticks(instruments: $instruments) { securityId } }';

// The tail of `"securityId":"`: capital I occurs nowhere else in a Tick, so the native search
// runs as a plain memchr with no per-call table set-up (5x faster than the whole key).
const KEY = Buffer.from('Id":"');
const KEY_LEN = KEY.length;
/**
 * No tick is shorter than this from its securityId key to the next tick's key (the all-null
 * Tick with every field is about 300 bytes from there), so the scan jumps over it: the search
 * was most of the fleet's CPU.
 */
const MIN_TICK_TAIL = 250;
const c = { messages: 0, updates: 0, bytes: 0, bgMessages: 0, bgBytes: 0, errors: 0 };
const LAT_CAP = 8_000_000;
const lat = new Float64Array(LAT_CAP);
let latN = 0;
let measuring = false;
let turn = 0;
const sockets = [];

function init(ws) {
  ws.send(
    JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }),
  );
}

/** Counts the ticks of one `next` frame and samples their latency; no parse, no allocation. */
function onTicks(data) {
  const now = nowMs();
  c.messages++;
  c.bytes += data.length;
  const sample = measuring && ++turn % sampleEvery === 0;
  let n = 0;
  for (let at = data.indexOf(KEY); at >= 0; at = data.indexOf(KEY, at + MIN_TICK_TAIL)) {
    n++;
    if (!sample) continue;
    let i = at + KEY_LEN;
    let id = 0;
    for (let b = data[i]; b >= 48 && b <= 57; b = data[++i]) id = id * 10 + (b - 48);
    // `","ltp":` follows the id
    i += 8;
    if (data[i - 3] !== 0x70 || data[i] === 0x6e) continue; // not ltp, or null
    let whole = 0;
    let b = data[i];
    for (; b >= 48 && b <= 57; b = data[++i]) whole = whole * 10 + (b - 48);
    let paise = whole * 100;
    if (b === 0x2e) {
      const d1 = data[i + 1];
      const d2 = data[i + 2];
      if (d1 >= 48 && d1 <= 57) paise += (d1 - 48) * 10;
      if (d2 >= 48 && d2 <= 57) paise += d2 - 48;
    }
    const sent = table.lookup(id, paise);
    if (sent >= 0 && latN < LAT_CAP) lat[latN++] = now - sent;
  }
  c.updates += n;
}

/** `{"id":"<id>","type":"next",…` without parsing (ids are short). */
function isNext(data) {
  if (data[2] !== 0x69 || data[6] !== 0x22) return false;
  let q = 7;
  while (q < 40 && data[q] !== 0x22) q++;
  return data[q + 10] === 0x6e;
}

function connect(onOpen, onNext, onControl) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'graphql-transport-ws', {
      perMessageDeflate: false,
      skipUTF8Validation: true,
    });
    sockets.push(ws);
    ws.on('open', () => init(ws));
    ws.on('error', (e) => {
      c.errors++;
      reject(e);
    });
    ws.on('message', (data) => {
      if (data.length > 200 && isNext(data)) return onNext(data);
      const msg = JSON.parse(data);
      if (msg.type === 'connection_ack') {
        onOpen(ws);
        resolve(ws);
      } else if (msg.type === 'ping') ws.send('{"type":"pong"}');
      else if (msg.type === 'next') onNext(data, msg);
      else if (msg.type === 'error') {
        c.errors++;
        if (c.errors <= 3) console.error(`subscription error: ${String(data).slice(0, 300)}`);
        reject(new Error(JSON.stringify(msg.payload)));
      } else onControl?.(msg);
    });
  });
}

async function openBackground() {
  if (!background || background.length === 0) return;
  const pending = new Set();
  let done;
  const allFirst = new Promise((r) => (done = r));
  const opened = [];
  for (let s = 0; s * perSocket < background.length; s++) {
    const lists = background.slice(s * perSocket, (s + 1) * perSocket);
    opened.push(
      connect(
        (ws) =>
          lists.forEach((instruments, k) => {
            const id = `bg${s}-${k}`;
            pending.add(id);
            ws.send(
              JSON.stringify({
                id,
                type: 'subscribe',
                payload: { query: BG_QUERY, variables: { instruments } },
              }),
            );
          }),
        (data, msg) => {
          c.bgMessages++;
          c.bgBytes += data.length;
          if (pending.size === 0) return;
          const id = (msg ?? JSON.parse(data)).id;
          if (pending.delete(id) && pending.size === 0) done();
        },
      ),
    );
  }
  await Promise.all(opened);
  await allFirst;
}

async function openFleet() {
  // Every client connects and is acknowledged first; then all subscribe at once, so a server
  // that falls behind on events cannot starve the handshakes of the clients still connecting.
  const subscribe = [];
  await Promise.all(
    watchlists.map((instruments, i) =>
      connect(
        (ws) =>
          subscribe.push(() =>
            ws.send(
              JSON.stringify({
                id: String(i),
                type: 'subscribe',
                payload: { query: QUERY, variables: { instruments } },
              }),
            ),
          ),
        onTicks,
      ),
    ),
  );
  for (const fn of subscribe) fn();
}

const loop = monitorEventLoopDelay({ resolution: 10 });
let mark = null;
/** The window's figures, taken at `stop`, replied to `report`. */
let stopped = null;

parentPort.on('message', async (msg) => {
  try {
    if (msg.cmd === 'background') {
      await openBackground();
      parentPort.postMessage({ reply: msg.id, ...c });
    } else if (msg.cmd === 'fleet') {
      await openFleet();
      parentPort.postMessage({ reply: msg.id, open: sockets.length });
    } else if (msg.cmd === 'mark') {
      mark = { ...c, t: nowMs() };
      latN = 0;
      turn = 0;
      measuring = true;
      loop.reset();
      loop.enable();
      parentPort.postMessage({ reply: msg.id });
    } else if (msg.cmd === 'report') {
      parentPort.postMessage({ ...stopped, reply: msg.id });
    } else if (msg.cmd === 'stop') {
      measuring = false;
      loop.disable();
      const dt = (nowMs() - mark.t) / 1000;
      const sorted = lat.subarray(0, latN).sort();
      const pct = (p) =>
        latN === 0 ? NaN : sorted[Math.min(latN - 1, Math.floor((p / 100) * latN))];
      const delta = {};
      for (const k of Object.keys(c)) delta[k] = c[k] - mark[k];
      stopped = {
        dt,
        ...delta,
        samples: latN,
        p50: pct(50),
        p95: pct(95),
        p99: pct(99),
        p999: pct(99.9),
        max: latN ? sorted[latN - 1] : NaN,
        loopP99Ms: loop.percentile(99) / 1e6,
        loopMaxMs: loop.max / 1e6,
        open: sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length,
      };
      parentPort.postMessage({ reply: msg.id });
      for (const ws of sockets) ws.terminate();
    } else if (msg.cmd.startsWith('fresh')) {
      // Freshness needs the clients' last values after the feed stopped: the C fleet's.
      parentPort.postMessage({ reply: msg.id, unsupported: true });
    } else if (msg.cmd === 'exit') {
      parentPort.postMessage({ reply: msg.id });
    }
  } catch (e) {
    parentPort.postMessage({ reply: msg.id, error: String(e && e.message ? e.message : e) });
  }
});
parentPort.postMessage({ ready: true });
