import { AccountOptions, Accounts, SimulatorLogger, silentLogger } from './accounts';
import { istDate } from './calendar';
import { FeedServer, FeedServerOptions } from './feed-server';
import { Clock, Market, MarketOptions, systemClock } from './market';
import { OrderEngine, OrderEngineOptions } from './orders';
import { OrderUpdateServer, OrderUpdateServerOptions } from './order-update-server';
import { hashString } from './prng';
import { RestServer, RestServerOptions, SCRIP_MASTER_PATH } from './rest-server';
import { Universe, UniverseOptions } from './universe';

export interface DhanSimulatorOptions {
  /** Everything random derives from it. Default 42. */
  seed?: number | string;
  clock?: Clock;
  /** IST date the instrument universe is built for. Default: the clock's IST date. */
  today?: string;
  host?: string;
  /** 0 (default) = a random free port for each server. */
  ports?: { feed?: number; api?: number; orderUpdate?: number };
  /**
   * Primary credentials. Defaults: client `1000000001` and a token issued at start (a JWT
   * that expires after `tokenTtlMs`, like DhanHQ's); a given `accessToken` is accepted as is.
   */
  clientId?: string;
  accessToken?: string;
  /** Lifetime of issued tokens (start, RenewToken, generateAccessToken), ms. Default 24 h. */
  tokenTtlMs?: number;
  /** PIN and base32 TOTP secret of the primary client for `generateAccessToken`. */
  pin?: string;
  totpSecret?: string;
  /** Further accounts the simulator accepts. */
  accounts?: AccountOptions[];
  /** Shorthands for the feed's tick timer and LTT offset. */
  tickIntervalMs?: number;
  lttOffsetSeconds?: number;
  feed?: Omit<FeedServerOptions, 'host' | 'port' | 'logger'>;
  universe?: Omit<UniverseOptions, 'seed' | 'today'>;
  market?: Omit<MarketOptions, 'seed' | 'clock'>;
  orders?: OrderEngineOptions;
  rest?: Omit<RestServerOptions, 'host' | 'port' | 'logger'>;
  orderUpdates?: Omit<OrderUpdateServerOptions, 'host' | 'port' | 'logger'>;
  logger?: SimulatorLogger;
}

export interface SimulatorUrls {
  /** Connect with `?version=2&token=..&clientId=..&authType=2`. */
  feedUrl: string;
  /** REST base, like `https://api.dhan.co/v2`. */
  apiUrl: string;
  orderUpdateUrl: string;
  instrumentsUrl: string;
}

const universes = new Map<string, Universe>();

/** Universes are immutable once built, so simulators of the same seed and day share one. */
function cachedUniverse(options: UniverseOptions): Universe {
  const key = JSON.stringify(options);
  let universe = universes.get(key);
  if (!universe) {
    universe = new Universe(options);
    if (universes.size >= 4) universes.clear();
    universes.set(key, universe);
  }
  return universe;
}

/** A DhanHQ v2 stand-in on loopback: feed, REST, order updates and the scrip master. */
export class DhanSimulator {
  readonly clock: Clock;
  readonly universe: Universe;
  readonly market: Market;
  readonly accounts: Accounts;
  readonly orders: OrderEngine;
  readonly feed: FeedServer;
  readonly rest: RestServer;
  readonly orderUpdates: OrderUpdateServer;
  readonly credentials: { clientId: string; accessToken: string };
  private readonly ports: { feed: number; api: number; orderUpdate: number };
  private urls: SimulatorUrls | undefined;

  constructor(options: DhanSimulatorOptions = {}) {
    const seed = options.seed ?? 42;
    const host = options.host ?? '127.0.0.1';
    const logger = options.logger ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.ports = {
      feed: options.ports?.feed ?? 0,
      api: options.ports?.api ?? 0,
      orderUpdate: options.ports?.orderUpdate ?? 0,
    };
    const clientId = options.clientId ?? '1000000001';
    this.accounts = new Accounts(
      [
        {
          clientId,
          ...(options.accessToken !== undefined ? { accessToken: options.accessToken } : {}),
          pin: options.pin,
          totpSecret: options.totpSecret,
        },
        ...(options.accounts ?? []),
      ],
      {
        now: () => this.clock.now(),
        secret: `sim-${hashString(`token:${String(seed)}`).toString(16)}`,
        ...(options.tokenTtlMs !== undefined ? { ttlMs: options.tokenTtlMs } : {}),
      },
    );
    this.credentials = { clientId, accessToken: this.accounts.get(clientId)!.accessToken };
    this.universe = cachedUniverse({
      ...options.universe,
      seed,
      today: options.today ?? istDate(this.clock.now()),
    });
    this.market = new Market(this.universe, { ...options.market, seed, clock: this.clock });
    this.orders = new OrderEngine(this.universe, this.market, this.clock, seed, options.orders);
    this.feed = new FeedServer(this.universe, this.market, this.accounts, this.clock, {
      tickIntervalMs: options.tickIntervalMs,
      lttOffsetSeconds: options.lttOffsetSeconds,
      ...options.feed,
      host,
      port: this.ports.feed,
      logger,
    });
    this.rest = new RestServer(this.universe, this.market, this.orders, this.accounts, this.clock, {
      seed,
      ...options.rest,
      host,
      port: this.ports.api,
      logger,
    });
    this.orderUpdates = new OrderUpdateServer(this.orders, this.accounts, {
      ...options.orderUpdates,
      host,
      port: this.ports.orderUpdate,
      logger,
    });
  }

  async start(): Promise<SimulatorUrls> {
    if (this.urls) return this.urls;
    const [feedUrl, apiBase, orderUpdateUrl] = await Promise.all([
      this.feed.start(),
      this.rest.start(),
      this.orderUpdates.start(),
    ]);
    this.orders.start();
    this.urls = {
      feedUrl,
      apiUrl: `${apiBase}/v2`,
      orderUpdateUrl,
      instrumentsUrl: `${apiBase}${SCRIP_MASTER_PATH}`,
    };
    return this.urls;
  }

  async stop(): Promise<void> {
    this.orders.stop();
    this.accounts.stop();
    await Promise.all([this.feed.stop(), this.rest.stop(), this.orderUpdates.stop()]);
    this.urls = undefined;
  }

  /** Expires the token: new feed connects get 807, live feed sockets a 807 packet, REST 401. */
  expireToken(clientId?: string): void {
    this.accounts.expireToken(clientId);
  }

  /**
   * A new token for a client, as a login on Dhan Web makes one: the previous token is refused
   * from now on (809). The server is handed it through the admin `setBrokerToken`.
   */
  issueToken(clientId: string = this.credentials.clientId, ttlMs?: number): string {
    return this.accounts.issueToken(clientId, ttlMs);
  }

  /** Switches the data plan: feed 806 (live sockets too), data APIs refused. */
  setDataPlan(on: boolean, clientId: string = this.credentials.clientId): void {
    this.accounts.setDataPlan(clientId, on);
  }
}
