#!/usr/bin/env node
/*
 * Access-token verification (docs/BENCHMARKS.md, "Order placement"): every authenticated
 * request verifies its token, twice on the GraphQL HTTP path (the caller's identity for the
 * request brake, then the guard). Measured in process on the built TokenService, against the
 * same verification given the secret as a string (what the JWT library does when handed one:
 * it tries the string as a PEM public key first, then as a secret, on every call).
 *
 *   npx tsc -p tsconfig.build.json --outDir /tmp/token-dist
 *   TOKEN_DIST=/tmp/token-dist node bench/auth-token.bench.js [--verifications 5000]
 */
'use strict';

const { verify } = require('jsonwebtoken');
const { useBuild, arg, quick, percentile: pct, report, check } = require('./harness');

const build = useBuild('TOKEN_DIST');
const { TokenService } = build.load('src/auth/token.service.js');

const N = arg('verifications', quick ? 1_000 : 5_000);

function time(fn) {
  const out = [];
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  return out.sort((a, b) => a - b);
}

const secret = 'k'.repeat(48);
const config = {
  auth: { jwtSecret: secret, jwtIssuer: 'bench', jwtAudience: 'bench', accessTokenTtlSeconds: 900 },
};
const tokens = new TokenService(config);
const { token } = tokens.signAccessToken('user', 'USER', 'session', new Date());
const options = { algorithms: ['HS256'], issuer: 'bench', audience: 'bench' };

// Warm both paths, then alternate so load on the machine hits both alike.
time(() => tokens.verifyAccessToken(token));
time(() => verify(token, secret, options));
const rows = { keyObject: [], string: [] };
for (let round = 0; round < 3; round++) {
  rows.keyObject.push(...time(() => tokens.verifyAccessToken(token)));
  rows.string.push(...time(() => verify(token, secret, options)));
}
for (const list of Object.values(rows)) list.sort((a, b) => a - b);
const line = (name, list) =>
  `${name.padEnd(34)} p50 ${pct(list, 50).toFixed(1).padStart(7)} us  p99 ${pct(list, 99)
    .toFixed(1)
    .padStart(7)} us\n`;
process.stdout.write(
  `access-token verification, ${3 * N} each (node ${process.version})\n` +
    line('TokenService (key object)', rows.keyObject) +
    line('secret passed as a string', rows.string),
);
report('auth-token', {
  figures: {
    keyObjectUs: { p50: pct(rows.keyObject, 50), p99: pct(rows.keyObject, 99) },
    stringSecretUs: { p50: pct(rows.string, 50), p99: pct(rows.string, 99) },
  },
  checks: [check('token verification p50', pct(rows.keyObject, 50), '<=', 100, 'us')],
});
