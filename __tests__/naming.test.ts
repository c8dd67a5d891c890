import { describe, expect, test } from '@jest/globals';
import {
  commentMarker,
  lockName,
  previewStackName,
  previewTagPrefix,
  stackFilter,
  stackServiceName,
} from '../src/naming.js';

describe('naming', () => {
  test('stack services, filters and previews', () => {
    expect(stackServiceName('todobackend', 'migrate')).toBe('todobackend_migrate');
    expect(stackFilter('todobackend')).toEqual({ label: ['com.docker.stack.namespace=todobackend'] });
    expect(previewStackName('todobackend', 12)).toBe('todobackend-pr-12');
    expect(`${previewTagPrefix(12)}abc1234`).toBe('pr-12-abc1234');
    expect(commentMarker('todobackend-pr-12')).toBe('<!-- ecr-swarm-deploy preview todobackend-pr-12 -->');
  });

  test('lock names fit Swarm’s 64 characters', () => {
    expect(lockName('todobackend')).toBe('ecr-swarm-deploy-lock.todobackend');
    const long = lockName('x'.repeat(63));
    expect(long.length).toBeLessThanOrEqual(64);
    expect(long).not.toBe(lockName('y'.repeat(63)));
  });
});
