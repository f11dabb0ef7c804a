import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JWT_SECRET_FILE, resolveSecrets } from './resolve-secrets';
import { validateConfig } from './validate-config';

describe('resolveSecrets', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resolve-secrets-'));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the data folder and a 0600 secret once, then reuses it', () => {
    const config = validateConfig({ DATABASE_URL: 'sqlite:nested/data/db.sqlite' }, dir);
    const first = resolveSecrets(config);
    const file = path.join(dir, 'nested/data', JWT_SECRET_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(first.auth.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(resolveSecrets(config).auth.jwtSecret).toBe(first.auth.jwtSecret);
  });

  it('uses JWT_SECRET when given and writes no file', () => {
    const config = validateConfig(
      { DATABASE_URL: 'sqlite:data/db.sqlite', JWT_SECRET: 'k'.repeat(40) },
      dir,
    );
    expect(resolveSecrets(config).auth.jwtSecret).toBe('k'.repeat(40));
    expect(fs.existsSync(path.join(dir, 'data', JWT_SECRET_FILE))).toBe(false);
  });
});
