// Three tiers: unit specs beside the code, integration/e2e suites under test/.
// When TEST_DATABASE_URL is set the e2e tier runs a second time against PostgreSQL.
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

if (process.env.TEST_DATABASE_URL) {
  projects.push({
    ...base,
    displayName: 'e2e-postgres',
    testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    // The browser suites test the pages, which behave the same whatever the database: they run
    // once, on SQLite (the e2e project), not again here.
    testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/browser/'],
    globals: { __DATABASE_ENGINE__: 'postgres' },
  });
}

// Generous: an e2e hook boots the whole app (26,000-instrument master) and CI machines are shared;
// a limit is a hang detector here, never a speed claim (speed lives in bench/).
// Two workers on the two cores: most e2e time is waiting on sockets and timers, so a second
// suite in parallel shortens the run by far more than it slows the first.
// A worker runs many suites, and each leaves some of its module graph behind: a worker above
// 1.5 GB after a suite is replaced by a fresh one (a long-lived worker once ran out of heap).
module.exports = {
  projects,
  testTimeout: 120000,
  maxWorkers: 2,
  workerIdleMemoryLimit: '1536MB',
};
