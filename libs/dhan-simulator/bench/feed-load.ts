/**
 * Feed load check: 5 connections x 5,000 instruments (the 25,000 limit) with every instrument
 * ticking `RATE` times a second; reports packets/s received and the simulator's CPU time.
 * Run: compile with tsc and `node feed-load.js [ratePerInstrument] [seconds] [mode]`.
 */
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { DhanSimulator } from '../src/simulator';

async function main(): Promise<void> {
  const rate = Number(process.argv[2] ?? 4);
  const seconds = Number(process.argv[3] ?? 10);
  const mode = Number(process.argv[4] ?? 15);
  const sim = new DhanSimulator({ tickIntervalMs: 100, market: { tickRate: () => rate } });
  const urls = await sim.start();
  const instruments = sim.universe.instruments.slice(0, 25_000);
  let packets = 0;
  let bytes = 0;
  const sockets: WebSocket[] = [];
  for (let c = 0; c < 5; c++) {
    const ws = new WebSocket(
      `${urls.feedUrl}/?version=2&token=${sim.credentials.accessToken}&clientId=${sim.credentials.clientId}&authType=2`,
    );
    await new Promise((resolve) => ws.once('open', resolve));
    ws.on('message', (data: Buffer) => {
      bytes += data.length;
      let offset = 0;
      while (offset + 8 <= data.length) {
        packets++;
        offset += data.readInt16LE(offset + 1);
      }
    });
    const mine = instruments.slice(c * 5000, (c + 1) * 5000);
    for (let i = 0; i < mine.length; i += 100) {
      const list = mine.slice(i, i + 100);
      ws.send(
        JSON.stringify({
          RequestCode: mode,
          InstrumentCount: list.length,
          InstrumentList: list.map((x) => ({
            ExchangeSegment: x.segment,
            SecurityId: x.securityId,
          })),
        }),
      );
    }
    sockets.push(ws);
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  packets = 0;
  bytes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${JSON.stringify({
      instruments: sockets.length * 5000,
      ratePerInstrument: rate,
      mode,
      packetsPerSecond: Math.round(packets / elapsed),
      megabytesPerSecond: Math.round((bytes / elapsed / 1e6) * 10) / 10,
      cpuPercentOfOneCore: Math.round(((cpu.user + cpu.system) / 1e6 / elapsed) * 100),
      sent: sim.feed.connectionInfo().reduce((n, c) => n + c.packetsSent, 0),
      note: 'simulator and clients share this one process',
    })}\n`,
  );
  for (const ws of sockets) ws.terminate();
  await sim.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
