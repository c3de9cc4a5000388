// Jest's global set-up: one line, once per run, when the PostgreSQL tests will be skipped.
module.exports = async function postgresGlobalSetup() {
  if (!process.env.TEST_DATABASE_URL?.trim()) {
    process.stdout.write(
      '\nPostgreSQL tests skipped: TEST_DATABASE_URL is not set (e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test; .ci/run sets it)\n',
    );
  }
};
