import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DhanSimulatorOptions } from '@app/dhan-simulator';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import { Writable } from 'node:stream';
import pino from 'pino';
import { AdminBootstrapService } from '../../src/auth/admin-bootstrap.service';
import { connectionInfo, createApp, type ConnectionInfo } from '../../src/bootstrap';
import type { ResolvedAppConfig } from '../../src/config/app-config';
import { resolveSecrets } from '../../src/config/resolve-secrets';
import { validateConfig, type Env } from '../../src/config/validate-config';
import { createLogger } from '../../src/logging/logger';

declare const __DATABASE_ENGINE__: string | undefined;

export interface TestApp extends ConnectionInfo {
  app: NestFastifyApplication;
  config: ResolvedAppConfig;
  baseUrl: string;
  admin: { username: string; password: string };
  close(): Promise<void>;
}

export function databaseEngine(): 'sqlite' | 'postgres' {
  return typeof __DATABASE_ENGINE__ !== 'undefined' && __DATABASE_ENGINE__ === 'postgres'
    ? 'postgres'
    : 'sqlite';
}

interface PreparedDatabase {
  env: Env;
  cleanup(): Promise<void>;
}

async function prepareSqlite(): Promise<PreparedDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terminal-e2e-'));
  return {
    env: { DATABASE_URL: `sqlite:${path.join(dir, 'data', 'test.sqlite')}` },
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** A fresh, uniquely named schema; migrations then run from empty. Fails if unreachable. */
async function preparePostgres(): Promise<PreparedDatabase> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('__DATABASE_ENGINE__ is postgres but TEST_DATABASE_URL is not set');
  const schema = `e2e_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await client.end();
  }
  const withSchema = new URL(url);
  withSchema.searchParams.set('schema', schema);
  return {
    env: {
      DATABASE_URL: withSchema.toString(),
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_USERNAME: 'root-admin',
      ADMIN_PASSWORD: randomBytes(12).toString('hex'),
    },
    cleanup: async () => {
      const cleaner = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
      await cleaner.connect();
      try {
        await cleaner.query(`DROP SCHEMA "${schema}" CASCADE`);
      } finally {
        await cleaner.end();
      }
    },
  };
}

/**
 * A database that outlives one boot (restart scenarios on either engine): pass its `env` to
 * each createTestApp call and call `cleanup` at the end.
 */
export async function persistentDatabase(): Promise<PreparedDatabase> {
  const prepared =
    databaseEngine() === 'postgres' ? await preparePostgres() : await prepareSqlite();
  return { env: { DATABASE_URL: prepared.env.DATABASE_URL }, cleanup: prepared.cleanup };
}

/**
 * Boots the whole application through the same createApp() main.ts uses, on 127.0.0.1 and a
 * random port, against a fresh SQLite file (default) or a fresh PostgreSQL schema
 * (e2e-postgres project).
 */
export interface TestAppOptions {
  /** Collects the server's JSON log lines (at info level) instead of discarding them. */
  logLines?: string[];
  /** Options of the in-process DhanHQ simulator (config `dhan.simulatorOptions`). */
  simulatorOptions?: DhanSimulatorOptions;
  /** Adjusts the resolved configuration before the app is built (e.g. `instruments`). */
  configure?: (config: ResolvedAppConfig) => ResolvedAppConfig;
}

export async function createTestApp(env: Env = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const database =
    databaseEngine() === 'postgres' ? await preparePostgres() : await prepareSqlite();
  try {
    const resolved = resolveSecrets(
      validateConfig({
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        ...database.env,
        ...env,
        HOST: '127.0.0.1',
        PORT: '0',
      }),
    );
    const withSimulator = options.simulatorOptions
      ? {
          ...resolved,
          dhan: { ...resolved.dhan, simulatorOptions: options.simulatorOptions },
        }
      : resolved;
    const config = options.configure ? options.configure(withSimulator) : withSimulator;
    const lines = options.logLines;
    const logger = lines
      ? createLogger(
          { logLevel: 'info' },
          new Writable({
            write(chunk: Buffer, _encoding, done) {
              lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
              done();
            },
          }),
        )
      : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    const app = await createApp(config, { logger });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const generated = app.get(AdminBootstrapService).takeGeneratedCredentials();
    const admin =
      generated ??
      (config.auth.adminUsername && config.auth.adminPassword
        ? { username: config.auth.adminUsername, password: config.auth.adminPassword }
        : undefined);
    if (!admin) throw new Error('The test app has no admin credentials');
    const info = connectionInfo(app);
    return {
      ...info,
      app,
      config,
      admin,
      baseUrl: info.graphqlUrl.replace(/\/graphql$/, ''),
      close: async () => {
        try {
          await app.close();
        } finally {
          await database.cleanup();
        }
      },
    };
  } catch (error) {
    await database.cleanup();
    throw error;
  }
}
