import { DhanSimulator, type SimulatorLogger } from '@app/dhan-simulator';
import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config';
import { DHAN_DEFAULTS } from '../config/validate-config';
import { ReadinessRegistry } from '../health/readiness.registry';
import {
  DHAN_ENDPOINTS,
  dhanRuntimeConfig,
  EMBEDDED_SIMULATOR_SEED,
  type DhanEndpoints,
} from './dhan-endpoints';

function simulatorLogger(logger: Logger): SimulatorLogger {
  return {
    debug: () => undefined,
    info: (message, fields) => logger.debug({ msg: message, ...fields }),
    warn: (message, fields) => logger.warn({ msg: message, ...fields }),
  };
}

/**
 * The embedded default runs the DhanHQ simulator in-process on loopback (random ports, fixed
 * seed, system clock); with credentials the configured DhanHQ endpoints are used. In the
 * embedded default an endpoint variable set to something other than DhanHQ's public default
 * still wins, so parts can be pointed at an external simulator.
 */
export async function createDhanEndpoints(
  config: ResolvedAppConfig,
  readiness?: ReadinessRegistry,
  logger = new Logger('Dhan'),
): Promise<DhanEndpoints> {
  const dhan = dhanRuntimeConfig(config);
  if (dhan.live && dhan.clientId !== undefined && dhan.accessToken !== undefined) {
    const accessToken = dhan.accessToken;
    return {
      mode: 'live',
      feedUrl: dhan.feedUrl,
      apiUrl: dhan.apiUrl,
      orderUpdateUrl: dhan.orderUpdateUrl,
      instrumentsUrl: dhan.instrumentsUrl,
      clientId: dhan.clientId,
      accessToken: () => accessToken,
    };
  }
  const simulator = new DhanSimulator({
    seed: EMBEDDED_SIMULATOR_SEED,
    logger: simulatorLogger(logger),
    ...dhan.simulatorOptions,
    host: '127.0.0.1',
  });
  const urls = await simulator.start();
  const pick = (configured: string, byDefault: string, simulated: string) =>
    configured !== byDefault ? configured : simulated;
  const { clientId } = simulator.credentials;
  const endpoints: DhanEndpoints = {
    mode: 'simulator',
    feedUrl: pick(dhan.feedUrl, DHAN_DEFAULTS.feedUrl, urls.feedUrl),
    apiUrl: pick(dhan.apiUrl, DHAN_DEFAULTS.apiUrl, urls.apiUrl),
    orderUpdateUrl: pick(dhan.orderUpdateUrl, DHAN_DEFAULTS.orderUpdateUrl, urls.orderUpdateUrl),
    instrumentsUrl: pick(dhan.instrumentsUrl, DHAN_DEFAULTS.instrumentsUrl, urls.instrumentsUrl),
    clientId,
    // Renewed tokens (simulator.accounts.renewToken) are picked up on the next connect.
    accessToken: () =>
      simulator.accounts.get(clientId)?.accessToken ?? simulator.credentials.accessToken,
    simulator,
  };
  readiness?.register('dhan-simulator', async () => {
    const response = await fetch(urls.apiUrl, { method: 'HEAD' });
    await response.body?.cancel();
    return response.status < 500;
  });
  logger.log({ msg: 'DhanHQ simulator started in-process', apiUrl: urls.apiUrl });
  return endpoints;
}

/** DhanHQ connectivity: where the feed, REST, order-update and scrip-master endpoints are. */
@Global()
@Module({
  providers: [
    {
      provide: DHAN_ENDPOINTS,
      inject: [APP_CONFIG, ReadinessRegistry],
      useFactory: (config: ResolvedAppConfig, readiness: ReadinessRegistry) =>
        createDhanEndpoints(config, readiness),
    },
  ],
  exports: [DHAN_ENDPOINTS],
})
export class DhanModule implements OnApplicationShutdown {
  constructor(@Inject(DHAN_ENDPOINTS) private readonly endpoints: DhanEndpoints) {}

  /** Last phase of shutdown: consumers have closed their sockets in earlier phases. */
  async onApplicationShutdown(): Promise<void> {
    await this.endpoints.simulator?.stop();
  }
}
