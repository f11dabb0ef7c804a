import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { JWT_SECRET_FILE } from '../src/config/resolve-secrets';
import { createTestApp, databaseEngine, type TestApp } from './utils/test-app';
import { errorCodes, gql, LOGIN } from './utils/graphql-client';
import { readyUntil } from './utils/readiness';

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('security: data files and database readiness (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  const sqliteOnly = databaseEngine() === 'sqlite' ? it : it.skip;
  const postgresOnly = databaseEngine() === 'postgres' ? it : it.skip;

  sqliteOnly(
    'creates the data folder 0700 and the database files 0600, like the secret',
    async () => {
      const file = t.config.database.sqlitePath!;
      // A write makes sure the WAL and shared-memory files exist.
      expect(
        errorCodes(await gql(t.graphqlUrl, LOGIN, { username: 'x-user', password: 'x' })),
      ).toEqual(['UNAUTHENTICATED']);
      expect(mode(path.dirname(file))).toBe(0o700);
      expect(mode(path.join(t.config.dataDir, JWT_SECRET_FILE))).toBe(0o600);
      for (const name of [file, `${file}-wal`, `${file}-shm`]) {
        expect({ name: path.basename(name), mode: mode(name).toString(8) }).toEqual({
          name: path.basename(name),
          mode: '600',
        });
      }
    },
  );

  sqliteOnly(
    'says the database is down while it cannot write, hides the driver error, and recovers',
    async () => {
      // Ready once warm-up (instrument master, feed, order updates) is over.
      expect(await readyUntil(t, (answer) => answer.status === 200)).toMatchObject({
        status: 200,
        body: { checks: { database: 'up' } },
      });

      // Another connection holds the write lock: reads still work, every write fails.
      const holder = await new DataSource({
        type: 'better-sqlite3',
        database: t.config.database.sqlitePath!,
      }).initialize();
      try {
        await holder.query('BEGIN EXCLUSIVE');
        const down = await readyUntil(t, (answer) => answer.status === 503);
        expect(down).toEqual({
          status: 503,
          body: {
            status: 'unavailable',
            ready: false,
            checks: expect.objectContaining({ database: 'down' }),
            details: expect.any(Object),
            info: { role: 'LEADER' },
          },
        });
        // The reasons name failing parts, never the driver's words.
        expect(JSON.stringify(down)).not.toMatch(/sqlite|locked|busy/i);
        // A failed write is INTERNAL with the fixed message, never the driver's (test mode is not production).
        const login = await gql(t.graphqlUrl, LOGIN, {
          username: t.admin.username,
          password: t.admin.password,
        });
        expect(errorCodes(login)).toEqual(['INTERNAL']);
        expect(login.errors?.[0].message).toBe('Internal server error');
        expect(JSON.stringify(login)).not.toMatch(/sqlite|locked|busy/i);
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        await holder.destroy();
      }

      const up = await readyUntil(t, (answer) => answer.status === 200);
      expect(up).toMatchObject({ status: 200, body: { ready: true, checks: { database: 'up' } } });
    },
  );

  postgresOnly('says the database is down while it cannot write, and recovers', async () => {
    // Ready once warm-up (instrument master, feed, order updates) is over.
    expect(await readyUntil(t, (answer) => answer.status === 200)).toMatchObject({
      status: 200,
      body: { checks: { database: 'up' } },
    });
    const url = new URL(process.env.TEST_DATABASE_URL!);
    const holder = new Client({ connectionString: url.toString() });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `LOCK TABLE "${t.config.database.schema!}".health_probe IN ACCESS EXCLUSIVE MODE`,
      );
      const down = await readyUntil(t, (answer) => answer.status === 503);
      expect(down).toEqual({
        status: 503,
        body: {
          status: 'unavailable',
          ready: false,
          checks: expect.objectContaining({ database: 'down' }),
          details: expect.any(Object),
          info: { role: 'LEADER' },
        },
      });
      expect(JSON.stringify(down)).not.toMatch(/lock|timeout|postgres/i);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    const up = await readyUntil(t, (answer) => answer.status === 200);
    expect(up).toMatchObject({ status: 200, body: { ready: true, checks: { database: 'up' } } });
  });
});
