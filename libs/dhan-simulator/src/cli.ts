import { DhanSimulator } from './simulator';

/** `npm run simulator`: the simulator on fixed or random ports, until Ctrl-C. */
function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`${name} must be a non-negative integer`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  const simulator = new DhanSimulator({
    seed: process.env.SIM_SEED ?? 42,
    host: process.env.SIM_HOST ?? '127.0.0.1',
    ports: {
      feed: intEnv('SIM_FEED_PORT', 0),
      api: intEnv('SIM_API_PORT', 0),
      orderUpdate: intEnv('SIM_ORDER_UPDATE_PORT', 0),
    },
    clientId: process.env.SIM_CLIENT_ID,
    accessToken: process.env.SIM_ACCESS_TOKEN,
    tickIntervalMs: intEnv('SIM_TICK_INTERVAL_MS', 100),
  });
  const urls = await simulator.start();
  console.log(`DhanHQ simulator: ${simulator.universe.size} instruments`);
  console.log(`DHAN_FEED_URL=${urls.feedUrl}`);
  console.log(`DHAN_API_URL=${urls.apiUrl}`);
  console.log(`DHAN_ORDER_UPDATE_URL=${urls.orderUpdateUrl}`);
  console.log(`DHAN_INSTRUMENTS_URL=${urls.instrumentsUrl}`);
  console.log(`DHAN_CLIENT_ID=${simulator.credentials.clientId}`);
  console.log(`DHAN_ACCESS_TOKEN=${simulator.credentials.accessToken}`);
  const shutdown = (): void => {
    simulator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
