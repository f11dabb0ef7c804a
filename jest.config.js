// Three tiers: unit specs beside the code, integration/e2e suites under test/.
// When TEST_DATABASE_URL is set the e2e suites that touch the database run again on PostgreSQL.
const base = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json', diagnostics: false }],
    // NestJS 12 and a few of its dependencies are ESM only; Jest 29 needs them as CommonJS.
    '^.+\\.m?js$': '<rootDir>/test/utils/esm-transform.cjs',
  },
  transformIgnorePatterns: ['\\.pnp\\.[^\\/]+$'],
  testEnvironment: 'node',
  rootDir: __dirname,
  moduleNameMapper: {
    '^@app/dhan-simulator(|/.*)$': '<rootDir>/libs/dhan-simulator/src$1',
    '^@app/dhan(|/.*)$': '<rootDir>/libs/dhan/src$1',
  },
};

const projects = [
  {
    ...base,
    displayName: 'unit',
    testMatch: [
      '<rootDir>/src/**/*.spec.ts',
      '<rootDir>/libs/**/*.spec.ts',
      '<rootDir>/eslint/**/*.spec.ts',
    ],
  },
  {
    ...base,
    displayName: 'e2e',
    testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    globalSetup: '<rootDir>/test/utils/web-bundle-setup.cjs',
  },
];

// Suites whose subject does not depend on the database engine: the protocol edges and fuzzing,
// the market-data path (ticks, chains, quotes live in memory), metrics, the broker client against
// the simulator. They run once, on SQLite. Everything that stores, recovers or coordinates through
// the database (orders, funds, users and sessions, watchlists, alerts, baskets, candles, the
// instrument master, day cycles, leadership) runs on both engines.
const DATABASE_INDEPENDENT = [
  '<rootDir>/test/browser/',
  '<rootDir>/test/dhan/',
  '<rootDir>/test/security-http\\.e2e',
  '<rootDir>/test/security-http-fuzz\\.e2e',
  '<rootDir>/test/security-http-memory\\.e2e',
  '<rootDir>/test/security-ws\\.e2e',
  '<rootDir>/test/security-ws-fuzz\\.e2e',
  '<rootDir>/test/introspection\\.e2e',
  '<rootDir>/test/hardening\\.e2e',
  '<rootDir>/test/error-logging\\.e2e',
  '<rootDir>/test/market-data\\.e2e',
  '<rootDir>/test/market-data-(admin|bad-ticks|capacity|eviction|faults|quota|rest)\\.e2e',
  '<rootDir>/test/market-status\\.e2e',
  '<rootDir>/test/option-chain-analytics\\.e2e',
  '<rootDir>/test/subscriptions\\.e2e',
  '<rootDir>/test/metrics-operations\\.e2e',
  // The order budget is in memory; its orders are stored as in orders.e2e, which runs on both.
  '<rootDir>/test/order-governor\\.e2e',
  '<rootDir>/test/readiness-warmup\\.e2e',
  '<rootDir>/test/readme-examples\\.e2e',
  // SQLite's safety levels; PostgreSQL's synchronous_commit is checked in commit-durability.spec.
  '<rootDir>/test/orders-durability\\.e2e',
];

if (process.env.TEST_DATABASE_URL) {
  projects.push({
    ...base,
    displayName: 'e2e-postgres',
    testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    testPathIgnorePatterns: ['/node_modules/', ...DATABASE_INDEPENDENT],
    globals: { __DATABASE_ENGINE__: 'postgres' },
  });
}

// Generous: an e2e hook boots the whole app (26,000-instrument master) and CI machines are shared;
// a limit is a hang detector here, never a speed claim (speed lives in bench/).
// Two workers on the two cores: most e2e time is waiting on sockets and timers, so a second
// suite in parallel shortens the run by far more than it slows the first. A third shortened a
// warm local run (jest 14.4 -> 12.2 min) but not a fresh clone's (859 s against 866 s: there
// the transform cache is cold and the run is CPU-bound), and it adds contention.
// A worker runs many suites, and each leaves some of its module graph behind: a worker above
// 1.5 GB after a suite is replaced by a fresh one (a long-lived worker once ran out of heap).
module.exports = {
  projects,
  testTimeout: 120000,
  maxWorkers: 2,
  workerIdleMemoryLimit: '1536MB',
};
