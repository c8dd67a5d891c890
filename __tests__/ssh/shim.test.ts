import crypto from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import '../../src/ssh/shim.js';

const encrypt = (key: crypto.CipherKey, iv: Buffer, text: string) => {
  const c = crypto.createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([c.update(text), c.final()]).toString('hex');
};

describe('cipher keys reused as KeyObjects', () => {
  const iv = Buffer.alloc(16, 1);

  test('a Buffer key encrypts exactly as its KeyObject does, and decrypts back', () => {
    const key = crypto.randomBytes(16);
    const sealed = encrypt(key, iv, 'hello swarm');
    expect(sealed).toBe(encrypt(crypto.createSecretKey(Buffer.from(key)), iv, 'hello swarm'));
    const d = crypto.createDecipheriv('aes-128-ctr', key, iv);
    expect(Buffer.concat([d.update(Buffer.from(sealed, 'hex')), d.final()]).toString()).toBe('hello swarm');
  });

  test('the same Buffer with new bytes gets the new key, not the cached one', () => {
    const key = Buffer.alloc(16, 2);
    const first = encrypt(key, iv, 'payload');
    key.fill(3);
    const second = encrypt(key, iv, 'payload');
    expect(second).not.toBe(first);
    expect(second).toBe(encrypt(Buffer.alloc(16, 3), iv, 'payload'));
  });
});
