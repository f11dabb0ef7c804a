import * as path from 'node:path';
import { ConfigValidationError, DHAN_DEFAULTS, validateConfig, type Env } from './validate-config';

const cwd = '/srv/terminal';
const SECRET = 's'.repeat(32);

function messageOf(env: Env): string {
  try {
    validateConfig(env, cwd);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('validateConfig', () => {
  describe('the embedded default (no variables at all)', () => {
    const config = validateConfig({}, cwd);

    it('listens on 127.0.0.1:3000 in development at info level', () => {
      expect(config.server).toEqual({
        nodeEnv: 'development',
        production: false,
        host: '127.0.0.1',
        port: 3000,
        logLevel: 'info',
        allowedOrigins: [],
        trustProxy: false,
      });
    });

    it('uses SQLite under data/ and keeps local state there', () => {
      expect(config.database).toEqual({
        engine: 'sqlite',
        url: 'sqlite:data/terminal.sqlite',
        sqlitePath: path.join(cwd, 'data/terminal.sqlite'),
      });
      expect(config.dataDir).toBe(path.join(cwd, 'data'));
    });

    it('is embedded: simulator, paper execution, no Redis, no JWT secret yet', () => {
      expect(config.embedded).toBe(true);
      expect(config.dhan).toEqual({
        ...DHAN_DEFAULTS,
        clientId: undefined,
        accessToken: undefined,
        tokenRenewBeforeMs: 3_600_000,
        tokenRetryMs: 60_000,
        simulatorMarketHours: 'always',
        live: false,
      });
      expect(config.execution.mode).toBe('paper');
      expect(config.redis.url).toBeUndefined();
      expect(config.auth.jwtSecret).toBeUndefined();
      expect(config.auth.accessTokenTtlSeconds).toBe(900);
    });
  });

  it('treats empty and blank values as unset', () => {
    expect(validateConfig({ PORT: '', HOST: '  ', DATABASE_URL: '' }, cwd).server.port).toBe(3000);
  });

  describe('PORT', () => {
    it.each(['0', '8080', '65535'])('accepts %s', (port) => {
      expect(validateConfig({ PORT: port }, cwd).server.port).toBe(Number(port));
    });
    it.each(['abc', '-1', '65536', '80.5', '1e3', '0x50'])('refuses %s', (port) => {
      expect(messageOf({ PORT: port })).toBe(
        `Invalid configuration: PORT must be an integer from 0 to 65535 (got "${port}")`,
      );
    });
  });

  describe('GraphQL request limits', () => {
    it('has defaults', () => {
      expect(validateConfig({}, cwd).requestLimits).toEqual({
        rateLimit: 300,
        rateWindowSeconds: 10,
        maxInFlight: 16,
        executionBudgetMs: 10_000,
      });
    });
    it('reads each variable', () => {
      const limits = validateConfig(
        {
          GRAPHQL_RATE_LIMIT: '50',
          GRAPHQL_RATE_WINDOW: '60',
          GRAPHQL_MAX_IN_FLIGHT: '4',
          GRAPHQL_EXECUTION_BUDGET_MS: '2500',
        },
        cwd,
      ).requestLimits;
      expect(limits).toEqual({
        rateLimit: 50,
        rateWindowSeconds: 60,
        maxInFlight: 4,
        executionBudgetMs: 2500,
      });
    });
    it.each([
      ['GRAPHQL_RATE_LIMIT', '0', 'an integer from 1 to 1000000'],
      ['GRAPHQL_RATE_WINDOW', '3601', 'an integer from 1 to 3600'],
      ['GRAPHQL_MAX_IN_FLIGHT', 'many', 'an integer from 1 to 10000'],
      ['GRAPHQL_EXECUTION_BUDGET_MS', '-5', 'an integer from 1 to 600000'],
    ])('refuses %s=%s', (name, value, range) => {
      expect(messageOf({ [name]: value })).toBe(
        `Invalid configuration: ${name} must be ${range} (got "${value}")`,
      );
    });
  });

  describe('HOST', () => {
    it.each(['0.0.0.0', '::', 'localhost', 'api.internal'])('accepts %s', (host) => {
      expect(validateConfig({ HOST: host }, cwd).server.host).toBe(host);
    });
    it('refuses a value with spaces or a scheme', () => {
      expect(messageOf({ HOST: 'http://x' })).toMatch(/^Invalid configuration: HOST must be/);
      expect(messageOf({ HOST: 'a b' })).toMatch(/^Invalid configuration: HOST /);
    });
  });

  describe('DATABASE_URL', () => {
    it('resolves a relative SQLite path against the working directory', () => {
      const config = validateConfig({ DATABASE_URL: 'sqlite:var/db.sqlite' }, cwd);
      expect(config.database.sqlitePath).toBe(path.join(cwd, 'var/db.sqlite'));
      expect(config.dataDir).toBe(path.join(cwd, 'var'));
    });

    it('accepts PostgreSQL (not embedded: JWT_SECRET then required)', () => {
      const config = validateConfig(
        { DATABASE_URL: 'postgres://u:p@db:5432/terminal?schema=tenant_a', JWT_SECRET: SECRET },
        cwd,
      );
      expect(config.database).toMatchObject({ engine: 'postgres', schema: 'tenant_a' });
      expect(config.embedded).toBe(false);
      expect(config.dataDir).toBe(path.join(cwd, 'data'));
    });

    it.each([
      ['mysql://u:secret@db/x', 'mysql://***@db/x'],
      ['terminal.sqlite', 'terminal.sqlite'],
    ])('refuses %s without echoing credentials', (url, shown) => {
      expect(messageOf({ DATABASE_URL: url })).toBe(
        `Invalid configuration: DATABASE_URL must be postgres://USER:PASSWORD@HOST:PORT/DATABASE or sqlite:PATH (got "${shown}")`,
      );
    });

    it('refuses an empty SQLite path, a PostgreSQL URL without database, a bad schema', () => {
      expect(messageOf({ DATABASE_URL: 'sqlite:' })).toMatch(/DATABASE_URL must be sqlite:PATH/);
      expect(messageOf({ DATABASE_URL: 'postgres://db:5432', JWT_SECRET: SECRET })).toMatch(
        /DATABASE_URL must name a host and a database/,
      );
      expect(
        messageOf({ DATABASE_URL: 'postgres://db/x?schema=Bad-Name', JWT_SECRET: SECRET }),
      ).toMatch(/DATABASE_URL schema parameter/);
    });
  });

  describe('REDIS_URL', () => {
    it('accepts redis:// and makes the configuration non-embedded', () => {
      const config = validateConfig(
        { REDIS_URL: 'redis://127.0.0.1:6379', JWT_SECRET: SECRET },
        cwd,
      );
      expect(config.redis.url).toBe('redis://127.0.0.1:6379');
      expect(config.embedded).toBe(false);
    });
    it('takes LEADER_LOCK_TTL_MS (default 5 s) with REDIS_URL and refuses it without', () => {
      const redis = { REDIS_URL: 'redis://127.0.0.1:6379', JWT_SECRET: SECRET };
      expect(validateConfig(redis, cwd).redis.leaderLockTtlMs).toBe(5_000);
      expect(
        validateConfig({ ...redis, LEADER_LOCK_TTL_MS: '3000' }, cwd).redis.leaderLockTtlMs,
      ).toBe(3_000);
      expect(messageOf({ ...redis, LEADER_LOCK_TTL_MS: '500' })).toMatch(
        /LEADER_LOCK_TTL_MS must be an integer from 1000 to 60000/,
      );
      expect(messageOf({ LEADER_LOCK_TTL_MS: '3000' })).toMatch(
        /LEADER_LOCK_TTL_MS needs REDIS_URL/,
      );
    });
    it('refuses another scheme', () => {
      expect(messageOf({ REDIS_URL: 'http://cache' })).toBe(
        'Invalid configuration: REDIS_URL must be a redis:// or rediss:// URL with a host (got "http://cache")',
      );
    });
  });

  describe('DHAN_CLIENT_ID and DHAN_ACCESS_TOKEN', () => {
    it('switch to live market data only when both are set', () => {
      const config = validateConfig(
        { DHAN_CLIENT_ID: '1100001234', DHAN_ACCESS_TOKEN: 'eyJ.token', JWT_SECRET: SECRET },
        cwd,
      );
      expect(config.dhan.live).toBe(true);
      expect(config.embedded).toBe(false);
    });
    it('refuses one without the other', () => {
      expect(messageOf({ DHAN_CLIENT_ID: '1100001234' })).toBe(
        'Invalid configuration: DHAN_ACCESS_TOKEN must be set when DHAN_CLIENT_ID is set',
      );
      expect(messageOf({ DHAN_ACCESS_TOKEN: 'x' })).toBe(
        'Invalid configuration: DHAN_CLIENT_ID must be set when DHAN_ACCESS_TOKEN is set',
      );
    });
    it('refuses a non-numeric client id', () => {
      expect(
        messageOf({ DHAN_CLIENT_ID: 'abc', DHAN_ACCESS_TOKEN: 'x', JWT_SECRET: SECRET }),
      ).toMatch(/^Invalid configuration: DHAN_CLIENT_ID must be the numeric Dhan client id/);
    });
  });

  describe.each([
    ['DHAN_API_URL', 'http://127.0.0.1:9000/v2', 'ws://x'],
    ['DHAN_FEED_URL', 'ws://127.0.0.1:9001', 'https://x'],
    ['DHAN_ORDER_UPDATE_URL', 'wss://127.0.0.1:9002', 'http://x'],
    ['DHAN_INSTRUMENTS_URL', 'http://127.0.0.1:9000/scrip.csv', 'ftp://x'],
  ])('%s', (name, good, bad) => {
    it('accepts an override (e.g. a simulator)', () => {
      const config = validateConfig({ [name]: good }, cwd);
      expect(Object.values(config.dhan)).toContain(good);
    });
    it('refuses a wrong scheme or a non-URL', () => {
      expect(messageOf({ [name]: bad })).toMatch(
        new RegExp(`^Invalid configuration: ${name} must be a`),
      );
      expect(messageOf({ [name]: 'not a url' })).toBe(
        `Invalid configuration: ${name} must be an absolute URL (got "not a url")`,
      );
    });
  });

  describe('EXECUTION_MODE', () => {
    it('refuses values other than paper and live', () => {
      expect(messageOf({ EXECUTION_MODE: 'real' })).toBe(
        'Invalid configuration: EXECUTION_MODE must be one of paper, live (got "real")',
      );
    });
    it('refuses live without DhanHQ credentials', () => {
      expect(messageOf({ EXECUTION_MODE: 'live' })).toMatch(
        /^Invalid configuration: EXECUTION_MODE live requires DHAN_CLIENT_ID and DHAN_ACCESS_TOKEN/,
      );
    });
    it('accepts live with credentials', () => {
      const env = {
        EXECUTION_MODE: 'live',
        DHAN_CLIENT_ID: '1',
        DHAN_ACCESS_TOKEN: 't',
        JWT_SECRET: SECRET,
      };
      expect(validateConfig(env, cwd).execution.mode).toBe('live');
    });
  });

  describe('JWT_SECRET', () => {
    it('is required outside the embedded default', () => {
      expect(messageOf({ REDIS_URL: 'redis://r' })).toMatch(
        /^Invalid configuration: JWT_SECRET is required unless running the embedded default/,
      );
    });
    it('must be long, and the message does not echo it', () => {
      const message = messageOf({ JWT_SECRET: 'short-secret' });
      expect(message).toBe(
        'Invalid configuration: JWT_SECRET must be at least 32 characters (got 12)',
      );
      expect(message).not.toContain('short-secret');
    });
  });

  describe('ADMIN_USERNAME and ADMIN_PASSWORD', () => {
    it('are read together', () => {
      const config = validateConfig({ ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: 'p'.repeat(12) }, cwd);
      expect(config.auth).toMatchObject({ adminUsername: 'ops', adminPassword: 'p'.repeat(12) });
    });
    it('refuses one without the other, a bad name, a short password (not echoed)', () => {
      expect(messageOf({ ADMIN_USERNAME: 'ops' })).toBe(
        'Invalid configuration: ADMIN_PASSWORD must be set when ADMIN_USERNAME is set',
      );
      expect(messageOf({ ADMIN_PASSWORD: 'p'.repeat(12) })).toBe(
        'Invalid configuration: ADMIN_USERNAME must be set when ADMIN_PASSWORD is set',
      );
      expect(messageOf({ ADMIN_USERNAME: 'a b', ADMIN_PASSWORD: 'p'.repeat(12) })).toMatch(
        /^Invalid configuration: ADMIN_USERNAME must be 3 to 64 characters/,
      );
      const short = messageOf({ ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: 'hunter2' });
      expect(short).toBe(
        'Invalid configuration: ADMIN_PASSWORD must be at least 12 characters (got 7)',
      );
    });
  });

  describe('NODE_ENV and LOG_LEVEL', () => {
    it('accept the known values', () => {
      const config = validateConfig({ NODE_ENV: 'production', LOG_LEVEL: 'warn' }, cwd);
      expect(config.server).toMatchObject({
        nodeEnv: 'production',
        production: true,
        logLevel: 'warn',
      });
    });
    it('refuse others', () => {
      expect(messageOf({ NODE_ENV: 'prod' })).toBe(
        'Invalid configuration: NODE_ENV must be one of development, production, test (got "prod")',
      );
      expect(messageOf({ LOG_LEVEL: 'verbose' })).toMatch(
        /^Invalid configuration: LOG_LEVEL must be one of/,
      );
    });
  });

  describe('ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL and ALLOWED_ORIGINS', () => {
    it('accept valid values', () => {
      const config = validateConfig(
        {
          ACCESS_TOKEN_TTL: '60',
          REFRESH_TOKEN_TTL: '3600',
          ALLOWED_ORIGINS: 'https://terminal.example.com, http://localhost:5173',
        },
        cwd,
      );
      expect(config.auth.accessTokenTtlSeconds).toBe(60);
      expect(config.auth.refreshTokenTtlSeconds).toBe(3600);
      expect(config.server.allowedOrigins).toEqual([
        'https://terminal.example.com',
        'http://localhost:5173',
      ]);
    });
    it('refuse out-of-range values and non-origins', () => {
      expect(messageOf({ ACCESS_TOKEN_TTL: '0' })).toMatch(
        /^Invalid configuration: ACCESS_TOKEN_TTL must be an integer from 1 to 86400/,
      );
      expect(messageOf({ REFRESH_TOKEN_TTL: '10' })).toMatch(
        /^Invalid configuration: REFRESH_TOKEN_TTL must be an integer/,
      );
      expect(messageOf({ ALLOWED_ORIGINS: 'https://x.example.com/path' })).toMatch(
        /^Invalid configuration: ALLOWED_ORIGINS must be a comma-separated list of origins/,
      );
    });
  });

  describe('SESSION_MAX_LIFETIME', () => {
    it('defaults to 30 days and accepts a value no shorter than the refresh token', () => {
      expect(validateConfig({}, cwd).auth.sessionMaxLifetimeSeconds).toBe(30 * 86_400);
      const config = validateConfig(
        { REFRESH_TOKEN_TTL: '3600', SESSION_MAX_LIFETIME: '7200' },
        cwd,
      );
      expect(config.auth.sessionMaxLifetimeSeconds).toBe(7200);
    });
    it('refuses a lifetime shorter than REFRESH_TOKEN_TTL', () => {
      expect(messageOf({ REFRESH_TOKEN_TTL: '7200', SESSION_MAX_LIFETIME: '3600' })).toMatch(
        /^Invalid configuration: SESSION_MAX_LIFETIME must be at least REFRESH_TOKEN_TTL/,
      );
    });
  });

  describe('TRUST_PROXY', () => {
    it.each([
      ['false', false],
      ['true', true],
      ['1', 1],
      ['10.0.0.0/8, 127.0.0.1', ['10.0.0.0/8', '127.0.0.1']],
    ])('reads %j', (value, expected) => {
      expect(validateConfig({ TRUST_PROXY: value }, cwd).server.trustProxy).toEqual(expected);
    });
    it('refuses anything else', () => {
      expect(messageOf({ TRUST_PROXY: 'yes please' })).toMatch(
        /^Invalid configuration: TRUST_PROXY must be true, false, a hop count/,
      );
    });
  });

  describe('MAX_TICK_INSTRUMENTS_PER_USER', () => {
    it('defaults to 2,000 distinct instruments per user', () => {
      expect(validateConfig({}, cwd).feedQuotas.maxTickInstrumentsPerUser).toBe(2_000);
    });
    it('reads a positive integer and refuses anything else', () => {
      const env = { MAX_TICK_INSTRUMENTS_PER_USER: '300' };
      expect(validateConfig(env, cwd).feedQuotas.maxTickInstrumentsPerUser).toBe(300);
      expect(messageOf({ MAX_TICK_INSTRUMENTS_PER_USER: '0' })).toMatch(
        /^Invalid configuration: MAX_TICK_INSTRUMENTS_PER_USER must be an integer from 1 to/,
      );
      expect(messageOf({ MAX_TICK_INSTRUMENTS_PER_USER: 'lots' })).toMatch(
        /MAX_TICK_INSTRUMENTS_PER_USER/,
      );
    });
  });

  it('OPTION_RISK_FREE_RATE_PERCENT and OPTION_DIVIDEND_YIELD_PERCENT: percentages, as fractions', () => {
    expect(validateConfig({}, cwd).optionAnalytics).toEqual({
      riskFreeRate: 0.065,
      dividendYield: 0,
    });
    const env = { OPTION_RISK_FREE_RATE_PERCENT: '7.25', OPTION_DIVIDEND_YIELD_PERCENT: '1.5' };
    expect(validateConfig(env, cwd).optionAnalytics.riskFreeRate).toBeCloseTo(0.0725, 12);
    expect(validateConfig(env, cwd).optionAnalytics.dividendYield).toBeCloseTo(0.015, 12);
    expect(messageOf({ OPTION_RISK_FREE_RATE_PERCENT: '31' })).toMatch(
      /OPTION_RISK_FREE_RATE_PERCENT must be a number from 0 to 30/,
    );
    expect(messageOf({ OPTION_DIVIDEND_YIELD_PERCENT: 'high' })).toMatch(
      /OPTION_DIVIDEND_YIELD_PERCENT must be a number/,
    );
  });

  it('MAX_WATCHLIST_INSTRUMENTS_PER_USER defaults to 2,000 and reads a positive integer', () => {
    expect(validateConfig({}, cwd).feedQuotas.maxWatchlistInstrumentsPerUser).toBe(2_000);
    const env = { MAX_WATCHLIST_INSTRUMENTS_PER_USER: '500' };
    expect(validateConfig(env, cwd).feedQuotas.maxWatchlistInstrumentsPerUser).toBe(500);
    expect(messageOf({ MAX_WATCHLIST_INSTRUMENTS_PER_USER: '-1' })).toMatch(
      /MAX_WATCHLIST_INSTRUMENTS_PER_USER must be an integer/,
    );
  });

  it('every message is a single line', () => {
    const message = messageOf({ PORT: 'a\nb' });
    expect(message.split('\n')).toHaveLength(1);
  });
});

describe('WebSocket limits (WS_*)', () => {
  it('default to a ping every 30 s and caps a real UI never reaches', () => {
    expect(validateConfig({}, cwd).websocket).toEqual({
      pingIntervalMs: 30_000,
      maxSubscriptionsPerSocket: 100,
      maxSubscriptionsPerSocketField: 25,
      maxSubscriptionsPerUser: 400,
      maxSubscriptionsPerUserField: 100,
    });
  });

  it('reads each variable', () => {
    const config = validateConfig(
      {
        WS_PING_INTERVAL_MS: '500',
        WS_SUBSCRIPTIONS_PER_SOCKET: '10',
        WS_SUBSCRIPTIONS_PER_SOCKET_FIELD: '3',
        WS_SUBSCRIPTIONS_PER_USER: '20',
        WS_SUBSCRIPTIONS_PER_USER_FIELD: '6',
      },
      cwd,
    );
    expect(config.websocket).toEqual({
      pingIntervalMs: 500,
      maxSubscriptionsPerSocket: 10,
      maxSubscriptionsPerSocketField: 3,
      maxSubscriptionsPerUser: 20,
      maxSubscriptionsPerUserField: 6,
    });
  });

  it.each([
    ['WS_PING_INTERVAL_MS', '50'],
    ['WS_SUBSCRIPTIONS_PER_SOCKET', '0'],
    ['WS_SUBSCRIPTIONS_PER_USER_FIELD', 'many'],
  ])('refuses %s=%s', (name, value) => {
    expect(messageOf({ [name]: value })).toMatch(
      new RegExp(`^Invalid configuration: ${name} must be an integer from`),
    );
  });
});

describe('validateConfig: the order budget and market protection', () => {
  it('has defaults: 10 a second per segment, DhanHQ 10/250/1000/7000, 10 s, 2 %, no algo id', () => {
    const execution = validateConfig({}, cwd).execution;
    expect(execution.governor).toEqual({
      perSegmentPerSecond: 10,
      account: { perSecond: 10, perMinute: 250, perHour: 1000, perDay: 7000 },
      maxWaitMs: 10_000,
    });
    expect(execution.marketProtectionPercent).toBe(2);
    expect(execution.algoId).toBeUndefined();
    expect(execution.maxSlices).toBe(10);
  });

  it('reads each variable', () => {
    const execution = validateConfig(
      {
        ORDER_RATE_PER_SECOND: '5',
        DHAN_ORDER_LIMITS: '8/200/900/6000',
        ORDER_QUEUE_MAX_WAIT_MS: '2500',
        MARKET_PROTECTION_PERCENT: '1.5',
        DHAN_ALGO_ID: 'DESK-01',
        ORDER_SLICE_MAX: '20',
      },
      cwd,
    ).execution;
    expect(execution.governor).toEqual({
      perSegmentPerSecond: 5,
      account: { perSecond: 8, perMinute: 200, perHour: 900, perDay: 6000 },
      maxWaitMs: 2500,
    });
    expect(execution.marketProtectionPercent).toBe(1.5);
    expect(execution.algoId).toBe('DESK-01');
    expect(execution.maxSlices).toBe(20);
  });

  it.each(['10/250/1000', '10/5/1000/7000', '0/250/1000/7000', 'a/b/c/d'])(
    'refuses DHAN_ORDER_LIMITS %s',
    (value) => {
      expect(messageOf({ DHAN_ORDER_LIMITS: value })).toMatch(
        /^Invalid configuration: DHAN_ORDER_LIMITS must be four positive integers/,
      );
    },
  );

  it.each([
    ['ORDER_RATE_PER_SECOND', '0'],
    ['ORDER_QUEUE_MAX_WAIT_MS', '10'],
    ['MARKET_PROTECTION_PERCENT', '25'],
    ['DHAN_ALGO_ID', 'has space'],
    ['ORDER_SLICE_MAX', '0'],
  ])('refuses %s=%s', (name, value) => {
    expect(messageOf({ [name]: value })).toMatch(
      new RegExp(`^Invalid configuration: ${name} must`),
    );
  });
});
