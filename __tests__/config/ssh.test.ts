import { describe, expect, test } from '@jest/globals';
import { configStep } from '../helpers/config.js';
import { makeKey } from '../helpers/sshkeys.js';

// What config/ssh.ts decides, read through readConfig as a run reads it: the managers and their pinned
// host keys, the private key, the jump host and the remote docker socket.
const step = configStep('ssh-');
const { read, problems } = step;

describe('ssh inputs: one problem each', () => {
  test.each<[string, Record<string, string>, RegExp]>([
    ['missing ssh-host', { 'ssh-host': '' }, /^ssh-host is required/],
    ['bad ssh-port', { 'ssh-port': '70000' }, /^ssh-port must be a TCP port number/],
    ['missing key', { 'ssh-private-key': '' }, /^ssh-private-key is required/],
    ['garbage key', { 'ssh-private-key': 'not a key' }, /^ssh-private-key could not be read/],
    ['missing known hosts', { 'ssh-known-hosts': '' }, /^ssh-known-hosts is required/],
    [
      'malformed known hosts',
      { 'ssh-known-hosts': 'manager.example.com ssh-ed25519' },
      /^ssh-known-hosts line 1 is not a known_hosts line/,
    ],
    [
      'known hosts for another host',
      {
        'ssh-known-hosts':
          'other ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3yfnvh2zFxkq0OIZ5lYtKoEWs0zxfM4V9CXuR+q0Lp',
      },
      /none for manager.example.com/,
    ],
    [
      'relative socket',
      { 'remote-docker-socket': 'docker.sock' },
      /^remote-docker-socket must be an absolute path/,
    ],
    [
      'a host that is no host name',
      { 'ssh-host': 'manager_1' },
      /^ssh-host "manager_1" is not a host name or IP address$/,
    ],
  ])('%s', (_name, overrides, message) => {
    const found = problems(overrides);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });
});

describe('the managers', () => {
  test('ssh-host may list several managers, each pinned, tried in order', () => {
    const second = makeKey();
    const c = read({
      'ssh-host': 'manager.example.com, manager2.example.com',
      'ssh-known-hosts': `${step.inputs['ssh-known-hosts']}\nmanager2.example.com ${second.line}`,
    });
    expect(c.ssh.managers.map((m) => m.host)).toEqual(['manager.example.com', 'manager2.example.com']);
    expect(c.ssh.managers[1].hostKey.keys).toEqual([second.blob]);
    expect(problems({ 'ssh-host': 'manager.example.com\nmanager3.example.com' })).toEqual([
      expect.stringMatching(/^ssh-known-hosts .*manager3\.example\.com/),
    ]);
    expect(problems({ 'ssh-host': 'manager.example.com, manager.example.com' })).toEqual([
      'ssh-host names a manager twice: "manager.example.com, manager.example.com"',
    ]);
  });
});

describe('the private key', () => {
  test('an encrypted key needs its passphrase', () => {
    const encrypted = makeKey('correct horse');
    expect(problems({ 'ssh-private-key': encrypted.privateKey })).toEqual([
      'ssh-private-key is encrypted: set ssh-passphrase',
    ]);
    expect(problems({ 'ssh-private-key': encrypted.privateKey, 'ssh-passphrase': 'wrong' })).toEqual([
      'ssh-private-key is encrypted: ssh-passphrase is wrong',
    ]);
    expect(
      read({ 'ssh-private-key': encrypted.privateKey, 'ssh-passphrase': 'correct horse' }).ssh.passphrase,
    ).toBe('correct horse');
  });
});

describe('the jump host', () => {
  test('a jump host: its own pinned key, the same key by default for its user', () => {
    const bastion = makeKey();
    const c = read({
      'ssh-jump-host': 'bastion.example.com',
      'ssh-jump-known-hosts': `bastion.example.com ${bastion.line}`,
    });
    expect(c.ssh.jump).toMatchObject({ host: 'bastion.example.com', port: 22, user: 'docker' });
    expect(c.ssh.jump?.hostKey.keys[0]).toEqual(bastion.blob);
    expect(c.ssh.reconnectTimeout).toBe(60);
    expect(problems({ 'ssh-jump-host': 'bastion.example.com' })).toEqual([
      expect.stringMatching(/^ssh-jump-known-hosts is required with ssh-jump-host/),
    ]);
    expect(problems({ 'ssh-jump-user': 'ec2-user' })).toEqual([
      'ssh-jump-user is set but ssh-jump-host is not: set ssh-jump-host, or remove ssh-jump-user',
    ]);
    expect(problems({ 'ssh-jump-host': 'bastion', 'ssh-jump-known-hosts': `other ${bastion.line}` })).toEqual(
      [expect.stringMatching(/^ssh-jump-known-hosts has 1 line\(s\), none for bastion/)],
    );
  });

  test('its own port and user, pinned on that port', () => {
    const bastion = makeKey();
    const c = read({
      'ssh-jump-host': 'bastion.example.com',
      'ssh-jump-port': '2200',
      'ssh-jump-user': 'ec2-user',
      'ssh-jump-known-hosts': `[bastion.example.com]:2200 ${bastion.line}`,
    });
    expect(c.ssh.jump).toMatchObject({ host: 'bastion.example.com', port: 2200, user: 'ec2-user' });
    expect(c.ssh.jump?.hostKey.keys).toEqual([bastion.blob]);
    expect(c.ssh).toMatchObject({ port: 22, user: 'docker' });
    expect(
      problems({
        'ssh-jump-host': 'bastion.example.com',
        'ssh-jump-port': '0',
        'ssh-jump-known-hosts': `bastion.example.com ${bastion.line}`,
      }),
    ).toEqual(['ssh-jump-port must be a TCP port number (1-65535), not "0"']);
    expect(problems({ 'ssh-jump-known-hosts': `bastion.example.com ${bastion.line}` })).toEqual([
      'ssh-jump-known-hosts is set but ssh-jump-host is not: set ssh-jump-host, or remove ssh-jump-known-hosts',
    ]);
  });
});
