import { describe, expect, test } from '@jest/globals';
import { repositoriesToClean } from '../../src/modes/teardown.js';

describe('repositoriesToClean: where a teardown deletes the pull request tags', () => {
  test('ecr-repository, and a granted repository whose image the preview ran; never one it only ran', () => {
    const config = { repository: 'todobackend', grantedRepositories: ['todobackend-proxy', 'unused'] };
    // The preview's services ran these (any image a stack file names).
    const ran = ['frontend', 'payments/api', 'todobackend', 'todobackend-proxy'];
    expect(repositoriesToClean(config, ran)).toEqual(['todobackend', 'todobackend-proxy']);
    expect(repositoriesToClean({ ...config, grantedRepositories: [] }, ran)).toEqual(['todobackend']);
  });
});
