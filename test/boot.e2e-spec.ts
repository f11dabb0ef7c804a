import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { databaseEngine } from './utils/test-app';

const root = path.resolve(__dirname, '..');

interface ExitResult {
  code: number | null;
  lines: string[];
}

function start(env: Record<string, string>): ChildProcess {
  return spawn(
    process.execPath,
    ['--require', path.join(root, 'test/utils/ts-register.cjs'), path.join(root, 'src/main.ts')],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

/** Runs src/main.ts in a child process with this environment and waits for it to exit. */
function boot(env: Record<string, string>): Promise<ExitResult> {
  return new Promise((resolve, reject) => {
    const child = start(env);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, lines: output.split('\n').filter((line) => line.trim() !== '') }),
    );
  });
}

describe('boot with invalid configuration (child process)', () => {
  it.each([
    [{ PORT: 'abc' }, 'Invalid configuration: PORT must be an integer from 0 to 65535 (got "abc")'],
    [
      { DATABASE_URL: 'mysql://user:secret@db/terminal' },
      'Invalid configuration: DATABASE_URL must be postgres://USER:PASSWORD@HOST:PORT/DATABASE or sqlite:PATH (got "mysql://***@db/terminal")',
    ],
    [
      { DATABASE_URL: 'postgres://127.0.0.1:5432/terminal' },
      'Invalid configuration: JWT_SECRET is required unless running the embedded default (SQLite, no DHAN credentials, no REDIS_URL)',
    ],
  ])('exits non-zero with one line naming the variable: %j', async (env, message) => {
    const result = await boot(env);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.lines).toEqual([message]);
  });
});

// The embedded default is SQLite by definition: nothing to repeat in the PostgreSQL run.
const describeEmbedded = databaseEngine() === 'sqlite' ? describe : describe.skip;

describeEmbedded('boot on the embedded default (child process)', () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terminal-boot-'));
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Boots, collects stdout until the banner is complete, then stops it with SIGTERM. */
  async function bootAndStop(): Promise<{
    stdout: string;
    exit: { code: number | null; signal: string | null };
  }> {
    const child = start({
      DATABASE_URL: `sqlite:${path.join(dir, 'data/terminal.sqlite')}`,
      LOG_LEVEL: 'warn',
    });
    let stdout = '';
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        if (stdout.includes('WebSocket:') && stdout.endsWith('\n\n')) resolve();
      });
      child.on('close', () => reject(new Error(`exited before the banner:\n${stdout}`)));
    });
    child.kill('SIGTERM');
    return { stdout, exit: await exited };
  }

  it('prints the URLs and the first-run admin password once, and stops on SIGTERM', async () => {
    const first = await bootAndStop();
    expect(first.stdout).toMatch(/GraphQL \(user\): +http:\/\/127\.0\.0\.1:\d+\/graphql/);
    expect(first.stdout).toMatch(/GraphQL \(admin\): +http:\/\/127\.0\.0\.1:\d+\/admin\/graphql/);
    expect(first.stdout).toMatch(/WebSocket: +ws:\/\/127\.0\.0\.1:\d+\/graphql/);
    expect(first.stdout).toMatch(/username: admin\n +password: \S{20,}/);
    expect(first.exit.code === 0 || first.exit.signal === 'SIGTERM').toBe(true);

    const secret = fs.statSync(path.join(dir, 'data/jwt-secret'));
    expect(secret.mode & 0o777).toBe(0o600);

    const second = await bootAndStop();
    expect(second.stdout).toMatch(/GraphQL \(user\)/);
    expect(second.stdout).not.toMatch(/password:/);
  }, 120_000);
});
