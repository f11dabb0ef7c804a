import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');

/**
 * The server as production runs it (src/main.ts, embedded default on a fresh data folder) in a
 * child process, so its memory can be measured and a crash is seen as an exit.
 */
export interface ChildServer {
  child: ChildProcess;
  baseUrl: string;
  graphqlUrl: string;
  adminUrl: string;
  websocketUrl: string;
  adminWebsocketUrl: string;
  /** The admin created at first boot (ADMIN_USERNAME / ADMIN_PASSWORD). */
  admin: { username: string; password: string };
  /** Everything the child wrote (banner, logs). */
  output(): string;
  /** Resident set size of the child, MB. */
  rssMb(): number;
  /** Whether the child is still running. */
  alive(): boolean;
  stop(): Promise<void>;
}

function rssOf(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    if (match) return Number(match[1]) / 1024;
  } catch {
    // not Linux: ask ps
  }
  return (
    Number(
      execFileSync('ps', ['-o', 'rss=', '-p', String(pid)])
        .toString()
        .trim(),
    ) / 1024
  );
}

export async function startChildServer(
  env: Record<string, string> = {},
  /** Node options, e.g. a heap limit: a leak then ends the process instead of swapping. */
  nodeArgs: string[] = [],
): Promise<ChildServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terminal-child-'));
  const admin = { username: 'root-admin', password: randomBytes(12).toString('hex') };
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      '--require',
      path.join(root, 'test/utils/ts-register.cjs'),
      path.join(root, 'src/main.ts'),
    ],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: process.env.CHILD_LOG_LEVEL ?? 'warn',
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
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      // The banner is written at once: its WebSocket line means the URLs above it are there.
      if (output.includes('WebSocket:')) resolve();
    });
    void exit.then(() => reject(new Error(`the server exited before its banner:\n${output}`)));
  });
  const graphqlUrl = /GraphQL \(user\): +(\S+)/.exec(output)![1];
  const adminUrl = /GraphQL \(admin\): +(\S+)/.exec(output)![1];
  return {
    child,
    baseUrl: graphqlUrl.replace(/\/graphql$/, ''),
    graphqlUrl,
    adminUrl,
    websocketUrl: graphqlUrl.replace(/^http/, 'ws'),
    adminWebsocketUrl: adminUrl.replace(/^http/, 'ws'),
    admin,
    output: () => output,
    rssMb: () => rssOf(child.pid!),
    alive: () => !exited,
    stop: async () => {
      if (!exited) child.kill('SIGTERM');
      await exit;
      // What the server logged, for a failure's server side (CHILD_LOG_DIR, see README).
      const logDir = process.env.CHILD_LOG_DIR;
      if (logDir) fs.writeFileSync(path.join(logDir, `server-${child.pid}.log`), output);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body as JSON, when it is JSON. */
  json?: {
    data?: unknown;
    errors?: { message: string; extensions?: { code?: string; [key: string]: unknown } }[];
  };
}

/**
 * One HTTP request with node:http (fetch gives up on a request whose body the server refused
 * before reading it all; the answer still arrives). Resolves with the answer, rejects if none.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const body = options.body ?? '';
    const request = http.request(url, {
      method: options.method ?? 'POST',
      headers: {
        ...(options.body !== undefined
          ? { 'content-length': String(Buffer.byteLength(body)) }
          : {}),
        ...options.headers,
      },
    });
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: RawAnswer['json'];
        try {
          json = JSON.parse(text) as RawAnswer['json'];
        } catch {
          json = undefined;
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text, json });
      });
    });
    // A write error after the answer started (the server stopped reading) is not a failure.
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    request.end(body);
  });
}
