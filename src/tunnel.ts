import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client, type ConnectConfig } from 'ssh2';
import { fingerprint, hostKeyAllowed } from './hostkey.js';
import type { SshConfig } from './inputs.js';

export interface Tunnel {
  /** The local end: a Unix socket in a private directory, forwarded to the manager's Docker socket. */
  socketPath: string;
  /** DOCKER_HOST value for the local end. */
  dockerHost: string;
  close(): Promise<void>;
}

const RSA_ALGORITHMS = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

/** Host key algorithms to ask for: those of the pinned keys, so the server shows one we can check. */
function hostKeyAlgorithms(keyTypes: string[]): string[] | undefined {
  if (keyTypes.length === 0) return undefined;
  return keyTypes.flatMap((t) => (t === 'ssh-rsa' ? RSA_ALGORITHMS : [t]));
}

function connect(ssh: SshConfig): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let presented: Buffer | undefined;
    const serverHostKey = hostKeyAlgorithms(ssh.hostKey.keyTypes);
    const config: ConnectConfig = {
      host: ssh.host,
      port: ssh.port,
      username: ssh.user,
      privateKey: ssh.privateKey,
      passphrase: ssh.passphrase,
      readyTimeout: 20_000,
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        presented = key;
        return hostKeyAllowed(ssh.hostKey, key);
      },
      ...(serverHostKey ? { algorithms: { serverHostKey: serverHostKey as never } } : {}),
    };
    const target = `${ssh.user}@${ssh.host}:${ssh.port}`;
    client.once('ready', () => {
      // Docker API calls are small request/response exchanges: Nagle's algorithm would hold each one back.
      client.setNoDelay(true);
      resolve(client);
    });
    let settled = false;
    client.once('ready', () => (settled = true));
    client.on('error', (err: Error & { level?: string }) => {
      client.end();
      if (settled) return; // after the handshake, a dropped connection shows up as failing docker calls
      settled = true;
      if (presented && !hostKeyAllowed(ssh.hostKey, presented)) {
        reject(
          new Error(
            `ssh-known-hosts: ${ssh.host} presented host key ${fingerprint(presented)}, which is not the pinned key; ` +
              'connection refused before authentication. If the manager was replaced, update ssh-known-hosts (ssh-keyscan).',
          ),
        );
      } else if (err.level === 'client-authentication') {
        reject(
          new Error(
            `ssh-private-key: ${target} did not accept the key (is its public key in authorized_keys for ${ssh.user}?)`,
          ),
        );
      } else if (!presented && serverHostKey && /no matching/i.test(err.message)) {
        reject(
          new Error(
            `ssh-known-hosts: ${ssh.host} offers no host key of the pinned type(s) ${ssh.hostKey.keyTypes.join(', ')}`,
          ),
        );
      } else {
        reject(new Error(`SSH connection to ${target} failed: ${err.message}`));
      }
    });
    client.connect(config);
  });
}

/**
 * Opens the SSH connection to the manager (host key pinned, keepalive on) and serves a local Unix
 * socket in `dir` (0700) whose every connection is forwarded to the remote Docker socket.
 */
export async function openTunnel(ssh: SshConfig, dir: string): Promise<Tunnel> {
  const client = await connect(ssh);
  const socketPath = path.join(dir, 'docker.sock');
  fs.rmSync(socketPath, { force: true });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((local) => {
    sockets.add(local);
    local.on('close', () => sockets.delete(local));
    local.on('error', () => local.destroy());
    client.openssh_forwardOutStreamLocal(ssh.remoteSocket, (err, remote) => {
      if (err) {
        local.destroy();
        return;
      }
      remote.on('error', () => local.destroy());
      local.pipe(remote).pipe(local);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  fs.chmodSync(socketPath, 0o600);
  let closed = false;
  return {
    socketPath,
    dockerHost: `unix://${socketPath}`,
    async close() {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      client.end();
      fs.rmSync(socketPath, { force: true });
    },
  };
}
