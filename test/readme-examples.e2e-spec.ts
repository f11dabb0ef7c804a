import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WsAuthGate } from '../src/auth/ws-auth.gate';
import { gql, subscribe, type GraphqlResponse } from './utils/graphql-client';
import { until } from './utils/raw-ws';
import { createTestApp, type TestApp } from './utils/test-app';

interface Block {
  lang: string;
  code: string;
}

const ROOT = path.join(__dirname, '..');
const README_ORIGIN = '127.0.0.1:3000';

/** The code blocks of README's worked example, live quotes and orders sections, in order. */
function readmeBlocks(): Block[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Worked example');
  const end = readme.indexOf('## Running with PostgreSQL');
  const blocks: Block[] = [];
  const fence = /```(\w+)\n([\s\S]*?)```/g;
  for (let m = fence.exec(readme.slice(start, end)); m; m = fence.exec(readme.slice(start, end))) {
    blocks.push({ lang: m[1], code: m[2] });
  }
  return blocks;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runNode(file: string, env: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [file],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * README's examples, as written, against the embedded default (only the host and port, the
 * admin's password printed at first boot and the token are filled in, as a reader would; on
 * PostgreSQL the admin is a configured one, so its name too).
 */
describe('README examples run verbatim (e2e)', () => {
  let t: TestApp;
  let token = '';
  let userId = '';
  let placeOrder = '';
  const blocks = readmeBlocks();
  const watchFile = path.join(
    ROOT,
    'node_modules',
    '.cache',
    `readme-watch-${randomBytes(4).toString('hex')}.mjs`,
  );

  const local = (text: string) =>
    text
      .replaceAll(`http://${README_ORIGIN}`, t.baseUrl)
      .replaceAll(`ws://${README_ORIGIN}`, t.baseUrl.replace(/^http/, 'ws'));

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    fs.rmSync(watchFile, { force: true });
    await t?.close();
  });

  it('has the examples this suite runs', () => {
    expect(blocks.map((b) => b.lang)).toEqual([
      'sh',
      'sh',
      'js',
      'sh',
      'graphql',
      'graphql',
      'graphql',
      'graphql',
      'graphql',
      'graphql',
    ]);
  });

  it('runs each example in order: log in, me, watch.mjs, instruments, ticks, quote, placeOrder (accepted), orderUpdates', async () => {
    const gate = t.app.get(WsAuthGate);
    for (const block of blocks) {
      if (block.lang === 'sh') {
        // curl ... -d '<json>': the URL and the body as written.
        const url = local(/(http:\/\/\S+?)\s/.exec(block.code)![1]);
        const body = /-d '([\s\S]*?)'/
          .exec(block.code)![1]
          .replace('PASSWORD', t.admin.password)
          .replace('username: \\"admin\\"', `username: \\"${t.admin.username}\\"`);
        const usesToken = block.code.includes('Bearer $TOKEN');
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(usesToken ? { authorization: `Bearer ${token}` } : {}),
          },
          body,
        });
        const answer = (await response.json()) as GraphqlResponse<{
          login?: { accessToken: string; user: { id: string } };
        }>;
        expect({ status: response.status, errors: answer.errors }).toEqual({
          status: 200,
          errors: undefined,
        });
        if (answer.data?.login) {
          token = answer.data.login.accessToken;
          userId = answer.data.login.user.id;
        }
      } else if (block.lang === 'js') {
        fs.mkdirSync(path.dirname(watchFile), { recursive: true });
        fs.writeFileSync(watchFile, local(block.code));
        const good = await runNode(watchFile, { TOKEN: token });
        expect(good.code).toBe(0);
        const times = good.stdout.trim().split('\n');
        expect(times).toHaveLength(5);
        for (const time of times) expect(Number.isNaN(Date.parse(time))).toBe(false);

        // A refused token: one clear line, exit code 1, no retries.
        const bad = await runNode(watchFile, { TOKEN: 'not-a-token' });
        expect(bad).toEqual({
          code: 1,
          stdout: '',
          stderr: expect.stringMatching(/^subscription ended: socket closed 4403 [^\n]*\n$/),
        });
      } else if (block.code.trimStart().startsWith('subscription')) {
        const before = gate.activeSubscriptions(userId);
        const probe = subscribe(local(`ws://${README_ORIGIN}/graphql`), block.code, {
          authorization: `Bearer ${token}`,
        });
        try {
          await until(() => gate.activeSubscriptions(userId) > before, 'the subscription to start');
          if (block.code.includes('orderUpdates')) {
            // A change to stream: README's order once more, under a new idempotency key.
            const again = await gql(t.graphqlUrl, placeOrder.replace('0001', '0002'), {}, token);
            expect(again.errors).toBeUndefined();
          }
          const first = await Promise.race([probe.firstValue, probe.failed.then(() => null)]);
          expect(first).not.toBeNull();
        } finally {
          await probe.dispose();
        }
      } else {
        const answer = await gql<{ placeOrder?: { status: string; rejectionReason: string } }>(
          t.graphqlUrl,
          block.code,
          {},
          token,
        );
        expect(answer.errors).toBeUndefined();
        if (block.code.includes('placeBasket')) {
          expect(answer.data).toMatchObject({ placeBasket: { status: 'PLACED' } });
        }
        if (answer.data?.placeOrder) {
          placeOrder = block.code;
          expect(answer.data.placeOrder).toMatchObject({ rejectionReason: null });
          expect(answer.data.placeOrder.status).not.toBe('REJECTED');
        }
      }
    }
    expect(placeOrder).not.toBe('');
  });
});
