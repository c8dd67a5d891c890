// ssh2 is CommonJS: a default import works under Node's native ESM as well as in the bundle.
import ssh2 from 'ssh2';
import { parseHostKeyPin, type HostKeyPin } from '../ssh/hostkey.js';
import { parsePort, type Inputs } from './inputs.js';
import type { SshConfig } from './types.js';

const HOST = /^[A-Za-z0-9.:-]+$/;

/**
 * SSH servers that share a port and a known_hosts input: the managers, or the jump host in front of
 * them. Each host's key is pinned.
 */
function readEndpoints(
  inputs: Inputs,
  names: { host: string; port: string; knownHosts: string },
  hosts: string[],
  knownHostsHint: string,
): { hosts: { host: string; hostKey: HostKeyPin }[]; port: number } {
  for (const host of hosts)
    if (!HOST.test(host)) inputs.problem(`${names.host} "${host}" is not a host name or IP address`);
  const portText = inputs.get(names.port);
  const port = parsePort(portText);
  if (port === undefined)
    inputs.problem(`${names.port} must be a TCP port number (1-65535), not "${portText}"`);
  const knownHosts = inputs.raw(names.knownHosts);
  if (!knownHosts.trim()) inputs.problem(`${names.knownHosts} is required${knownHostsHint}`);
  const pinned = hosts.map((host) => {
    let hostKey: HostKeyPin = { keys: [], fingerprints: [], keyTypes: [] };
    if (knownHosts.trim() && HOST.test(host) && port !== undefined) {
      try {
        hostKey = parseHostKeyPin(knownHosts, host, port);
      } catch (e) {
        inputs.problem(`${names.knownHosts} ${(e as Error).message}`);
      }
    }
    return { host, hostKey };
  });
  // A bad port is a problem already: the run stops before any connection.
  return { hosts: pinned, port: port ?? 0 };
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

/** The managers (tried in order), the key, the jump host when there is one, and how long to reconnect. */
export function readSsh(inputs: Inputs): SshConfig {
  inputs.required('ssh-host', 'the address of a Swarm manager');
  const listed = inputs.list('ssh-host');
  if (new Set(listed).size < listed.length)
    inputs.problem(`ssh-host names a manager twice: "${inputs.get('ssh-host')}"`);
  const { hosts: managers, port } = readEndpoints(
    inputs,
    { host: 'ssh-host', port: 'ssh-port', knownHosts: 'ssh-known-hosts' },
    listed,
    ': each manager\'s host key as a known_hosts line (ssh-keyscan HOST) or a "SHA256:..." fingerprint',
  );
  const user = inputs.get('ssh-user');
  const key = readKey(inputs);
  const jumpHost = inputs.get('ssh-jump-host');
  let jump: SshConfig['jump'];
  if (jumpHost) {
    const via = readEndpoints(
      inputs,
      { host: 'ssh-jump-host', port: 'ssh-jump-port', knownHosts: 'ssh-jump-known-hosts' },
      [jumpHost],
      " with ssh-jump-host: the jump host's key, as for ssh-known-hosts",
    );
    jump = { ...via.hosts[0], port: via.port, user: inputs.get('ssh-jump-user') || user };
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
  const reconnectTimeout = inputs.seconds('ssh-reconnect-timeout');
  return { managers, port, user, ...key, remoteSocket, jump, reconnectTimeout };
}
