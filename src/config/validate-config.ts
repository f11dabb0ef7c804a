import * as path from 'node:path';
import type {
  AppConfig,
  DatabaseConfig,
  ExecutionMode,
  LogLevel,
  NodeEnv,
  OrderGovernorConfig,
  ServerConfig,
} from './app-config';

export type Env = Record<string, string | undefined>;

/** Thrown for the first invalid variable; `message` is the single line printed at boot. */
export class ConfigValidationError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
    got?: string,
  ) {
    super(
      `Invalid configuration: ${variable} ${problem}` +
        (got === undefined ? '' : ` (got ${JSON.stringify(got)})`),
    );
    this.name = 'ConfigValidationError';
  }
}

export const DEFAULT_DATABASE_URL = 'sqlite:data/terminal.sqlite';
export const DHAN_DEFAULTS = {
  apiUrl: 'https://api.dhan.co/v2',
  feedUrl: 'wss://api-feed.dhan.co',
  orderUpdateUrl: 'wss://api-order-update.dhan.co',
  instrumentsUrl: 'https://images.dhan.co/api-data/api-scrip-master-detailed.csv',
  authUrl: 'https://auth.dhan.co',
} as const;

/** A tenth of DhanHQ's 25,000 feed instruments: room for a dozen heavy users at once. */
export const DEFAULT_MAX_TICK_INSTRUMENTS_PER_USER = 2_000;
/** 20 lists x 200 items with option chains could otherwise fill the feed alone. */
export const DEFAULT_MAX_WATCHLIST_INSTRUMENTS_PER_USER = 2_000;

const NODE_ENVS: readonly NodeEnv[] = ['development', 'production', 'test'];
const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];
const EXECUTION_MODES: readonly ExecutionMode[] = ['paper', 'live'];
const MIN_JWT_SECRET_LENGTH = 32;
const MIN_ADMIN_PASSWORD_LENGTH = 12;
const USERNAME_PATTERN = /^[A-Za-z0-9._-]{3,64}$/;

function read(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigValidationError(name, `must be one of ${allowed.join(', ')}`, value);
  }
  return value as T;
}

function integer(env: Env, name: string, min: number, max: number, fallback: number): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigValidationError(name, `must be an integer from ${min} to ${max}`, value);
  }
  return parsed;
}

/** A decimal number (e.g. a percentage) within [min, max]. */
function decimal(env: Env, name: string, min: number, max: number, fallback: number): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  const parsed = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
    throw new ConfigValidationError(name, `must be a number from ${min} to ${max}`, value);
  }
  return parsed;
}

/** DHAN_ALGO_ID: the exchange's algo id for API orders; 1-32 letters, digits, _ or -. */
function algoId(env: Env): string | undefined {
  const value = read(env, 'DHAN_ALGO_ID');
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(value)) {
    throw new ConfigValidationError(
      'DHAN_ALGO_ID',
      'must be 1-32 characters from letters, digits, _ and -',
      value,
    );
  }
  return value;
}

/** DHAN_ORDER_LIMITS: the account's order limits per second/minute/hour/day, e.g. `10/250/1000/7000`. */
function dhanOrderLimits(env: Env): OrderGovernorConfig['account'] {
  const name = 'DHAN_ORDER_LIMITS';
  const value = read(env, name) ?? '10/250/1000/7000';
  const parts = value.split('/');
  const numbers = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN));
  if (
    numbers.length !== 4 ||
    numbers.some((n) => !Number.isSafeInteger(n) || n < 1 || n > 10_000_000) ||
    numbers[1] < numbers[0] ||
    numbers[2] < numbers[1] ||
    numbers[3] < numbers[2]
  ) {
    throw new ConfigValidationError(
      name,
      'must be four positive integers per second/minute/hour/day, each at least the one before (e.g. 10/250/1000/7000)',
      value,
    );
  }
  const [perSecond, perMinute, perHour, perDay] = numbers;
  return { perSecond, perMinute, perHour, perDay };
}

/** Hides credentials in a URL before it is echoed in an error message. */
function redactUrl(value: string): string {
  return value.replace(/\/\/[^@/]*@/, '//***@');
}

function url(env: Env, name: string, protocols: readonly string[], fallback?: string) {
  const value = read(env, name);
  if (value === undefined) return fallback;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigValidationError(name, 'must be an absolute URL', redactUrl(value));
  }
  if (!protocols.includes(parsed.protocol) || parsed.hostname === '') {
    throw new ConfigValidationError(
      name,
      `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL with a host`,
      redactUrl(value),
    );
  }
  return value;
}

function parseTrustProxy(env: Env): boolean | number | string[] {
  const value = read(env, 'TRUST_PROXY');
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.every((entry) => /^[0-9A-Fa-f.:]+(\/\d{1,3})?$/.test(entry))) return entries;
  throw new ConfigValidationError(
    'TRUST_PROXY',
    'must be true, false, a hop count, or a comma-separated list of proxy addresses/CIDRs',
    value,
  );
}

function parseServer(env: Env): ServerConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', NODE_ENVS, 'development');
  const host = read(env, 'HOST') ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(host)) {
    throw new ConfigValidationError('HOST', 'must be a host name or an IP address', host);
  }
  const allowedOrigins = (read(env, 'ALLOWED_ORIGINS') ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of allowedOrigins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin) {
      throw new ConfigValidationError(
        'ALLOWED_ORIGINS',
        'must be a comma-separated list of origins like https://terminal.example.com',
        origin,
      );
    }
  }
  return {
    nodeEnv,
    production: nodeEnv === 'production',
    host,
    port: integer(env, 'PORT', 0, 65535, 3000),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    allowedOrigins,
    trustProxy: parseTrustProxy(env),
  };
}

export function validateDatabaseConfig(env: Env, cwd: string = process.cwd()): DatabaseConfig {
  const value = read(env, 'DATABASE_URL') ?? DEFAULT_DATABASE_URL;
  if (value.startsWith('sqlite:')) {
    const file = value.slice('sqlite:'.length);
    if (file === '' || file.startsWith('//')) {
      throw new ConfigValidationError(
        'DATABASE_URL',
        'must be sqlite:PATH with a file path',
        value,
      );
    }
    return { engine: 'sqlite', url: value, sqlitePath: path.resolve(cwd, file) };
  }
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigValidationError('DATABASE_URL', 'is not a valid URL', redactUrl(value));
    }
    if (parsed.hostname === '' || parsed.pathname.length <= 1) {
      throw new ConfigValidationError(
        'DATABASE_URL',
        'must name a host and a database (postgres://USER:PASSWORD@HOST:PORT/DATABASE)',
        redactUrl(value),
      );
    }
    const schema = parsed.searchParams.get('schema') ?? undefined;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new ConfigValidationError(
        'DATABASE_URL',
        'schema parameter must be a lower-case SQL identifier',
        schema,
      );
    }
    return { engine: 'postgres', url: value, schema };
  }
  throw new ConfigValidationError(
    'DATABASE_URL',
    'must be postgres://USER:PASSWORD@HOST:PORT/DATABASE or sqlite:PATH',
    redactUrl(value),
  );
}

/**
 * Parses and checks every environment variable the server reads. Pure: touches no file; the
 * generated JWT secret of the embedded default is resolved later (resolveSecrets).
 */
export function validateConfig(env: Env, cwd: string = process.cwd()): AppConfig {
  const server = parseServer(env);
  const database = validateDatabaseConfig(env, cwd);
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);
  if (redisUrl === undefined && read(env, 'LEADER_LOCK_TTL_MS') !== undefined) {
    throw new ConfigValidationError(
      'LEADER_LOCK_TTL_MS',
      'needs REDIS_URL (leadership is elected through Redis)',
    );
  }
  const leaderLockTtlMs = integer(env, 'LEADER_LOCK_TTL_MS', 1_000, 60_000, 5_000);

  const clientId = read(env, 'DHAN_CLIENT_ID');
  const accessToken = read(env, 'DHAN_ACCESS_TOKEN');
  if (clientId !== undefined && accessToken === undefined) {
    throw new ConfigValidationError('DHAN_ACCESS_TOKEN', 'must be set when DHAN_CLIENT_ID is set');
  }
  if (accessToken !== undefined && clientId === undefined) {
    throw new ConfigValidationError('DHAN_CLIENT_ID', 'must be set when DHAN_ACCESS_TOKEN is set');
  }
  if (clientId !== undefined && !/^\d{1,20}$/.test(clientId)) {
    throw new ConfigValidationError(
      'DHAN_CLIENT_ID',
      'must be the numeric Dhan client id',
      clientId,
    );
  }
  const live = clientId !== undefined && accessToken !== undefined;
  const pin = read(env, 'DHAN_PIN');
  const totpSecret = read(env, 'DHAN_TOTP_SECRET');
  if ((pin === undefined) !== (totpSecret === undefined)) {
    throw new ConfigValidationError(
      pin === undefined ? 'DHAN_PIN' : 'DHAN_TOTP_SECRET',
      'DHAN_PIN and DHAN_TOTP_SECRET go together',
    );
  }
  if (pin !== undefined && !/^\d{4,8}$/.test(pin)) {
    throw new ConfigValidationError('DHAN_PIN', 'must be the numeric Dhan PIN');
  }
  if (totpSecret !== undefined && !/^[A-Za-z2-7\s=]{16,}$/.test(totpSecret)) {
    throw new ConfigValidationError(
      'DHAN_TOTP_SECRET',
      'must be the base32 TOTP secret (16 or more characters A-Z, 2-7)',
    );
  }
  const dhan = {
    clientId,
    accessToken,
    apiUrl: url(env, 'DHAN_API_URL', ['http:', 'https:'], DHAN_DEFAULTS.apiUrl) as string,
    feedUrl: url(env, 'DHAN_FEED_URL', ['ws:', 'wss:'], DHAN_DEFAULTS.feedUrl) as string,
    orderUpdateUrl: url(
      env,
      'DHAN_ORDER_UPDATE_URL',
      ['ws:', 'wss:'],
      DHAN_DEFAULTS.orderUpdateUrl,
    ) as string,
    instrumentsUrl: url(
      env,
      'DHAN_INSTRUMENTS_URL',
      ['http:', 'https:'],
      DHAN_DEFAULTS.instrumentsUrl,
    ) as string,
    authUrl: url(env, 'DHAN_AUTH_URL', ['http:', 'https:'], DHAN_DEFAULTS.authUrl) as string,
    ...(pin !== undefined && totpSecret !== undefined ? { pin, totpSecret } : {}),
    tokenRenewBeforeMs: integer(env, 'DHAN_TOKEN_RENEW_BEFORE_SECONDS', 60, 43_200, 3_600) * 1000,
    tokenRetryMs: integer(env, 'DHAN_TOKEN_RETRY_SECONDS', 5, 3_600, 60) * 1000,
    simulatorMarketHours: oneOf(env, 'SIMULATOR_MARKET_HOURS', ['always', 'calendar'], 'always'),
    live,
  };

  const mode = oneOf(env, 'EXECUTION_MODE', EXECUTION_MODES, 'paper');
  if (mode === 'live' && !live) {
    throw new ConfigValidationError(
      'EXECUTION_MODE',
      'live requires DHAN_CLIENT_ID and DHAN_ACCESS_TOKEN',
      mode,
    );
  }

  const embedded = !live && database.engine === 'sqlite' && redisUrl === undefined;

  const jwtSecret = read(env, 'JWT_SECRET');
  if (jwtSecret === undefined && !embedded) {
    throw new ConfigValidationError(
      'JWT_SECRET',
      'is required unless running the embedded default (SQLite, no DHAN credentials, no REDIS_URL)',
    );
  }
  if (jwtSecret !== undefined && jwtSecret.length < MIN_JWT_SECRET_LENGTH) {
    throw new ConfigValidationError(
      'JWT_SECRET',
      `must be at least ${MIN_JWT_SECRET_LENGTH} characters (got ${jwtSecret.length})`,
    );
  }

  const adminUsername = read(env, 'ADMIN_USERNAME');
  const adminPassword = env.ADMIN_PASSWORD === '' ? undefined : env.ADMIN_PASSWORD;
  if (adminUsername !== undefined && adminPassword === undefined) {
    throw new ConfigValidationError('ADMIN_PASSWORD', 'must be set when ADMIN_USERNAME is set');
  }
  if (adminPassword !== undefined && adminUsername === undefined) {
    throw new ConfigValidationError('ADMIN_USERNAME', 'must be set when ADMIN_PASSWORD is set');
  }
  if (adminUsername !== undefined && !USERNAME_PATTERN.test(adminUsername)) {
    throw new ConfigValidationError(
      'ADMIN_USERNAME',
      'must be 3 to 64 characters of letters, digits, dot, underscore or hyphen',
      adminUsername,
    );
  }
  if (adminPassword !== undefined && adminPassword.length < MIN_ADMIN_PASSWORD_LENGTH) {
    throw new ConfigValidationError(
      'ADMIN_PASSWORD',
      `must be at least ${MIN_ADMIN_PASSWORD_LENGTH} characters (got ${adminPassword.length})`,
    );
  }

  const refreshTokenTtlSeconds = integer(env, 'REFRESH_TOKEN_TTL', 60, 90 * 86_400, 7 * 86_400);
  const sessionMaxLifetimeSeconds = integer(
    env,
    'SESSION_MAX_LIFETIME',
    60,
    365 * 86_400,
    Math.max(30 * 86_400, refreshTokenTtlSeconds),
  );
  if (sessionMaxLifetimeSeconds < refreshTokenTtlSeconds) {
    throw new ConfigValidationError(
      'SESSION_MAX_LIFETIME',
      `must be at least REFRESH_TOKEN_TTL (${refreshTokenTtlSeconds} seconds)`,
      String(sessionMaxLifetimeSeconds),
    );
  }

  const dataDir =
    database.engine === 'sqlite' && database.sqlitePath
      ? path.dirname(database.sqlitePath)
      : path.resolve(cwd, 'data');

  return {
    server,
    requestLimits: {
      rateLimit: integer(env, 'GRAPHQL_RATE_LIMIT', 1, 1_000_000, 300),
      rateWindowSeconds: integer(env, 'GRAPHQL_RATE_WINDOW', 1, 3_600, 10),
      maxInFlight: integer(env, 'GRAPHQL_MAX_IN_FLIGHT', 1, 10_000, 16),
      executionBudgetMs: integer(env, 'GRAPHQL_EXECUTION_BUDGET_MS', 1, 600_000, 10_000),
    },
    database,
    redis: { url: redisUrl, leaderLockTtlMs },
    dhan,
    execution: {
      mode,
      charges: oneOf(env, 'FUNDS_CHARGES', ['on', 'off'] as const, 'off') === 'on',
      squareOffMinutesBeforeClose: integer(env, 'INTRADAY_SQUARE_OFF_MINUTES', 1, 120, 15),
      governor: {
        perSegmentPerSecond: integer(env, 'ORDER_RATE_PER_SECOND', 1, 1_000, 10),
        account: dhanOrderLimits(env),
        maxWaitMs: integer(env, 'ORDER_QUEUE_MAX_WAIT_MS', 50, 600_000, 10_000),
      },
      marketProtectionPercent: decimal(env, 'MARKET_PROTECTION_PERCENT', 0.1, 20, 2),
      maxSlices: integer(env, 'ORDER_SLICE_MAX', 1, 40, 10),
      algoId: algoId(env),
    },
    auth: {
      jwtSecret,
      jwtIssuer: 'broking-terminal-server',
      jwtAudience: 'broking-terminal',
      accessTokenTtlSeconds: integer(env, 'ACCESS_TOKEN_TTL', 1, 86_400, 900),
      refreshTokenTtlSeconds,
      sessionMaxLifetimeSeconds,
      adminUsername,
      adminPassword,
    },
    feedQuotas: {
      maxTickInstrumentsPerUser: integer(
        env,
        'MAX_TICK_INSTRUMENTS_PER_USER',
        1,
        100_000,
        DEFAULT_MAX_TICK_INSTRUMENTS_PER_USER,
      ),
      maxWatchlistInstrumentsPerUser: integer(
        env,
        'MAX_WATCHLIST_INSTRUMENTS_PER_USER',
        1,
        100_000,
        DEFAULT_MAX_WATCHLIST_INSTRUMENTS_PER_USER,
      ),
    },
    optionAnalytics: {
      riskFreeRate: decimal(env, 'OPTION_RISK_FREE_RATE_PERCENT', 0, 30, 6.5) / 100,
      dividendYield: decimal(env, 'OPTION_DIVIDEND_YIELD_PERCENT', 0, 30, 0) / 100,
    },
    websocket: {
      pingIntervalMs: integer(env, 'WS_PING_INTERVAL_MS', 100, 600_000, 30_000),
      maxSubscriptionsPerSocket: integer(env, 'WS_SUBSCRIPTIONS_PER_SOCKET', 1, 100_000, 100),
      maxSubscriptionsPerSocketField: integer(
        env,
        'WS_SUBSCRIPTIONS_PER_SOCKET_FIELD',
        1,
        100_000,
        25,
      ),
      maxSubscriptionsPerUser: integer(env, 'WS_SUBSCRIPTIONS_PER_USER', 1, 1_000_000, 400),
      maxSubscriptionsPerUserField: integer(
        env,
        'WS_SUBSCRIPTIONS_PER_USER_FIELD',
        1,
        1_000_000,
        100,
      ),
    },
    embedded,
    dataDir,
  };
}
