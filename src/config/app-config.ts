export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type ExecutionMode = 'paper' | 'live';
export type DatabaseEngine = 'sqlite' | 'postgres';

export interface ServerConfig {
  nodeEnv: NodeEnv;
  production: boolean;
  host: string;
  port: number;
  logLevel: LogLevel;
  /** Browser origins allowed to open WebSockets; empty: no Origin check. */
  allowedOrigins: string[];
  /**
   * Fastify `trustProxy`: which proxies' X-Forwarded-For to believe for the client address
   * (login throttling, logs). false: none; a number: that many hops; a list: those addresses.
   */
  trustProxy: boolean | number | string[];
}

export interface DatabaseConfig {
  engine: DatabaseEngine;
  url: string;
  /** SQLite file path (engine sqlite only). */
  sqlitePath?: string;
  /** PostgreSQL schema (engine postgres only); unset: the server's default search path. */
  schema?: string;
}

export interface RedisConfig {
  url?: string;
  /** Time to live of the feed-leadership lock (LEADER_LOCK_TTL_MS); renewed every third of it. */
  leaderLockTtlMs: number;
}

export interface DhanConfig {
  clientId?: string;
  accessToken?: string;
  apiUrl: string;
  feedUrl: string;
  orderUpdateUrl: string;
  instrumentsUrl: string;
  /** DhanHQ's login host (generateAccessToken). */
  authUrl: string;
  /** With both, a fresh token through generateAccessToken (TOTP computed here). */
  pin?: string;
  totpSecret?: string;
  /** Renew the access token this long before its JWT `exp`. */
  tokenRenewBeforeMs: number;
  /** Wait between tries after a failed renewal or generation. */
  tokenRetryMs: number;
  /** The embedded simulator ticks around the clock (`always`) or by the market calendar. */
  simulatorMarketHours: 'always' | 'calendar';
  /** True when both credentials are set: live DhanHQ market data instead of the simulator. */
  live: boolean;
}

export interface ExecutionConfig {
  mode: ExecutionMode;
  /** Brokerage, STT, fees, GST and stamp duty deducted from the balance per trade (FUNDS_CHARGES). */
  charges: boolean;
  /** INTRADAY positions are squared off this many minutes before each exchange's close. */
  squareOffMinutesBeforeClose: number;
  governor: OrderGovernorConfig;
  /** MARKET and SL-M orders are sent as limits this far (percent) beyond the LTP or trigger. */
  marketProtectionPercent: number;
  /** ORDER_SLICE_MAX: an order above the freeze quantity goes as at most this many children. */
  maxSlices: number;
  /** The exchange-issued algo id every order sent to the broker carries (DHAN_ALGO_ID). */
  algoId?: string;
}

/** The firm's order budget (ORDER_RATE_PER_SECOND, DHAN_ORDER_LIMITS, ORDER_QUEUE_MAX_WAIT_MS). */
export interface OrderGovernorConfig {
  /** Orders (place, modify, cancel) per exchange segment in any second. */
  perSegmentPerSecond: number;
  /** The broker account's limits over all segments. */
  account: { perSecond: number; perMinute: number; perHour: number; perDay: number };
  /** Longest an order waits for the budget before it is refused. */
  maxWaitMs: number;
}

export interface AuthConfig {
  /** Unset only in the embedded default until the data-folder secret is resolved at boot. */
  jwtSecret?: string;
  jwtIssuer: string;
  jwtAudience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Absolute lifetime of a login, fixed at login; refresh never extends it. */
  sessionMaxLifetimeSeconds: number;
  adminUsername?: string;
  adminPassword?: string;
}

/** Per-user shares of the firm's market-data feed (its 25,000 instruments are shared by all). */
/** Assumptions of the option analytics (implied volatility and greeks). */
export interface OptionAnalyticsConfig {
  /** Continuously compounded risk-free rate, a fraction (OPTION_RISK_FREE_RATE_PERCENT / 100). */
  riskFreeRate: number;
  /**
   * Dividend yield of a spot underlying, a fraction; used only when a chain has no put-call
   * parity forward (OPTION_DIVIDEND_YIELD_PERCENT / 100).
   */
  dividendYield: number;
}

export interface FeedQuotaConfig {
  /** Distinct instruments one user may stream through `ticks`, across all their sockets. */
  maxTickInstrumentsPerUser: number;
  /** Distinct instruments one user's watchlists may put on the feed (items and option chains). */
  maxWatchlistInstrumentsPerUser: number;
}

/** Per-caller limits of GraphQL over HTTP (a caller: a user, or an address when anonymous). */
export interface RequestLimitsConfig {
  /** Operations a caller may send per window; more are refused with RATE_LIMITED. */
  rateLimit: number;
  rateWindowSeconds: number;
  /** Operations of one caller being served at once; more are refused with RATE_LIMITED. */
  maxInFlight: number;
  /** Time an operation may take; fields not started by then are not resolved (CAPACITY_EXCEEDED). */
  executionBudgetMs: number;
}

/** GraphQL WebSockets (both endpoints): keep-alive and subscription caps. */
export interface WebSocketConfig {
  /** WebSocket-level ping interval; a peer that did not answer the previous ping is dropped. */
  pingIntervalMs: number;
  /** Active subscriptions on one socket, all fields together. */
  maxSubscriptionsPerSocket: number;
  /** Active subscriptions of one field on one socket. */
  maxSubscriptionsPerSocketField: number;
  /** Active subscriptions of one user across all their sockets, all fields together. */
  maxSubscriptionsPerUser: number;
  /** Active subscriptions of one field of one user across all their sockets. */
  maxSubscriptionsPerUserField: number;
}

export interface AppConfig {
  server: ServerConfig;
  requestLimits: RequestLimitsConfig;
  database: DatabaseConfig;
  redis: RedisConfig;
  dhan: DhanConfig;
  execution: ExecutionConfig;
  auth: AuthConfig;
  feedQuotas: FeedQuotaConfig;
  optionAnalytics: OptionAnalyticsConfig;
  websocket: WebSocketConfig;
  /**
   * Embedded default: no DhanHQ credentials, SQLite, no Redis. The server then runs
   * self-contained: built-in simulator, generated JWT secret, generated first admin.
   */
  embedded: boolean;
  /** Folder for local state (SQLite file, generated secret). */
  dataDir: string;
}

/** Configuration with every secret resolved: what the application modules receive. */
export interface ResolvedAppConfig extends AppConfig {
  auth: AuthConfig & { jwtSecret: string };
}

/** DI token for the resolved configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
