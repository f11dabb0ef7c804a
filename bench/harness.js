'use strict';
// What the benchmark scripts share: the build they measure (dist/, or a folder named by an
// environment variable) with the @app aliases mapped as `nest build` maps them, command-line
// numbers, percentiles, a GraphQL POST, and the app booted on a temporary SQLite file.
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const crypto = require('node:crypto');
const Module = require('node:module');

const root = path.resolve(__dirname, '..');
let mappedDist;

/**
 * The build to measure: `process.env[distVariable]` when set (a build outside the tree, e.g.
 * `npx tsc -p tsconfig.build.json --outDir /tmp/x`), else dist/. Plain tsc leaves the path
 * aliases in the output, so they are mapped here; a build outside the tree finds its packages
 * in this repository.
 */
function useBuild(distVariable, dist = undefined) {
  const chosen = path.resolve(
    dist ?? ((distVariable && process.env[distVariable]) || path.join(root, 'dist')),
  );
  if (mappedDist === undefined) {
    mappedDist = chosen;
    const aliases = [
      ['@app/dhan-simulator', path.join(chosen, 'libs/dhan-simulator/src')],
      ['@app/dhan', path.join(chosen, 'libs/dhan/src')],
    ];
    const resolveFilename = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      for (const [alias, target] of aliases) {
        if (request === alias || request.startsWith(`${alias}/`)) {
          return resolveFilename.call(this, target + request.slice(alias.length), ...rest);
        }
      }
      try {
        return resolveFilename.call(this, request, ...rest);
      } catch (err) {
        if (request.startsWith('.') || path.isAbsolute(request)) throw err;
        return require.resolve(request, { paths: [root] });
      }
    };
  } else if (mappedDist !== chosen) {
    throw new Error(`one build per process: ${mappedDist} is mapped already`);
  }
  return { root, dist: chosen, load: (file) => require(path.join(chosen, file)) };
}

/** `--name value` from the command line, as a number; `fallback` when absent. */
function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** `npm run bench -- --quick` (or BENCH_QUICK): each benchmark's smallest point. */
const quick = Boolean(process.env.BENCH_QUICK) || process.argv.includes('--quick');

/** The p-th percentile (0-100) of an ascending array: nearest rank, floor. */
function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function gql(url, query, variables, token) {
  const r = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  }).then((res) => res.json());
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data;
}

/**
 * The whole app with its embedded simulator on a fresh SQLite file in a temporary folder,
 * listening on 127.0.0.1 at a free port, logging nothing, the per-user request rate lifted;
 * `env` adds environment settings and `configure` adjusts the resolved
 * configuration (market data, simulator options) before it boots. Returns the app, its URLs
 * and the admin's credentials.
 */
async function bootApp(
  build,
  { tmpPrefix = 'bench-', env = {}, configure = (config) => config } = {},
) {
  const pino = require('pino');
  const { createApp, connectionInfo } = build.load('src/bootstrap.js');
  const { validateConfig } = build.load('src/config/validate-config.js');
  const { resolveSecrets } = build.load('src/config/resolve-secrets.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
  const admin = { username: 'bench-admin', password: crypto.randomBytes(12).toString('hex') };
  const config = configure(
    resolveSecrets(
      validateConfig({
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        DATABASE_URL: `sqlite:${path.join(dir, 'bench.sqlite')}`,
        ADMIN_USERNAME: admin.username,
        ADMIN_PASSWORD: admin.password,
        HOST: '127.0.0.1',
        PORT: '0',
        // Latency is measured, not the per-user request brake.
        GRAPHQL_RATE_LIMIT: '1000000',
        ...env,
      }),
    ),
  );
  const app = await createApp(config, { logger: pino({ level: 'silent' }) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    admin,
    ...connectionInfo(app),
    async close() {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The admin's access token (and user id) through the login mutation. */
async function loginAdmin(booted) {
  const data = await gql(
    booted.graphqlUrl,
    'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken user { id } } }',
    { u: booted.admin.username, p: booted.admin.password },
  );
  return { token: data.login.accessToken, userId: data.login.user.id };
}

module.exports = { root, useBuild, arg, quick, percentile, gql, bootApp, loginAdmin };
