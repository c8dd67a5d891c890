import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestKey {
  privateKey: string;
  /** Raw public key blob, as a server presents it. */
  blob: Buffer;
  /** "ssh-ed25519 BASE64", the key part of a known_hosts line. */
  line: string;
}

/** A fresh OpenSSH key pair made by ssh-keygen, optionally encrypted with a passphrase. */
export function makeKey(passphrase = ''): TestKey {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'key-'));
  const file = path.join(dir, 'id');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'test', '-f', file]);
  const [type, data] = fs.readFileSync(`${file}.pub`, 'utf8').split(' ');
  const key = {
    privateKey: fs.readFileSync(file, 'utf8'),
    blob: Buffer.from(data, 'base64'),
    line: `${type} ${data}`,
  };
  fs.rmSync(dir, { recursive: true });
  return key;
}
