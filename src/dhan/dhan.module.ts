import { DhanSimulator, type SimulatorLogger } from '@app/dhan-simulator';
import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type ResolvedAppConfig } from '../config/app-config';
import { DHAN_DEFAULTS } from '../config/validate-config';
import { ReadinessRegistry } from '../health/readiness.registry';
import { CalendarModule } from '../calendar/calendar.module';
import { MarketCalendar } from '../calendar/market-calendar';
import { Exchange } from '../calendar/market-calendar.types';
import { BrokerToken, type BrokerTokenSource } from './broker-token';
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

/** Listed holidays of this year and the next two, per exchange (the simulator's expiries). */
function holidayDates(calendar: MarketCalendar): Record<Exchange, string[]> {
  const year = Number(calendar.tradingDate().slice(0, 4));
  const out = { NSE: [], BSE: [], MCX: [] } as Record<Exchange, string[]>;
  for (const exchange of Object.values(Exchange)) {
    for (const y of [year, year + 1, year + 2]) {
      // MCX too: expiries are in the day session, closed on every listed holiday.
      for (const h of calendar.holidayYear(exchange, y)?.holidays ?? []) out[exchange].push(h.date);
    }
  }
  return out;
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
  calendar?: MarketCalendar,
): Promise<DhanEndpoints> {
  const dhan = dhanRuntimeConfig(config);
  const tokenLogger = new Logger('BrokerToken');
  const holder = (
    token: string,
    source: BrokerTokenSource,
    clientId: string,
    apiUrl: string,
    authUrl: string,
  ) => {
    const brokerToken = new BrokerToken({
      token,
      source,
      clientId,
      apiUrl,
      authUrl,
      ...(dhan.pin !== undefined && dhan.totpSecret !== undefined
        ? { pin: dhan.pin, totpSecret: dhan.totpSecret }
        : {}),
      renewBeforeMs: dhan.tokenRenewBeforeMs,
      retryMs: dhan.tokenRetryMs,
      logger: {
        log: (fields) => tokenLogger.log(fields),
        warn: (fields) => tokenLogger.warn(fields),
        error: (fields) => tokenLogger.error(fields),
      },
    });
    readiness?.register('broker-token', async () => {
      const s = brokerToken.status();
      return s.state === 'VALID'
        ? { up: true }
        : {
            up: false,
            reason: `DhanHQ refused the access token: ${s.refusedReason ?? 'unknown'}`,
            ...(s.refusedSince !== undefined ? { since: s.refusedSince } : {}),
          };
    });
    brokerToken.start();
    return brokerToken;
  };
  if (dhan.live && dhan.clientId !== undefined && dhan.accessToken !== undefined) {
    const token = holder(dhan.accessToken, 'environment', dhan.clientId, dhan.apiUrl, dhan.authUrl);
    return {
      mode: 'live',
      feedUrl: dhan.feedUrl,
      apiUrl: dhan.apiUrl,
      orderUpdateUrl: dhan.orderUpdateUrl,
      instrumentsUrl: dhan.instrumentsUrl,
      clientId: dhan.clientId,
      accessToken: () => token.current(),
      token,
      marketHours: 'calendar',
    };
  }
  const followCalendar = dhan.simulatorMarketHours === 'calendar' && calendar !== undefined;
  const simulator = new DhanSimulator({
    seed: EMBEDDED_SIMULATOR_SEED,
    logger: simulatorLogger(logger),
    ...dhan.simulatorOptions,
    // Expiries on exchange holidays move to the trading day before, as on the exchanges.
    ...(calendar
      ? {
          universe: {
            holidays: holidayDates(calendar),
            ...dhan.simulatorOptions?.universe,
          },
        }
      : {}),
    ...(followCalendar
      ? {
          feed: {
            marketHours: (segment, epochMs) => {
              const phase = calendar.phase(segment, new Date(epochMs));
              return phase === 'OPEN' || phase === 'PRE_OPEN' ? phase : 'CLOSED';
            },
            ...dhan.simulatorOptions?.feed,
          },
        }
      : {}),
    host: '127.0.0.1',
  });
  const urls = await simulator.start();
  const pick = (configured: string, byDefault: string, simulated: string) =>
    configured !== byDefault ? configured : simulated;
  const { clientId } = simulator.credentials;
  const apiUrl = pick(dhan.apiUrl, DHAN_DEFAULTS.apiUrl, urls.apiUrl);
  const token = holder(
    simulator.credentials.accessToken,
    'simulator',
    clientId,
    apiUrl,
    pick(dhan.authUrl, DHAN_DEFAULTS.authUrl, urls.apiUrl.replace(/\/v2$/, '')),
  );
  const endpoints: DhanEndpoints = {
    mode: 'simulator',
    feedUrl: pick(dhan.feedUrl, DHAN_DEFAULTS.feedUrl, urls.feedUrl),
    apiUrl,
    orderUpdateUrl: pick(dhan.orderUpdateUrl, DHAN_DEFAULTS.orderUpdateUrl, urls.orderUpdateUrl),
    instrumentsUrl: pick(dhan.instrumentsUrl, DHAN_DEFAULTS.instrumentsUrl, urls.instrumentsUrl),
    clientId,
    // The simulator's tokens expire like DhanHQ's: the holder renews them over RenewToken.
    accessToken: () => token.current(),
    token,
    marketHours: followCalendar ? 'calendar' : 'always',
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
  imports: [CalendarModule],
  providers: [
    {
      provide: DHAN_ENDPOINTS,
      inject: [APP_CONFIG, ReadinessRegistry, MarketCalendar],
      useFactory: (
        config: ResolvedAppConfig,
        readiness: ReadinessRegistry,
        calendar: MarketCalendar,
      ) => createDhanEndpoints(config, readiness, undefined, calendar),
    },
  ],
  exports: [DHAN_ENDPOINTS],
})
export class DhanModule implements OnApplicationShutdown {
  constructor(@Inject(DHAN_ENDPOINTS) private readonly endpoints: DhanEndpoints) {}

  /** Last phase of shutdown: consumers have closed their sockets in earlier phases. */
  async onApplicationShutdown(): Promise<void> {
    this.endpoints.token.stop();
    await this.endpoints.simulator?.stop();
  }
}
