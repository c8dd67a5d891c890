import { describe, expect, test } from '@jest/globals';
import {
  commentMarker,
  imageName,
  lockName,
  previewStackName,
  previewTagPrefix,
  secretVariable,
  stackFilter,
  stackServiceName,
  versionedSecretName,
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

test('imageName', () => {
  expect(imageName('1.dkr.ecr.eu-west-1.amazonaws.com', 'a/b', 'abc1234')).toBe(
    '1.dkr.ecr.eu-west-1.amazonaws.com/a/b:abc1234',
  );
});

describe('stack secrets', () => {
  const secret = { name: 'secret_key', env: 'APP_SECRET_KEY', value: 'hunter2' };

  test('the stack file variable is the upper-case name with _SECRET', () => {
    expect(secretVariable('secret_key')).toBe('SECRET_KEY_SECRET');
    expect(secretVariable('db.password-2')).toBe('DB_PASSWORD_2_SECRET');
  });

  test('a value keeps its name; a new value, stack or deploy key gets a new one', () => {
    const name = versionedSecretName('todo', secret, 'key');
    expect(name).toMatch(/^todo_secret_key_[0-9a-f]{12}$/);
    expect(versionedSecretName('todo', secret, 'key')).toBe(name);
    expect(versionedSecretName('todo', { ...secret, value: 'hunter3' }, 'key')).not.toBe(name);
    expect(versionedSecretName('todo-pr-1', secret, 'key')).not.toBe(name.replace('todo', 'todo-pr-1'));
    expect(versionedSecretName('todo', secret, 'other key')).not.toBe(name);
  });

  test('the name does not contain a plain hash of the value', async () => {
    const { createHash } = await import('node:crypto');
    const plain = createHash('sha256').update('hunter2').digest('hex').slice(0, 12);
    expect(versionedSecretName('todo', secret, 'key')).not.toContain(plain);
  });
});
