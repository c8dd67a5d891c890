import { createHmac } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { fingerprint, hostKeyAllowed, parseHostKeyPin } from '../../src/ssh/hostkey.js';
import { makeKey } from '../helpers/sshkeys.js';

const a = makeKey();
const b = makeKey();

describe('parseHostKeyPin', () => {
  test.each([
    ['plain host, port 22', `manager.example.com ${a.line}`, 'manager.example.com', 22],
    ['bracketed host and port', `[10.1.2.3]:2222 ${a.line}`, '10.1.2.3', 2222],
    ['one of several host names', `alias,manager,10.0.0.5 ${a.line} comment`, 'manager', 22],
    ['bare key line', a.line, 'anything', 2200],
  ])('%s pins the key', (_name, text, host, port) => {
    const pin = parseHostKeyPin(text, host, port);
    expect(pin.keyTypes).toEqual(['ssh-ed25519']);
    expect(hostKeyAllowed(pin, a.blob)).toBe(true);
    expect(hostKeyAllowed(pin, b.blob)).toBe(false);
  });

  test('hashed known_hosts entries match the host they were made for', () => {
    const salt = Buffer.from('0123456789abcdef0123');
    const hash = createHmac('sha1', salt).update('[manager]:2222').digest('base64');
    const pin = parseHostKeyPin(`|1|${salt.toString('base64')}|${hash} ${a.line}`, 'manager', 2222);
    expect(hostKeyAllowed(pin, a.blob)).toBe(true);
    expect(() => parseHostKeyPin(`|1|${salt.toString('base64')}|${hash} ${a.line}`, 'other', 2222)).toThrow(
      /none for \[other\]:2222/,
    );
  });

  test('a fingerprint pins any key type, and only the matching key', () => {
    const pin = parseHostKeyPin(`# manager\n${fingerprint(a.blob)}\n`, 'manager', 22);
    expect(pin.keyTypes).toEqual([]);
    expect(hostKeyAllowed(pin, a.blob)).toBe(true);
    expect(hostKeyAllowed(pin, b.blob)).toBe(false);
  });

  test('lines for other hosts are skipped, and a file with none for this host is an error', () => {
    const text = `other ${b.line}\nmanager ${a.line}`;
    const pin = parseHostKeyPin(text, 'manager', 22);
    expect(pin.keys).toHaveLength(1);
    expect(hostKeyAllowed(pin, b.blob)).toBe(false);
    expect(() => parseHostKeyPin(`other ${b.line}`, 'manager', 22)).toThrow(
      'has 1 line(s), none for manager',
    );
  });

  test.each([
    ['', /is empty/],
    ['SHA256:tooshort', /not an OpenSSH SHA256 fingerprint/],
    ['manager ssh-ed25519', /is not a known_hosts line/],
    ['manager ssh-dss AAAAB3NzaC1kc3M=', /is not a known_hosts line/],
    ['manager ssh-ed25519 @@@@', /not valid base64/],
    [`manager ssh-rsa ${a.line.split(' ')[1]}`, /not valid base64 of a ssh-rsa key/],
    [`@cert-authority * ${a.line}`, /markers like @cert-authority are not supported/],
  ])('%j is rejected', (text, message) => {
    expect(() => parseHostKeyPin(text, 'manager', 22)).toThrow(message);
  });

  test('fingerprint() is what ssh-keygen -lf prints: SHA256 and unpadded base64', () => {
    expect(fingerprint(Buffer.from('abc'))).toBe('SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0');
  });
});

describe('parseHostKeyPin: what a user may paste', () => {
  test('ssh-host in other letter case than the known_hosts line (host names are case-insensitive)', () => {
    const pin = parseHostKeyPin(`manager.example.com ${a.line}`, 'Manager.Example.COM', 22);
    expect(hostKeyAllowed(pin, a.blob)).toBe(true);
    const salt = Buffer.from('0123456789abcdef0123');
    const hash = createHmac('sha1', salt).update('manager').digest('base64');
    expect(
      hostKeyAllowed(
        parseHostKeyPin(`|1|${salt.toString('base64')}|${hash} ${a.line}`, 'MANAGER', 22),
        a.blob,
      ),
    ).toBe(true);
  });

  test('"TYPE SHA256:..." pins a fingerprint and asks the server for that key type', () => {
    const pin = parseHostKeyPin(`ssh-ed25519 ${fingerprint(a.blob)}`, 'manager', 22);
    expect(pin.keyTypes).toEqual(['ssh-ed25519']);
    expect(hostKeyAllowed(pin, a.blob)).toBe(true);
    expect(hostKeyAllowed(pin, b.blob)).toBe(false);
  });

  test('a typed fingerprint with an unknown type is refused', () => {
    expect(() => parseHostKeyPin(`ssh-dss ${fingerprint(a.blob)}`, 'manager', 22)).toThrow(/line 1/);
  });
});
