import { request } from 'undici';
import { classifyDhanError, DhanApiError, DhanNetworkError } from '../rest/dhan-errors';

/** DhanHQ's login host (consent, PIN + TOTP). */
export const DHAN_AUTH_URL = 'https://auth.dhan.co';

/** What DhanHQ gives back for a renewed or generated token. */
export interface IssuedToken {
  accessToken: string;
  /** Epoch ms, from the answer's expiry or else the JWT's `exp`; undefined when neither says. */
  expiresAt: number | undefined;
}

/**
 * Epoch ms of a DhanHQ JWT's `exp` claim, or undefined when the token is not a JWT or carries
 * no `exp`. The signature is not checked: DhanHQ checks it; this only tells when to renew.
 */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    const exp = (payload as { exp?: unknown } | null)?.exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** `expiryTime` as DhanHQ's clients report it: epoch s or ms, or an ISO / IST wall-clock text. */
function parseExpiry(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) {
    return value < 1e12 ? value * 1000 : value;
  }
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return parseExpiry(Number(value));
  const text = value.trim().replace(' ', 'T');
  // A wall-clock time without a zone is IST, like every other DhanHQ time.
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}+05:30`;
  const ms = Date.parse(withZone);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Reads a token answer: camelCase or snake_case names, maybe under `data`; no token = refused. */
export function readIssuedToken(body: unknown): IssuedToken {
  const root = (body ?? {}) as Record<string, unknown>;
  const data =
    root.data && typeof root.data === 'object' ? (root.data as Record<string, unknown>) : root;
  const token = data.accessToken ?? data.access_token ?? data.token;
  if (typeof token !== 'string' || token.length === 0) {
    throw new DhanApiError(
      'DhanHQ answered without an access token',
      'input',
      undefined,
      200,
      'TokenAnswer',
    );
  }
  const expiresAt = parseExpiry(data.expiryTime ?? data.expiry_time) ?? jwtExpiry(token);
  return { accessToken: token, expiresAt };
}

/**
 * One request to DhanHQ's token or profile endpoints: the parsed body of a 2xx answer, the
 * classified DhanHQ error otherwise, DhanNetworkError when unreachable. These calls change
 * nothing a retry could duplicate: every network failure is "not sent".
 */
async function send(
  method: 'GET' | 'POST',
  url: URL,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<unknown> {
  let status: number;
  let body: unknown;
  try {
    const res = await request(url, {
      method,
      headers: { accept: 'application/json', ...headers },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    status = res.statusCode;
    const text = await res.body.text();
    try {
      body = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
  } catch (err) {
    throw new DhanNetworkError(`${method} ${url.pathname}: ${(err as Error).message}`, undefined);
  }
  if (status < 200 || status >= 300) throw classifyDhanError(status, body);
  return body;
}

async function call(
  method: 'GET' | 'POST',
  url: URL,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<IssuedToken> {
  return readIssuedToken(await send(method, url, headers, timeoutMs));
}

/** `GET /v2/RenewToken`: another 24 h for a token made on Dhan Web; the old one ends at once. */
export function renewToken(options: {
  apiUrl: string;
  clientId: string;
  accessToken: string;
  timeoutMs?: number;
}): Promise<IssuedToken> {
  const url = new URL(`${options.apiUrl.replace(/\/+$/, '')}/RenewToken`);
  return call(
    'GET',
    url,
    {
      'access-token': options.accessToken,
      dhanClientId: options.clientId,
      'client-id': options.clientId,
    },
    options.timeoutMs ?? 10_000,
  );
}

/** `POST /app/generateAccessToken?dhanClientId&pin&totp` on the auth host: a fresh token. */
export function generateAccessToken(options: {
  authUrl: string;
  clientId: string;
  pin: string;
  totp: string;
  timeoutMs?: number;
}): Promise<IssuedToken> {
  const url = new URL(`${options.authUrl.replace(/\/+$/, '')}/app/generateAccessToken`);
  url.searchParams.set('dhanClientId', options.clientId);
  url.searchParams.set('pin', options.pin);
  url.searchParams.set('totp', options.totp);
  return call('POST', url, {}, options.timeoutMs ?? 10_000);
}

/**
 * Whether DhanHQ takes a token: `GET /v2/profile` with it. Resolves on 2xx; rejects with the
 * classified DhanHQ error otherwise (auth for DH-901), or DhanNetworkError when unreachable.
 */
export async function verifyToken(options: {
  apiUrl: string;
  clientId: string;
  accessToken: string;
  timeoutMs?: number;
}): Promise<void> {
  const url = new URL(`${options.apiUrl.replace(/\/+$/, '')}/profile`);
  await send(
    'GET',
    url,
    { 'access-token': options.accessToken, 'client-id': options.clientId },
    options.timeoutMs ?? 10_000,
  );
}
