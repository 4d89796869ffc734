/** @type {import('jest').Config} */
const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
    // hyparquet-writer ships ES modules only: Node loads them with require(esm), Jest needs them compiled.
    '/node_modules/hyparquet(-writer)?/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' }, diagnostics: false },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(hyparquet|hyparquet-writer)/)'],
  setupFiles: ['<rootDir>/test/support/env.ts'],
};

/**
 * Unit-level suites that run a whole pipeline, a model or an outside tool, and so take seconds each: they run in
 * their own project, so that `npm run test:unit` (the unit project alone) stays a fast loop; `npm test` runs them all.
 */
const WHOLE = [
  '<rootDir>/test/unit/domain/lifecycle/lifecycle.model.test.ts',
  '<rootDir>/test/unit/domain/lifecycle/state-owner.test.ts',
  '<rootDir>/test/unit/domain/records/parse-record.test.ts',
  '<rootDir>/test/unit/domain/export/pipeline.test.ts',
  '<rootDir>/test/unit/domain/export/exact-export.test.ts',
  '<rootDir>/test/unit/domain/export/columnar-export.test.ts',
  '<rootDir>/test/unit/domain/health/escalation.test.ts',
  '<rootDir>/test/unit/cli/failure-demo.test.ts',
  '<rootDir>/test/unit/cli/main.test.ts',
  // Builds what Cloud Functions deploys: the worker thread exists only in a build.
  '<rootDir>/test/unit/adapters/threads/piscina-block-processor.test.ts',
];

/** @type {import('jest').Config} */
module.exports = {
  // Root level on purpose: Jest 30 ignores `testTimeout` inside a project entry (the cloud project raises it to
  // 120 s in its setupFilesAfterEnv).
  testTimeout: 60_000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      roots: ['<rootDir>/test/unit'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...WHOLE],
    },
    {
      ...shared,
      displayName: 'whole',
      roots: ['<rootDir>/test/unit'],
      testMatch: WHOLE,
    },
    {
      // Tests against the local Firestore and Pub/Sub emulators. Jest runs globalSetup only when a test of this
      // project is selected, so `jest test/unit` never starts Java. The root is test/ and testMatch picks the
      // folders, so a folder that does not exist yet (git keeps no empty ones) is not an error.
      ...shared,
      displayName: 'cloud',
      roots: ['<rootDir>/test'],
      testMatch: ['<rootDir>/test/{contract,integration,system}/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/emulators/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/emulators/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/emulators/test-timeout.ts'],
    },
  ],
};
