// ssh2 is CommonJS: a default import works under Node's native ESM as well as in the bundle.
import ssh2 from 'ssh2';
import { parseHostKeyPin, type HostKeyPin } from '../ssh/hostkey.js';
import type { Inputs } from './inputs.js';
import type { SshConfig } from './types.js';

const HOST = /^[A-Za-z0-9.:-]+$/;

/** An SSH server's address, port and pinned host key (the manager, or the jump host in front of it). */
function readEndpoint(
  inputs: Inputs,
  names: { host: string; port: string; knownHosts: string },
  host: string,
  knownHostsHint: string,
): { host: string; port: number; hostKey: HostKeyPin } {
  if (host && !HOST.test(host)) inputs.problem(`${names.host} "${host}" is not a host name or IP address`);
  const portText = inputs.get(names.port);
  const port = Number(portText);
  const portOk = /^\d+$/.test(portText) && port >= 1 && port <= 65535;
  if (!portOk) inputs.problem(`${names.port} must be a TCP port number (1-65535), not "${portText}"`);
  let hostKey: HostKeyPin = { keys: [], fingerprints: [], keyTypes: [] };
  const knownHosts = inputs.raw(names.knownHosts);
  if (!knownHosts.trim()) {
    inputs.problem(`${names.knownHosts} is required${knownHostsHint}`);
  } else if (host && HOST.test(host) && portOk) {
    try {
      hostKey = parseHostKeyPin(knownHosts, host, port);
    } catch (e) {
      inputs.problem(`${names.knownHosts} ${(e as Error).message}`);
    }
  }
  return { host, port, hostKey };
}

/** The private key, checked to be readable (with its passphrase) before anything connects. */
function readKey(inputs: Inputs): { privateKey: string; passphrase?: string } {
  const privateKey = inputs.raw('ssh-private-key').trim();
  const passphrase = inputs.raw('ssh-passphrase') || undefined;
  if (!privateKey) {
    inputs.problem(
      'ssh-private-key is required: the private key (PEM/OpenSSH text) of a user allowed on the manager',
    );
    return { privateKey, passphrase };
  }
  const parsed = ssh2.utils.parseKey(privateKey + '\n', passphrase);
  if (parsed instanceof Error) {
    const encrypted = /encrypted|passphrase/i.test(parsed.message);
    inputs.problem(
      encrypted
        ? `ssh-private-key is encrypted: ${passphrase ? 'ssh-passphrase is wrong' : 'set ssh-passphrase'}`
        : `ssh-private-key could not be read (${parsed.message}): paste the whole key, including its BEGIN/END lines`,
    );
  }
  return { privateKey, passphrase };
}

/** The manager, the key, and the jump host when there is one. */
export function readSsh(inputs: Inputs): Omit<SshConfig, 'reconnectTimeout'> {
  const manager = readEndpoint(
    inputs,
    { host: 'ssh-host', port: 'ssh-port', knownHosts: 'ssh-known-hosts' },
    inputs.required('ssh-host', 'the address of a Swarm manager'),
    ': the manager\'s host key as a known_hosts line (ssh-keyscan HOST) or a "SHA256:..." fingerprint',
  );
  const user = inputs.get('ssh-user');
  const key = readKey(inputs);
  const jumpHost = inputs.get('ssh-jump-host');
  let jump: SshConfig['jump'];
  if (jumpHost) {
    const via = readEndpoint(
      inputs,
      { host: 'ssh-jump-host', port: 'ssh-jump-port', knownHosts: 'ssh-jump-known-hosts' },
      jumpHost,
      " with ssh-jump-host: the jump host's key, as for ssh-known-hosts",
    );
    jump = { ...via, user: inputs.get('ssh-jump-user') || user };
  } else {
    // Only inputs without a default: the runner always sets ssh-jump-port.
    for (const name of ['ssh-jump-user', 'ssh-jump-known-hosts']) {
      if (inputs.get(name))
        inputs.problem(`${name} is set but ssh-jump-host is not: set ssh-jump-host, or remove ${name}`);
    }
  }
  const remoteSocket = inputs.get('remote-docker-socket');
  if (!remoteSocket.startsWith('/'))
    inputs.problem(`remote-docker-socket must be an absolute path, not "${remoteSocket}"`);
  return { ...manager, user, ...key, remoteSocket, jump };
}
