import { describe, expect, test } from '@jest/globals';
import { secretVariable, versionedSecretName } from '../src/naming.js';

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
