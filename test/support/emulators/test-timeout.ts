// setupFilesAfterEnv of the jest `cloud` project. Jest 30 ignores `testTimeout` inside a `projects` entry (only
// the root option and --testTimeout reach the test runner), so the cloud project's longer timeout is set here:
// 120 s, or more when --testTimeout asks for more (globalSetup passes the figure on).
jest.setTimeout(Number(process.env.GCS_EXPORT_TEST_TIMEOUT_MS) || 120_000);
