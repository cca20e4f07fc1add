/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The examples import the package by name, as users do.
  moduleNameMapper: { '^neonn$': '<rootDir>/lib/index.ts' },
  globalSetup: '<rootDir>/test/global-setup.js',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  // Native addons and jest's per-file module registry: load the addon once
  // per worker and never reset modules around it.
  resetModules: false,
  testTimeout: 60000,
  verbose: true,
};
