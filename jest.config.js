// The AWS SDK warns once per process that its 2027 releases will need Node 22; tests run on this machine's Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // swc strips types without type-checking each file; `tsc --noEmit` checks the whole project once.
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testTimeout: 120000,
  // The examples import the package by its name, as its users do; here that is these sources.
  moduleNameMapper: {
    '^voiceplane$': '<rootDir>/lib/index.ts',
    '^voiceplane/topology$': '<rootDir>/lib/topology.ts',
    '^voiceplane/call-control$': '<rootDir>/runtime/call-control/index.ts',
    '^voiceplane/media-server$': '<rootDir>/runtime/media-server/index.ts',
    '^voiceplane/fleet-inventory$': '<rootDir>/runtime/upgrade/inventory/fleet-inventory.ts',
    '^voiceplane/freeswitch-simulator$': '<rootDir>/runtime/freeswitch-simulator/freeswitch-simulator.ts',
  },
};
