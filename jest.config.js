/** Unit specs live beside the code; end-to-end specs drive the app over HTTP under test/. */
const common = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testEnvironment: 'node',
};

module.exports = {
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/support/postgres-global-setup.js',
  projects: [
    { ...common, displayName: 'unit', rootDir: 'src', testRegex: '.*\\.spec\\.ts$' },
    { ...common, displayName: 'e2e', rootDir: 'test', testRegex: '.*\\.e2e-spec\\.ts$' },
    // The call console's browser code: its pure parts (state, timeline, JSON lines), under Node.
    {
      ...common,
      displayName: 'console',
      rootDir: 'console',
      testRegex: '.*\\.spec\\.ts$',
      transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/../tsconfig.json' }] },
    },
  ],
};
