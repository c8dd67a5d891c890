import { describe, expect, test } from '@jest/globals';
import { previewPort } from '../../src/config/pull-request.js';

describe('previewPort: PREVIEW_PORT', () => {
  test.each([
    [20000, 1, 20001],
    [20000, 42, 20042],
    [20000, 45535, 65535],
    // Past 65535 it wraps round to base + 1.
    [20000, 45536, 20001],
    [65534, 1, 65535],
    [65534, 2, 65535],
  ])('base %i, pull request %i: %i', (base, number, port) => {
    expect(previewPort(base, number)).toBe(port);
  });
});
