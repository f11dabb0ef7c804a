/*
 * `--sim-process` of bench/orders.bench.js: the DhanHQ simulator of the build in a process of
 * its own (as the broker is elsewhere in production), so the app's process does only the app's
 * work. Its REST rate limits are off. Answers the bench over IPC: `delay` (the order
 * request's delay, ms), `prices` (LIMIT prices 5 % below the market, on the tick), `stop`.
 */
'use strict';

const { useBuild } = require('./harness');

const build = useBuild(undefined, process.argv[2]);
const { DhanSimulator } = build.load('libs/dhan-simulator/src/index.js');

async function main() {
  const sim = new DhanSimulator({ seed: 42, host: '127.0.0.1', rest: { rateLimits: false } });
  const urls = await sim.start();
  process.on('message', async (msg) => {
    if (msg.cmd === 'delay') {
      sim.rest.clearFaults();
      if (msg.ms > 0) sim.rest.delay({ pattern: /^POST \/v2\/orders$/, ms: msg.ms });
      process.send({ reply: msg.id });
    } else if (msg.cmd === 'prices') {
      const prices = msg.instruments.map((i) => {
        const tick = Math.round(i.tickSize * 10_000);
        const ltp = sim.market.mark(sim.universe.get(i.segment, i.securityId)).ltp;
        return (Math.round((ltp * 0.95 * 10_000) / tick) * tick) / 10_000;
      });
      process.send({ reply: msg.id, prices });
    } else if (msg.cmd === 'stop') {
      await sim.stop();
      process.send({ reply: msg.id });
      process.exit(0);
    }
  });
  process.send({ ready: true, urls, credentials: sim.credentials });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
