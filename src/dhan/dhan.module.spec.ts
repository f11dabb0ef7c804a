import type { ResolvedAppConfig } from '../config/app-config';
import { DHAN_DEFAULTS, validateConfig } from '../config/validate-config';
import { resolveSecrets } from '../config/resolve-secrets';
import { createDhanEndpoints } from './dhan.module';
import type { DhanEndpoints } from './dhan-endpoints';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const dir = path.join(os.tmpdir(), `dhan-spec-${process.pid}`);

function config(env: Record<string, string> = {}): ResolvedAppConfig {
  return resolveSecrets(
    validateConfig({ DATABASE_URL: `sqlite:${dir}/t.sqlite`, JWT_SECRET: 'x'.repeat(40), ...env }),
  );
}

describe('createDhanEndpoints', () => {
  const started: DhanEndpoints[] = [];
  afterAll(async () => {
    for (const e of started) e.token.stop();
    await Promise.all(started.map((e) => e.simulator?.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('uses the configured DhanHQ endpoints and token when credentials are set', async () => {
    const endpoints = await createDhanEndpoints(
      config({ DHAN_CLIENT_ID: '1100000001', DHAN_ACCESS_TOKEN: 'live-token' }),
    );
    expect(endpoints).toMatchObject({
      mode: 'live',
      clientId: '1100000001',
      apiUrl: DHAN_DEFAULTS.apiUrl,
      feedUrl: DHAN_DEFAULTS.feedUrl,
      instrumentsUrl: DHAN_DEFAULTS.instrumentsUrl,
    });
    expect(endpoints.simulator).toBeUndefined();
    expect(endpoints.accessToken()).toBe('live-token');
  });

  it('starts the simulator on loopback without credentials; an overridden URL still wins', async () => {
    const endpoints = await createDhanEndpoints(
      config({ DHAN_INSTRUMENTS_URL: 'http://127.0.0.1:9/scrip.csv' }),
    );
    started.push(endpoints);
    expect(endpoints.mode).toBe('simulator');
    expect(endpoints.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v2$/);
    expect(endpoints.feedUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+/);
    expect(endpoints.instrumentsUrl).toBe('http://127.0.0.1:9/scrip.csv');
    const response = await fetch(`${endpoints.apiUrl}/fundlimit`, {
      headers: { 'access-token': endpoints.accessToken(), 'client-id': endpoints.clientId },
    });
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });

  it('reads the token holder on each call, so a replaced token is used at once', async () => {
    const endpoints = await createDhanEndpoints(config());
    started.push(endpoints);
    const simulator = endpoints.simulator!;
    expect(endpoints.accessToken()).toBe(simulator.credentials.accessToken);
    // The simulator's tokens are JWTs with an expiry, as DhanHQ's: the holder reads `exp`.
    expect(endpoints.token.status().expiresAt).toBe(
      simulator.accounts.get(endpoints.clientId)?.expiresAt,
    );
    const fresh = simulator.issueToken();
    endpoints.token.set(fresh, 'admin');
    expect(endpoints.accessToken()).toBe(fresh);
    expect(endpoints.token.status()).toMatchObject({ state: 'VALID', source: 'admin' });
  });
});
