const tsJest = ['ts-jest', { useESM: true }];
const common = {
  preset: 'ts-jest/presets/default-esm',
  resolver: 'ts-jest-resolver',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': tsJest },
  extensionsToTreatAsEsm: ['.ts'],
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
