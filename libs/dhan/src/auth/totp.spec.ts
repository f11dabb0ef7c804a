import { base32Decode, totp } from './totp';

describe('TOTP (RFC 6238 appendix B test vectors)', () => {
  // The RFC's seeds: the ASCII digits repeated to the hash's key length.
  const sha1 = Buffer.from('12345678901234567890', 'ascii');
  const sha256 = Buffer.from('12345678901234567890123456789012', 'ascii');
  const sha512 = Buffer.from(
    '1234567890123456789012345678901234567890123456789012345678901234',
    'ascii',
  );
  const vectors: Array<[number, string, string, string]> = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];

  it.each(vectors)('T=%d', (seconds, s1, s256, s512) => {
    const at = seconds * 1000;
    expect(totp(sha1, at, { digits: 8 })).toBe(s1);
    expect(totp(sha256, at, { digits: 8, algorithm: 'sha256' })).toBe(s256);
    expect(totp(sha512, at, { digits: 8, algorithm: 'sha512' })).toBe(s512);
  });

  it('defaults to 6 digits, SHA-1, 30 s steps (the last 6 digits of the 8-digit code)', () => {
    expect(totp(sha1, 59_000)).toBe('287082');
    expect(totp(sha1, 1_111_111_109_000)).toBe('081804');
    // same step, same code; the next step, another code
    expect(totp(sha1, 30_000)).toBe(totp(sha1, 59_999));
    expect(totp(sha1, 60_000)).not.toBe(totp(sha1, 59_999));
  });

  it('reads a base32 secret as authenticator apps show it', () => {
    // "12345678901234567890" in base32
    expect(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')).toEqual(sha1);
    expect(base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq')).toEqual(sha1);
    expect(() => base32Decode('not base32!')).toThrow('base32');
  });
});
