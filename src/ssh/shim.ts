// Set up before ssh2 loads.
import crypto, { type CipherKey, type KeyObject } from 'node:crypto';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

// ssh2 reads __dirname at load time, which an ESM bundle does not define.
const g = globalThis as { __filename?: string; __dirname?: string };
g.__filename ??= fileURLToPath(import.meta.url);
g.__dirname ??= dirname(g.__filename);

// ssh2 creates a cipher for every SSH packet, each time from the same key Buffer, and Node 24 turns
// a Buffer key into a KeyObject on every call: about 25 µs (bench/cipher-key.mjs), most of the
// tunnel's time in bulk transfers. One KeyObject per key is made once and reused (checked against the
// key's bytes, so a reused Buffer with new contents gets a new one). ssh2 captures these functions
// when it loads.
const keyObjects = new WeakMap<Buffer, { bytes: Buffer; key: KeyObject }>();
function keyObject(key: CipherKey): CipherKey {
  if (!Buffer.isBuffer(key)) return key;
  const cached = keyObjects.get(key);
  if (cached?.bytes.equals(key)) return cached.key;
  const made = { bytes: Buffer.from(key), key: crypto.createSecretKey(key) };
  keyObjects.set(key, made);
  return made.key;
}
for (const name of ['createCipheriv', 'createDecipheriv'] as const) {
  const original = crypto[name] as (algorithm: string, key: CipherKey, ...rest: unknown[]) => unknown;
  crypto[name] = ((algorithm: string, key: CipherKey, ...rest: unknown[]) =>
    original(algorithm, keyObject(key), ...rest)) as never;
}
