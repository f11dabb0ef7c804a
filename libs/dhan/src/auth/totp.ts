import { createHmac } from 'node:crypto';

/** RFC 4648 base32 (the form authenticator apps show a TOTP secret in); spaces and padding ignored. */
export function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const index = alphabet.indexOf(ch);
    if (index < 0) throw new Error('TOTP secret is not base32');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export interface TotpOptions {
  /** Default 6 (DhanHQ's authenticator codes). */
  digits?: number;
  /** Time step, seconds. Default 30. */
  stepSeconds?: number;
  /** Default sha1. */
  algorithm?: 'sha1' | 'sha256' | 'sha512';
}

/** HOTP (RFC 4226) of a counter. */
export function hotp(key: Buffer, counter: bigint, digits = 6, algorithm = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(counter);
  const mac = createHmac(algorithm, key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code =
    ((mac[offset] & 0x7f) << 24) |
    (mac[offset + 1] << 16) |
    (mac[offset + 2] << 8) |
    mac[offset + 3];
  return String(code % 10 ** digits).padStart(digits, '0');
}

/** TOTP (RFC 6238) at an instant: HOTP of floor(unix seconds / step). */
export function totp(key: Buffer, epochMs: number, options: TotpOptions = {}): string {
  const step = options.stepSeconds ?? 30;
  const counter = BigInt(Math.floor(epochMs / 1000 / step));
  return hotp(key, counter, options.digits ?? 6, options.algorithm ?? 'sha1');
}
