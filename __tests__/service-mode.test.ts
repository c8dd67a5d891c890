import { describe, expect, test } from '@jest/globals';
import { isJobMode } from '../src/service-mode.js';

describe('isJobMode', () => {
  test.each([
    ['replicated-job', true],
    ['global-job', true],
    ['ReplicatedJob', true],
    ['GlobalJob', true],
    ['replicated', false],
    ['global', false],
    ['Replicated', false],
    ['Global', false],
    [undefined, false],
  ])('mode %s: a job is %s', (mode, job) => {
    expect(isJobMode(mode)).toBe(job);
  });
});
