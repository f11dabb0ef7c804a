import { sign } from 'jsonwebtoken';
import type { ResolvedAppConfig } from '../../src/config/app-config';

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export interface ForgeOptions {
  secret: string;
  config: ResolvedAppConfig;
  userId: string;
  sessionId: string;
  role?: string;
  expiresInSeconds?: number;
}

/** An HS256 token shaped like the server's, signed with any key and any expiry. */
export function forgeToken(options: ForgeOptions): string {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    {
      sid: options.sessionId,
      role: options.role ?? 'USER',
      iat: now - 120,
      exp: now + (options.expiresInSeconds ?? 600),
    },
    options.secret,
    {
      algorithm: 'HS256',
      subject: options.userId,
      issuer: options.config.auth.jwtIssuer,
      audience: options.config.auth.jwtAudience,
    },
  );
}

/** The same claims with `alg: none` and no signature. */
export function unsignedToken(options: Omit<ForgeOptions, 'secret'>): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url({ alg: 'none', typ: 'JWT' });
  const payload = base64url({
    sub: options.userId,
    sid: options.sessionId,
    role: options.role ?? 'USER',
    iss: options.config.auth.jwtIssuer,
    aud: options.config.auth.jwtAudience,
    iat: now,
    exp: now + 600,
  });
  return `${header}.${payload}.`;
}

/** Reads the claims of a token without checking it (test helper only). */
export function claimsOf(token: string): { sub: string; sid: string; exp: number } {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}
