import { describe, expect, test } from '@jest/globals';
import {
  commentMarker,
  DIGEST,
  imageName,
  imageRepository,
  lockName,
  namesDigest,
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

const SHA256 = `sha256:${'ab'.repeat(32)}`;

test('imageRepository: the repository of a reference of this registry and tag, else none', () => {
  const registry = '1.dkr.ecr.eu-west-1.amazonaws.com';
  expect(imageRepository(`${registry}/a/b:abc1234`, registry, 'abc1234')).toBe('a/b');
  expect(imageRepository(`${registry}/a/b:other`, registry, 'abc1234')).toBeUndefined();
  expect(
    imageRepository('2.dkr.ecr.eu-west-1.amazonaws.com/a/b:abc1234', registry, 'abc1234'),
  ).toBeUndefined();
  expect(imageRepository(`${registry}/a/b:abc1234@${SHA256}`, registry, 'abc1234')).toBeUndefined();
  // Shorter than the registry and tag together: no repository, not a piece of either.
  expect(imageRepository(`${registry}:abc1234`, registry, 'abc1234')).toBeUndefined();
});

test('namesDigest: a reference that ends with @sha256 and 64 lower-case hex digits', () => {
  const digest = SHA256;
  expect(new RegExp(`^${DIGEST}$`).test(digest)).toBe(true);
  expect(namesDigest(`r/todo:abc@${digest}`)).toBe(true);
  expect(namesDigest(`r/todo@${digest}`)).toBe(true);
  expect(namesDigest(`r/todo:abc@${digest.slice(0, -1)}`)).toBe(false);
  expect(namesDigest(`r/todo:abc@${digest.toUpperCase()}`)).toBe(false);
  expect(namesDigest(`r/todo:abc@${digest}0`)).toBe(false);
  expect(namesDigest(digest)).toBe(false);
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
