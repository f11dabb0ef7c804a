import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AppConfig, ResolvedAppConfig } from './app-config';

export const JWT_SECRET_FILE = 'jwt-secret';

/**
 * Creates the data folder (0700) and, in the embedded default without JWT_SECRET, loads the secret
 * generated on first boot (creating it with mode 0600) so sessions survive restarts.
 */
export function resolveSecrets(config: AppConfig): ResolvedAppConfig {
  // Private: it holds the secret and, on SQLite, the database.
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  if (config.auth.jwtSecret !== undefined) {
    return { ...config, auth: { ...config.auth, jwtSecret: config.auth.jwtSecret } };
  }
  const file = path.join(config.dataDir, JWT_SECRET_FILE);
  let secret: string;
  try {
    secret = fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    secret = randomBytes(48).toString('base64url');
    // 'wx' fails if another process created it meanwhile: then read theirs.
    try {
      fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    } catch (writeError) {
      if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError;
      secret = fs.readFileSync(file, 'utf8').trim();
    }
  }
  return { ...config, auth: { ...config.auth, jwtSecret: secret } };
}
