import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

export interface ChildServer {
  graphqlUrl: string;
  adminUrl: string;
  websocketUrl: string;
  adminWebsocketUrl: string;
  admin: { username: string; password: string };
  /** Resident set size of the server process, bytes (Linux /proc). */
  rss(): number;
  /** Still running (never crashed). */
  alive(): boolean;
  /** Everything it wrote to stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs src/main.ts on the embedded default (fresh SQLite folder, known admin) in a child
 * process, so that its memory can be measured apart from the test's, and a crash is seen.
 */
export async function startChildServer(env: Record<string, string> = {}): Promise<ChildServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terminal-child-'));
  const admin = { username: 'root-admin', password: randomBytes(12).toString('hex') };
  const child: ChildProcess = spawn(
    process.execPath,
    ['--require', path.join(root, 'test/utils/ts-register.cjs'), path.join(root, 'src/main.ts')],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'warn',
        DATABASE_URL: `sqlite:${path.join(dir, 'data/terminal.sqlite')}`,
        ADMIN_USERNAME: admin.username,
        ADMIN_PASSWORD: admin.password,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.on('close', () => {
      exited = true;
      resolve();
    }),
  );
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const urls = await new Promise<{ user: string; admin: string }>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const user = /GraphQL \(user\): +(http:\/\/\S+)/.exec(output);
      const adminUrl = /GraphQL \(admin\): +(http:\/\/\S+)/.exec(output);
      if (user && adminUrl && output.includes('WebSocket:')) {
        resolve({ user: user[1], admin: adminUrl[1] });
      }
    });
    void exit.then(() => reject(new Error(`the server exited before its banner:\n${output}`)));
  });
  return {
    graphqlUrl: urls.user,
    adminUrl: urls.admin,
    websocketUrl: urls.user.replace(/^http/, 'ws'),
    adminWebsocketUrl: urls.admin.replace(/^http/, 'ws'),
    admin,
    rss: () => {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status);
      if (!kb) throw new Error('no VmRSS');
      return Number(kb[1]) * 1024;
    },
    alive: () => !exited,
    output: () => output,
    stop: async () => {
      if (!exited) child.kill('SIGTERM');
      await exit;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
