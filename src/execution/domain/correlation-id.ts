import { createHash } from 'node:crypto';

/**
 * DhanHQ's correlationId: at most 25 characters of [A-Za-z0-9 _-] (DhanHQ v2: correlationId). A canonical
 * UUID (our order ids) is written as its 128 bits in base62, left-padded to 22 characters:
 * deterministic, injective (no two ids share one) and reversible, so reconciliation can map a
 * broker order back to ours. Any other string maps to "h" + 24 base62 characters of its SHA-256
 * (about 143 bits): deterministic and collision-resistant; its length, 25, never equals a
 * UUID's 22, so the two forms cannot collide with each other.
 */

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_WIDTH = 22;
const HASH_WIDTH = 24;

export const CORRELATION_ID_MAX_LENGTH = 25;
export const CORRELATION_ID_PATTERN = /^[A-Za-z0-9 _-]{1,25}$/;

export function correlationIdFor(orderId: string): string {
  if (UUID.test(orderId)) {
    return toBase62(BigInt(`0x${orderId.replace(/-/g, '')}`), UUID_WIDTH);
  }
  const digest = createHash('sha256').update(orderId, 'utf8').digest('hex');
  return `h${toBase62(BigInt(`0x${digest}`), HASH_WIDTH, true)}`;
}

/** The order id a UUID-form correlationId came from (lower case); `undefined` for other forms. */
export function orderIdFromCorrelationId(correlationId: string): string | undefined {
  if (correlationId.length !== UUID_WIDTH) return undefined;
  let value = 0n;
  for (const ch of correlationId) {
    const digit = ALPHABET.indexOf(ch);
    if (digit < 0) return undefined;
    value = value * 62n + BigInt(digit);
  }
  if (value >= 1n << 128n) return undefined;
  const hex = value.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Base62 digits of `value`, left-padded to `width`; with `truncate`, only the last `width`. */
function toBase62(value: bigint, width: number, truncate = false): string {
  let out = '';
  let rest = value;
  while (rest > 0n && (!truncate || out.length < width)) {
    out = ALPHABET[Number(rest % 62n)] + out;
    rest /= 62n;
  }
  return out.padStart(width, '0');
}
