/** What kind of failure a DhanHQ error is, for retry and reporting decisions (DhanHQ v2: order errors, error bodies). */
export type DhanErrorCategory =
  | 'auth'
  | 'access'
  | 'account'
  | 'rate-limited'
  | 'input'
  | 'order-rejected'
  | 'not-found'
  | 'data'
  | 'server'
  | 'network'
  | 'ambiguous'
  | 'unknown';

/** Base of every error the DhanHQ client throws. */
export class DhanError extends Error {
  constructor(
    message: string,
    readonly category: DhanErrorCategory,
    /** True when sending the same request again is safe and may succeed. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** DhanHQ answered with an error body or status. */
export class DhanApiError extends DhanError {
  constructor(
    message: string,
    category: DhanErrorCategory,
    /** `DH-9xx` for trading APIs, the numeric string (e.g. `808`) for data APIs. */
    readonly errorCode: string | undefined,
    readonly httpStatus: number,
    readonly errorType: string | undefined,
  ) {
    super(message, category, category === 'rate-limited' || category === 'server');
  }
}

/**
 * The request left, and no answer came (timeout, reset). The broker may or may not have acted:
 * an order must be resolved by looking it up (by correlationId), never blindly resent.
 */
export class DhanAmbiguousError extends DhanError {
  constructor(
    message: string,
    readonly method: string,
    readonly path: string,
    readonly causeCode: string | undefined,
  ) {
    // Repeating a read is harmless; repeating a write (an order) is not.
    super(message, 'ambiguous', method === 'GET');
  }
}

/** The request never left (connection refused, DNS, connect timeout): safe to retry. */
export class DhanNetworkError extends DhanError {
  constructor(
    message: string,
    readonly causeCode: string | undefined,
  ) {
    super(message, 'network', true);
  }
}

/** Refused locally by the client-side rate limiter; nothing was sent. */
export class DhanRateLimitError extends DhanError {
  readonly code = 'RATE_LIMITED';
  constructor(
    readonly family: string,
    readonly retryAfterMs: number,
  ) {
    super(
      `client-side rate limit for ${family}; retry in ${retryAfterMs} ms`,
      'rate-limited',
      true,
    );
  }
}

const BY_CODE: Readonly<Record<string, DhanErrorCategory>> = {
  'DH-901': 'auth',
  'DH-902': 'access',
  'DH-903': 'account',
  'DH-904': 'rate-limited',
  'DH-905': 'input',
  'DH-906': 'order-rejected',
  'DH-907': 'data',
  'DH-908': 'server',
  'DH-909': 'server',
  'DH-910': 'unknown',
  'DH-911': 'access',
  // Data-API codes (DhanHQ v2: feed disconnect codes), seen in `{"data":{"808":"..."},"status":"failed"}`.
  '800': 'server',
  '804': 'input',
  '805': 'rate-limited',
  '806': 'access',
  '807': 'auth',
  '808': 'auth',
  '809': 'auth',
  '810': 'auth',
  '811': 'input',
  '812': 'input',
  '813': 'input',
  '814': 'input',
};

function byStatus(status: number): DhanErrorCategory {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate-limited';
  if (status === 404) return 'not-found';
  if (status >= 400 && status < 500) return 'input';
  if (status >= 500) return 'server';
  return 'unknown';
}

export interface ParsedErrorBody {
  errorCode?: string;
  errorType?: string;
  errorMessage?: string;
}

/** Reads both error shapes: `{errorType, errorCode, errorMessage}` and `{data: {"808": "..."}, status: "failed"}`. */
export function parseErrorBody(body: unknown): ParsedErrorBody {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const str = (v: unknown): string | undefined =>
    typeof v === 'string' && v !== '' ? v : undefined;
  const code =
    str(b.errorCode) ?? (typeof b.errorCode === 'number' ? String(b.errorCode) : undefined);
  if (code || b.errorMessage || b.errorType) {
    return { errorCode: code, errorType: str(b.errorType), errorMessage: str(b.errorMessage) };
  }
  if (typeof b.data === 'object' && b.data !== null && !Array.isArray(b.data)) {
    const entries = Object.entries(b.data as Record<string, unknown>);
    const first = entries.find(([k]) => /^\d{3}$/.test(k));
    if (first) return { errorCode: first[0], errorMessage: str(first[1]) };
  }
  return {};
}

/** Classifies by the body's `errorCode` first and the HTTP status second (DhanHQ v2: error bodies). */
export function classifyDhanError(status: number, body: unknown): DhanApiError {
  const parsed = parseErrorBody(body);
  let category: DhanErrorCategory | undefined = parsed.errorCode
    ? BY_CODE[parsed.errorCode]
    : undefined;
  if (parsed.errorCode === 'DH-906') {
    if (/invalid token/i.test(parsed.errorMessage ?? '')) category = 'auth';
    else if (status === 404) category = 'not-found';
  }
  category ??= byStatus(status);
  const message = parsed.errorMessage ?? `DhanHQ request failed with HTTP ${status}`;
  return new DhanApiError(
    parsed.errorCode ? `${parsed.errorCode}: ${message}` : message,
    category,
    parsed.errorCode,
    status,
    parsed.errorType,
  );
}
