const tsJest = ['ts-jest', { useESM: true }];
const common = {
  preset: 'ts-jest/presets/default-esm',
  resolver: 'ts-jest-resolver',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  extensionsToTreatAsEsm: ['.ts'],
  // The sandbox's state: a Swarm raft snapshot there ends in .snap, which jest would take for an obsolete
  // snapshot file of its own (and exit 1).
  modulePathIgnorePatterns: ['<rootDir>/e2e/.work/'],
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/__tests__/**/*.test.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/e2e/**/*.test.ts'],
      slowTestThreshold: 120,
      verbose: true,
    },
  ],
};
